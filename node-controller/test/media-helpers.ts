// Real RTP without a browser: a participant's send transport is a
// PlainTransport (comedia) attached to it, its producer is created through
// POST /rtc/producers as usual, and a UDP socket sends Opus-shaped RTP with
// the ssrc-audio-level header extension (RFC 6464) every 20 ms, like a
// browser's microphone track.
import dgram from 'node:dgram';
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { api, type Peer } from './helpers';

export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const AUDIO_LEVEL_ID = 1;

export async function plainSendTransport(app: FastifyInstance, callId: string, userId: string): Promise<types.PlainTransport> {
  const room = app.rooms.get(callId)!;
  const plain = await room.router!.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true, appData: { userId },
  });
  room.participants.get(userId)!.addTransport({ transport: plain as unknown as types.WebRtcTransport, direction: 'send', connected: true });
  return plain;
}

let nextSsrc = 50_000;

/** RTC-04 of an Opus producer with the audio level extension on a plain transport -> its SSRC. */
export async function produceOpus(app: FastifyInstance, peer: Peer, transportId: string, opts: { audioLevel?: boolean } = {}): Promise<{ ssrc: number; producerId: string }> {
  const ssrc = nextSsrc++;
  const rtpParameters: types.RtpParameters = {
    mid: String(ssrc),
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: opts.audioLevel === false ? [] : [{ uri: AUDIO_LEVEL_URI as types.RtpHeaderExtensionUri, id: AUDIO_LEVEL_ID, encrypt: false, parameters: {} }],
    encodings: [{ ssrc }],
    rtcp: { cname: `c${ssrc}`, reducedSize: true },
  };
  const r = await api(app, 'POST', '/rtc/producers', peer.tok, { callId: peer.callId, transportId, kind: 'audio', rtpParameters });
  if (r.status !== 201) throw new Error(`produce: ${r.status} ${JSON.stringify(r.body)}`);
  return { ssrc, producerId: r.body.producerId };
}

/** One RTP packet: 12-byte header, the one-byte-header extension with the audio level, 40 bytes of payload. */
export function rtpPacket(ssrc: number, seq: number, level = 40): Buffer {
  const b = Buffer.alloc(12 + 8 + 40, 0xab);
  b[0] = 0x90; // V=2, X=1
  b[1] = 111;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(1, 14); // one 32-bit word of elements
  b[16] = (AUDIO_LEVEL_ID << 4) | 0; // id 1, length 1
  b[17] = 0x80 | level; // voice activity + level (-dBov)
  b[18] = 0;
  b[19] = 0;
  return b;
}

/** A microphone: one packet every 20 ms to a plain transport while started. */
export class RtpSender {
  readonly sock = dgram.createSocket('udp4');
  private timer?: NodeJS.Timeout;
  private seq = 1;
  /** Date.now() of the first and the last packet sent. */
  firstAt?: number;
  lastAt?: number;
  sent = 0;

  constructor(private readonly plain: types.PlainTransport, readonly ssrc: number) {}

  start(): void {
    if (this.timer) return;
    const send = () => {
      this.sock.send(rtpPacket(this.ssrc, this.seq++), this.plain.tuple.localPort, '127.0.0.1');
      this.lastAt = Date.now();
      this.firstAt ??= this.lastAt;
      this.sent++;
    };
    send();
    this.timer = setInterval(send, 20);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.sock.close();
  }
}
