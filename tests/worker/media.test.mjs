// Media path tests driven through the unmodified mediasoup 3.27.1 library:
// RTP and RTCP through PlainTransports to plain UDP sockets, SRTP between two
// transports of the worker itself, NACK/RTX, key frame requests and gating,
// pause continuity, and cleanup (no objects, no sockets left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot, workerBin } from './wire.mjs';

const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

function rtp({ pt, seq, ts, ssrc, payload, marker = false }) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

function parseRtp(b) {
  let off = 12 + (b[0] & 0x0f) * 4;
  let extensions = null;
  if (b[0] & 0x10) {
    const words = b.readUInt16BE(off + 2);
    extensions = { profile: b.readUInt16BE(off), data: b.subarray(off + 4, off + 4 + words * 4) };
    off += 4 + words * 4;
  }
  return { pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), extensions, payload: b.subarray(off) };
}

const isRtcp = (b) => b.length >= 2 && b[1] >= 192 && b[1] <= 223;

function nack(senderSsrc, mediaSsrc, pid) {
  const b = Buffer.alloc(16);
  b[0] = 0x81; // FMT 1
  b[1] = 205;
  b.writeUInt16BE(3, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  b.writeUInt16BE(pid, 12);
  b.writeUInt16BE(0, 14);
  return b;
}

function pli(senderSsrc, mediaSsrc) {
  const b = Buffer.alloc(12);
  b[0] = 0x81; // FMT 1
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  return b;
}

// VP8 payload: descriptor (S=1, partition 0) + 3-byte frame header (P bit = 0: key frame).
const vp8 = (key) => Buffer.from([0x10, key ? 0x00 : 0x01, 0x00, 0x00, 0x9d, 0x01, 0x2a, 1, 2, 3]);

async function udpSocket() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  s.packets = [];
  s.rtcp = [];
  s.on('message', (m) => (isRtcp(m) ? s.rtcp : s.packets).push(m));
  return s;
}

function socketCount(pid) {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {}
  }
  return n;
}

async function setup() {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs });
  return { worker, router };
}

async function plainPair(router, kind, { ssrc, pt }) {
  const codec = router.rtpCapabilities.codecs.find((c) => c.kind === kind && !/rtx/.test(c.mimeType));
  const sender = await udpSocket();
  const receiver = await udpSocket();
  const recvTransport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await recvTransport.produce({
    kind,
    rtpParameters: {
      codecs: [{ mimeType: codec.mimeType, payloadType: pt, clockRate: codec.clockRate, channels: codec.channels, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
      encodings: [{ ssrc }],
    },
  });
  const sendTransport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  await sendTransport.connect({ ip: '127.0.0.1', port: receiver.address().port });
  const consumer = await sendTransport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
  return { sender, receiver, recvTransport, sendTransport, producer, consumer };
}

test('RTP is forwarded with the consumer SSRC and payload type, continuous across pauses', async () => {
  const { worker, router } = await setup();
  const pair = await plainPair(router, 'audio', { ssrc: 1111, pt: 111 });
  const { sender, receiver, recvTransport, consumer } = pair;
  const to = recvTransport.tuple.localPort;
  await consumer.resume();
  let seq = 1000;
  let ts = 5000;
  const sendSome = async (n) => {
    for (let i = 0; i < n; i++) {
      sender.send(rtp({ pt: 111, seq: seq++, ts: (ts += 960), ssrc: 1111, payload: Buffer.from(`opus-${seq}`) }), to, '127.0.0.1');
      await sleep(2);
    }
  };
  await sendSome(30);
  await sleep(200);
  assert.equal(receiver.packets.length, 30);
  const out = receiver.packets.map(parseRtp);
  const ssrc = consumer.rtpParameters.encodings[0].ssrc;
  const pt = consumer.rtpParameters.codecs[0].payloadType;
  for (let i = 0; i < out.length; i++) {
    assert.equal(out[i].ssrc, ssrc);
    assert.equal(out[i].pt, pt);
    if (i > 0) assert.equal(out[i].seq, (out[i - 1].seq + 1) & 0xffff);
  }
  assert.equal(out[5].payload.toString(), 'opus-1006');
  // The consumer's MID rides in a one-byte header extension (RFC 8285).
  assert.equal(out[5].extensions.profile, 0xbede);
  assert.equal(out[5].extensions.data[0] >> 4, consumer.rtpParameters.headerExtensions.find((h) => /mid/.test(h.uri)).id);

  // Paused: nothing goes out; resumed: the sequence continues with no gap.
  await consumer.pause();
  await sendSome(20);
  await sleep(100);
  assert.equal(receiver.packets.length, 30);
  await consumer.resume();
  await sendSome(5);
  await sleep(150);
  const after = receiver.packets.slice(30).map(parseRtp);
  assert.equal(after.length, 5);
  assert.equal(after[0].seq, (out[29].seq + 1) & 0xffff);
  assert.ok(((after[0].ts - out[29].ts) >>> 0) > 0 && ((after[0].ts - out[29].ts) >>> 0) < 48000 * 5);

  const pstats = await pair.producer.getStats();
  assert.equal(pstats[0].packetCount, 55);

  for (const s of [sender, receiver]) s.close();
  worker.close();
});

test('video: consumers wait for a key frame and ask the producer for one (PLI)', async () => {
  const { worker, router } = await setup();
  const pair = await plainPair(router, 'video', { ssrc: 2222, pt: 96 });
  const { sender, receiver, recvTransport, consumer } = pair;
  const to = recvTransport.tuple.localPort;
  // The sender must be known (comedia) for key frame requests to reach it.
  let seq = 1;
  sender.send(rtp({ pt: 96, seq: seq++, ts: 1000, ssrc: 2222, payload: vp8(false) }), to, '127.0.0.1');
  await sleep(100);
  await consumer.resume();
  for (let i = 0; i < 5; i++) {
    sender.send(rtp({ pt: 96, seq: seq++, ts: 2000 + i * 3000, ssrc: 2222, payload: vp8(false) }), to, '127.0.0.1');
    await sleep(5);
  }
  await sleep(200);
  assert.equal(receiver.packets.length, 0, 'delta frames are held back until a key frame');
  assert.ok(sender.rtcp.some((m) => m[1] === 206 && (m[0] & 0x1f) === 1 && m.readUInt32BE(8) === 2222), 'PLI sent to the producer');
  sender.send(rtp({ pt: 96, seq: seq++, ts: 30000, ssrc: 2222, payload: vp8(true), marker: true }), to, '127.0.0.1');
  sender.send(rtp({ pt: 96, seq: seq++, ts: 33000, ssrc: 2222, payload: vp8(false) }), to, '127.0.0.1');
  await sleep(200);
  assert.equal(receiver.packets.length, 2);
  // NACK for the key frame packet: answered from the retransmission buffer as RTX (RFC 4588).
  const key = parseRtp(receiver.packets[0]);
  const cssrc = consumer.rtpParameters.encodings[0].ssrc;
  const rtxSsrc = consumer.rtpParameters.encodings[0].rtx.ssrc;
  const rtxPt = consumer.rtpParameters.codecs.find((c) => /rtx/.test(c.mimeType)).payloadType;
  receiver.send(nack(1, cssrc, key.seq), pair.sendTransport.tuple.localPort, '127.0.0.1');
  await sleep(150);
  const rtx = receiver.packets.slice(2).map(parseRtp).find((p) => p.ssrc === rtxSsrc);
  assert.ok(rtx, 'RTX retransmission received');
  assert.equal(rtx.pt, rtxPt);
  assert.equal(rtx.payload.readUInt16BE(0), key.seq, 'original sequence number first');
  assert.ok(rtx.payload.subarray(2).equals(key.payload));
  const cstats = await consumer.getStats();
  assert.ok(cstats.find((x) => x.type === 'outbound-rtp').nackCount >= 1);
  // A PLI from the remote receiver becomes a key frame request to the producer (after the throttle).
  const before = sender.rtcp.length;
  await sleep(600);
  receiver.send(pli(1, consumer.rtpParameters.encodings[0].ssrc), pair.sendTransport.tuple.localPort, '127.0.0.1');
  await sleep(200);
  assert.ok(sender.rtcp.length > before);
  for (const s of [sender, receiver]) s.close();
  worker.close();
});

test('transport stats: media counts as RTP, the producer\'s RTX as RTX, discarded packets only as bytes', async () => {
  const { worker, router } = await setup();
  const sender = await udpSocket();
  const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  await transport.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [
        { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 },
        { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } },
      ],
      encodings: [{ ssrc: 3333, rtx: { ssrc: 3334 } }],
    },
  });
  const to = transport.tuple.localPort;
  let media = 0;
  let rtxBytes = 0;
  let other = 0;
  for (let i = 0; i < 5; i++) {
    const b = rtp({ pt: 96, seq: 100 + i, ts: 1000 + i * 3000, ssrc: 3333, payload: Buffer.concat([vp8(i === 0), Buffer.alloc(i * 10)]) });
    media += b.length;
    sender.send(b, to, '127.0.0.1');
    await sleep(5);
  }
  for (let i = 0; i < 3; i++) {
    const b = rtp({ pt: 97, seq: 500 + i, ts: 1000, ssrc: 3334, payload: Buffer.concat([Buffer.from([0, 100 + i]), vp8(false)]) });
    rtxBytes += b.length;
    sender.send(b, to, '127.0.0.1');
    await sleep(5);
  }
  // Payload type 100 is not one of the producer's codecs: discarded.
  for (let i = 0; i < 2; i++) {
    const b = rtp({ pt: 100, seq: 105 + i, ts: 99000, ssrc: 3333, payload: vp8(false) });
    other += b.length;
    sender.send(b, to, '127.0.0.1');
    await sleep(5);
  }
  await sleep(200);
  const [st] = await transport.getStats();
  assert.equal(st.rtpBytesReceived, media);
  assert.equal(st.rtxBytesReceived, rtxBytes);
  assert.equal(st.bytesReceived, media + rtxBytes + other);
  assert.ok(st.rtxRecvBitrate > 0);
  sender.close();
  worker.close();
});

test('SRTP: worker to worker through two SRTP PlainTransports, every suite', async () => {
  for (const suite of ['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']) {
    const { worker, router } = await setup();
    const sender = await udpSocket();
    const receiver = await udpSocket();
    // sender -> A (plain) -> producer1 -> consumer1 on Y (SRTP) -> X (SRTP, comedia) -> producer2 -> consumer2 on B (plain) -> receiver
    const A = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, comedia: true });
    const p1 = await A.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 3333 }] } });
    const X = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, comedia: true, enableSrtp: true, srtpCryptoSuite: suite });
    const Y = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSrtp: true, srtpCryptoSuite: suite });
    await Y.connect({ ip: '127.0.0.1', port: X.tuple.localPort, srtpParameters: X.srtpParameters });
    await X.connect({ srtpParameters: Y.srtpParameters });
    const c1 = await Y.consume({ producerId: p1.id, rtpCapabilities: router.rtpCapabilities });
    const p2 = await X.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: c1.rtpParameters.codecs[0].payloadType, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: c1.rtpParameters.encodings[0].ssrc }] },
    });
    const B = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    await B.connect({ ip: '127.0.0.1', port: receiver.address().port });
    const c2 = await B.consume({ producerId: p2.id, rtpCapabilities: router.rtpCapabilities });
    assert.ok(c2.id);
    for (let i = 0; i < 20; i++) {
      sender.send(rtp({ pt: 111, seq: 100 + i, ts: 960 * i, ssrc: 3333, payload: Buffer.from(`srtp-${suite}-${i}`) }), A.tuple.localPort, '127.0.0.1');
      await sleep(3);
    }
    await sleep(300);
    assert.equal(receiver.packets.length, 20, `${suite}: all packets crossed the SRTP hop`);
    assert.equal(parseRtp(receiver.packets[7]).payload.toString(), `srtp-${suite}-7`);
    const xs = await X.getStats();
    assert.ok(xs[0].rtpBytesReceived > 0);
    for (const s of [sender, receiver]) s.close();
    worker.close();
  }
});

test('closing every transport leaves no object and no socket behind', async () => {
  const { worker, router } = await setup();
  const base = socketCount(worker.pid);
  const transports = [];
  for (let i = 0; i < 5; i++) {
    const w = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }, { protocol: 'tcp', ip: '127.0.0.1' }] });
    transports.push(w);
    const p = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false });
    transports.push(p);
  }
  const server = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', portRange: { min: 42000, max: 42999 } }] });
  transports.push(await router.createWebRtcTransport({ webRtcServer: server }));
  const pair = await plainPair(router, 'audio', { ssrc: 4444, pt: 111 });
  transports.push(pair.recvTransport, pair.sendTransport);
  const observer = await router.createAudioLevelObserver();
  await observer.addProducer({ producerId: pair.producer.id });
  assert.ok(socketCount(worker.pid) >= base + 5 * 4 + 1 + 2);
  let dump = await router.dump();
  assert.equal(dump.transportIds.length, transports.length);
  for (const t of transports) t.close();
  observer.close();
  server.close();
  await sleep(200);
  dump = await router.dump();
  assert.deepEqual(dump.transportIds, []);
  assert.deepEqual(dump.rtpObserverIds, []);
  const wdump = await worker.dump();
  assert.deepEqual(wdump.channelMessageHandlers.channelRequestHandlers, [router.id]);
  assert.deepEqual(wdump.webRtcServerIds, []);
  assert.equal(socketCount(worker.pid), base);
  pair.sender.close();
  pair.receiver.close();
  worker.close();
});
