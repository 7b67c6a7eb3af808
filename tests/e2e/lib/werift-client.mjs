// A second, independent WebRTC client stack: werift (ICE, DTLS, SRTP, SDP
// written in TypeScript, nothing shared with Chromium's libwebrtc) talking to
// mediasoup WebRtcTransports through a small SDP bridge, which does for one
// audio m-line what mediasoup-client does for browsers:
//   send: werift offers (sendonly Opus); the bridge answers with the server
//         transport's ICE-lite/DTLS parameters; the produce() parameters come
//         from werift's offer (payload type, SSRC, CNAME, MID).
//   recv: the bridge offers the consumer's parameters (sendonly from the
//         server side); werift answers; DTLS role and fingerprint come from
//         werift's answer.
import { e2eRequire } from './common.mjs';

const werift = e2eRequire('werift');
const { RTCPeerConnection, MediaStreamTrack, RTCRtpCodecParameters, RtpPacket, RtpHeader } = werift;

export const OPUS_PT = 111;

function peerConfig() {
  return {
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'], // loopback is skipped by default
    iceUseIpv6: false,
    iceUseTcp: false,
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PT })],
      video: [],
    },
    headerExtensions: { audio: [], video: [] },
  };
}

/** The lines of one SDP section: {session:[...], media:[[...], ...]}. */
function splitSdp(sdp) {
  const lines = sdp.split(/\r?\n/).filter(Boolean);
  const out = { session: [], media: [] };
  for (const l of lines) {
    if (l.startsWith('m=')) out.media.push([l]);
    else if (out.media.length) out.media[out.media.length - 1].push(l);
    else out.session.push(l);
  }
  return out;
}

function attr(lines, name) {
  const prefix = `a=${name}:`;
  const l = lines.find((x) => x.startsWith(prefix));
  return l ? l.slice(prefix.length) : undefined;
}

/** werift's local description -> {fingerprints, setup, mid, ssrc, cname}. */
export function readLocalSdp(sdp) {
  const { session, media } = splitSdp(sdp);
  const m = media[0];
  if (!m) throw new Error('werift SDP has no m-line');
  const fps = [...session, ...m].filter((l) => l.startsWith('a=fingerprint:'))
    .map((l) => l.slice('a=fingerprint:'.length).split(' '))
    .map(([algorithm, value]) => ({ algorithm: algorithm.toLowerCase(), value: value.toUpperCase() }));
  if (!fps.length) throw new Error('werift SDP has no a=fingerprint');
  const ssrcLine = m.find((l) => l.startsWith('a=ssrc:') && l.includes(' cname:'));
  return {
    fingerprints: fps,
    setup: attr(m, 'setup') ?? attr(session, 'setup'),
    mid: attr(m, 'mid'),
    ssrc: ssrcLine ? Number(ssrcLine.slice(7).split(' ')[0]) : undefined,
    cname: ssrcLine ? ssrcLine.split(' cname:')[1] : undefined,
  };
}

/** Session + transport lines of an SDP built from a server transport's parameters. */
function serverSdp({ iceParameters, iceCandidates, dtlsParameters }, { setup, mid, direction, mLine, rtpLines }) {
  const fp = dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? dtlsParameters.fingerprints[0];
  const cands = iceCandidates.filter((c) => c.protocol === 'udp');
  return [
    'v=0',
    `o=sfu-e2e ${Date.now()} 1 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mid}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:${fp.algorithm} ${fp.value}`,
    mLine,
    'c=IN IP4 127.0.0.1',
    `a=mid:${mid}`,
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=ice-ufrag:${iceParameters.usernameFragment}`,
    `a=ice-pwd:${iceParameters.password}`,
    ...cands.map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address ?? c.ip} ${c.port} typ host`),
    'a=end-of-candidates',
    `a=setup:${setup}`,
    ...rtpLines,
    '',
  ].join('\r\n');
}

/** The DTLS role the server must take, given the client's a=setup. */
function serverRole(clientSetup) {
  // mediasoup's connect() wants the remote (client) role.
  if (clientSetup === 'active') return 'client';
  if (clientSetup === 'passive') return 'server';
  throw new Error(`unexpected a=setup:${clientSetup} from werift`);
}

/**
 * Sending client. -> { pc, connectParams, rtpParameters, start(frames), stop(), sent }
 * `signal` is { createTransport(), connect(id, dtlsParameters), produce(id, kind, rtpParameters) }.
 */
export async function createSender(transportParams, { onState } = {}) {
  const pc = new RTCPeerConnection(peerConfig());
  pc.iceConnectionStateChange.subscribe((s) => onState?.(`send ice ${s}`));
  pc.connectionStateChange.subscribe((s) => onState?.(`send connection ${s}`));
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendonly' });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const local = readLocalSdp(pc.localDescription.sdp);
  const answer = serverSdp(transportParams, {
    setup: 'passive', // werift offers actpass; the server answers passive, so werift is the DTLS client
    mid: local.mid,
    direction: 'recvonly',
    mLine: `m=audio 9 UDP/TLS/RTP/SAVPF ${OPUS_PT}`,
    rtpLines: [`a=rtpmap:${OPUS_PT} opus/48000/2`, `a=fmtp:${OPUS_PT} minptime=10;useinbandfec=1`],
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  const connectParams = { role: serverRole('active'), fingerprints: local.fingerprints };
  const rtpParameters = {
    mid: local.mid,
    codecs: [{
      mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [],
    }],
    headerExtensions: [],
    encodings: [{ ssrc: local.ssrc }],
    rtcp: { cname: local.cname ?? 'werift', reducedSize: true },
  };
  if (!local.ssrc) throw new Error(`no a=ssrc in werift's offer:\n${pc.localDescription.sdp}`);

  const sender = { pc, connectParams, rtpParameters, sent: 0, timer: null, localSdp: pc.localDescription.sdp, remoteSdp: answer };
  /** Sends the given Opus payloads in a loop, one every 20 ms, as RTP. */
  sender.start = (frames) => {
    let seq = Math.floor(Math.random() * 65536);
    let ts = Math.floor(Math.random() * 2 ** 32);
    let i = 0;
    const t0 = Date.now();
    const tick = () => {
      // Catch up on timer lag so the stream stays at 50 packets/s.
      const due = Math.floor((Date.now() - t0) / 20) + 1;
      while (sender.sent < due) {
        const header = new RtpHeader({ payloadType: OPUS_PT, sequenceNumber: seq, timestamp: ts, ssrc: local.ssrc, marker: i === 0 });
        track.writeRtp(new RtpPacket(header, frames[i % frames.length]));
        seq = (seq + 1) & 0xffff;
        ts = (ts + 960) >>> 0;
        i++;
        sender.sent++;
      }
    };
    sender.timer = setInterval(tick, 20);
  };
  sender.stop = async () => {
    clearInterval(sender.timer);
    await pc.close();
  };
  return sender;
}

/**
 * Receiving client for one consumer ({id, kind, rtpParameters}).
 * -> { pc, connectParams, packets: [{t, seq, ts, ssrc, pt, payload}], close() }
 */
export async function createReceiver(transportParams, consumer, { onState } = {}) {
  const pc = new RTCPeerConnection(peerConfig());
  pc.iceConnectionStateChange.subscribe((s) => onState?.(`recv ice ${s}`));
  pc.connectionStateChange.subscribe((s) => onState?.(`recv connection ${s}`));
  const codec = consumer.rtpParameters.codecs[0];
  const enc = consumer.rtpParameters.encodings[0];
  const cname = consumer.rtpParameters.rtcp?.cname ?? 'sfu';
  const mid = consumer.rtpParameters.mid ?? '0';
  const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${v}`).join(';');
  const offer = serverSdp(transportParams, {
    setup: 'actpass',
    mid,
    direction: 'sendonly',
    mLine: `m=audio 9 UDP/TLS/RTP/SAVPF ${codec.payloadType}`,
    rtpLines: [
      `a=rtpmap:${codec.payloadType} opus/${codec.clockRate}/${codec.channels ?? 2}`,
      ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
      `a=ssrc:${enc.ssrc} cname:${cname}`,
      `a=ssrc:${enc.ssrc} msid:sfu-e2e ${consumer.id}`,
      `a=msid:sfu-e2e ${consumer.id}`,
    ],
  });
  const packets = [];
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      packets.push({
        t: Date.now(), seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp,
        ssrc: rtp.header.ssrc, pt: rtp.header.payloadType, payload: Buffer.from(rtp.payload),
      });
    });
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  const local = readLocalSdp(pc.localDescription.sdp);
  const connectParams = { role: serverRole(local.setup), fingerprints: local.fingerprints };
  return {
    pc, connectParams, packets, localSdp: pc.localDescription.sdp, remoteSdp: offer,
    close: () => pc.close(),
  };
}

/** The receiving side's RTP capabilities (what consume() gets): Opus only. */
export const recvRtpCapabilities = {
  codecs: [{
    kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2,
    parameters: {}, rtcpFeedback: [],
  }],
  headerExtensions: [],
};
