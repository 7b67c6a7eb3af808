// PipeTransport between two worker processes, driven by the unmodified
// mediasoup 3.27.1 library (router.pipeToRouter): plain RTP in on worker 1,
// out of worker 2, every simulcast encoding through one (SRTP) pipe consumer, key
// frame requests back through the pipe, SRTP on the pipe, bad connect()
// arguments, trace events with their info fields, and cleanup (no objects,
// no sockets left).
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

const parseRtp = (b) => ({ pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8) });
const isRtcp = (b) => b.length >= 2 && b[1] >= 192 && b[1] <= 223;
// PLI (RFC 4585 6.3.1) media SSRCs in an RTCP compound.
function pliSsrcs(m) {
  const out = [];
  for (let off = 0; off + 4 <= m.length; ) {
    const len = (m.readUInt16BE(off + 2) + 1) * 4;
    if (m[off + 1] === 206 && (m[off] & 0x1f) === 1 && off + 12 <= m.length) out.push(m.readUInt32BE(off + 8));
    off += len;
  }
  return out;
}
const vp8 = (key) => Buffer.from([0x10, key ? 0x00 : 0x01, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 7, 7, 7]);

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

async function twoWorkers() {
  const worker1 = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
  const worker2 = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
  const router1 = await worker1.createRouter({ mediaCodecs });
  const router2 = await worker2.createRouter({ mediaCodecs });
  return { worker1, worker2, router1, router2 };
}

const SSRCS = [11110, 11120, 11130];

async function simulcastProducer(router1) {
  const transport = await router1.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await transport.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
      encodings: SSRCS.map((ssrc, i) => ({ ssrc, scaleResolutionDownBy: 4 >> i })),
    },
  });
  return { transport, producer };
}

async function plainConsumer(router2, producerId) {
  const receiver = await udpSocket();
  const transport = await router2.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  await transport.connect({ ip: '127.0.0.1', port: receiver.address().port });
  // no transport-cc / abs-send-time: a plain receiver sends no feedback, so the
  // consumer picks its layers itself rather than waiting for an estimate
  const rtpCapabilities = { ...router2.rtpCapabilities, headerExtensions: router2.rtpCapabilities.headerExtensions.filter((h) => !/transport-wide|abs-send-time/.test(h.uri)) };
  const consumer = await transport.consume({ producerId, rtpCapabilities });
  return { receiver, transport, consumer };
}

// n frames on every encoding, the first a key frame, 30 fps.
async function sendFrames(sender, to, state, n, { key = false } = {}) {
  for (let f = 0; f < n; f++) {
    state.ts += 3000;
    for (let i = 0; i < SSRCS.length; i++) {
      const k = key && f === 0;
      sender.send(rtp({ pt: 96, seq: state.seq[i]++, ts: state.ts, ssrc: SSRCS[i], payload: vp8(k), marker: true }), to, '127.0.0.1');
    }
    await sleep(4);
  }
}

test('pipeToRouter between two workers: every simulcast encoding through one pipe consumer, key frame requests back through the pipe', async () => {
  const { worker1, worker2, router1, router2 } = await twoWorkers();
  const sockets1 = socketCount(worker1.pid);
  const sockets2 = socketCount(worker2.pid);
  const { transport: inT, producer } = await simulcastProducer(router1);
  const sender = await udpSocket();
  const to = inT.tuple.localPort;
  const state = { seq: [100, 5000, 30000], ts: 90000 };
  // the sender is known to the comedia transport before key frames are asked for
  await sendFrames(sender, to, state, 1);

  const { pipeConsumer, pipeProducer } = await router1.pipeToRouter({ producerId: producer.id, router: router2, enableSrtp: true });
  assert.equal(pipeConsumer.type, 'pipe');
  // key frames traced as they leave (before SRTP protects them in place)
  const keyTraces = [];
  pipeConsumer.on('trace', (t) => t.type === 'keyframe' && keyTraces.push(t));
  await pipeConsumer.enableTraceEvent(['keyframe']);
  assert.equal(pipeProducer.id, producer.id);
  assert.equal(pipeConsumer.rtpParameters.encodings.length, 3);
  const { receiver, consumer } = await plainConsumer(router2, pipeProducer.id);
  assert.equal(consumer.type, 'simulcast');

  // the pipe consumer asks for key frames of every encoding once the pipe is up
  await sleep(100);
  const asked = new Set(sender.rtcp.flatMap(pliSsrcs));
  for (const s of SSRCS) assert.ok(asked.has(s), `PLI for ssrc ${s} reached the sender`);

  // deltas first: the pipe holds them back until a key frame (each lane on its own)
  await sendFrames(sender, to, state, 10);
  await sleep(300);
  await sendFrames(sender, to, state, 30, { key: true });
  await sleep(300);

  // (mediasoup 3.27.1's Consumer emits each 'trace' notification twice: count distinct packets)
  assert.deepEqual([...new Set(keyTraces.map((t) => `${t.info.rtpPacket.ssrc}`))].sort(),
    pipeConsumer.rtpParameters.encodings.map((e) => `${e.ssrc}`).sort());
  assert.ok(keyTraces.every((t) => t.direction === 'out' && t.info.rtpPacket.isKeyFrame && t.info.rtpPacket.payloadType === pipeConsumer.rtpParameters.codecs[0].payloadType));
  // worker 1: one pipe consumer, three send streams, each carried every frame
  const pstats = await pipeConsumer.getStats();
  const outbound = pstats.filter((s) => s.type === 'outbound-rtp');
  assert.equal(outbound.length, 3);
  for (const s of outbound) assert.equal(s.packetCount, 30, `pipe stream ${s.ssrc}`);
  assert.deepEqual(outbound.map((s) => s.ssrc).sort(), pipeConsumer.rtpParameters.encodings.map((e) => e.ssrc).sort());
  // worker 2: the pipe producer receives all three
  const rstats = await pipeProducer.getStats();
  assert.equal(rstats.length, 3);
  for (const s of rstats) assert.equal(s.packetCount, 30);
  // and the final consumer forwards one layer of them under its own SSRC
  const out = receiver.packets.map(parseRtp);
  assert.ok(out.length >= 25, `consumer on worker 2 sent ${out.length} packets`);
  assert.ok(out.every((p) => p.ssrc === consumer.rtpParameters.encodings[0].ssrc));
  for (let i = 1; i < out.length; i++) assert.equal(out[i].seq, (out[i - 1].seq + 1) & 0xffff);

  // a key frame request on worker 2 travels back through the pipe to the sender
  await sleep(1100); // past the producers' key frame request throttle
  const before = sender.rtcp.length;
  await consumer.requestKeyFrame();
  await sleep(300);
  assert.ok(sender.rtcp.slice(before).flatMap(pliSsrcs).length > 0, 'PLI reached the sender through the pipe');

  // pipe transport dumps and stats as mediasoup's
  const [pipe1] = [...(await router1.dump()).transportIds].filter((id) => id !== inT.id);
  assert.ok(pipe1);
  const dump2 = await router2.dump();
  assert.equal(dump2.transportIds.length, 2);

  producer.close();
  await sleep(100);
  assert.equal(consumer.closed, true, 'closing the producer closes the consumer on the other worker');
  sender.close();
  receiver.close();
  router1.close();
  router2.close();
  await sleep(200);
  assert.equal(socketCount(worker1.pid), sockets1);
  assert.equal(socketCount(worker2.pid), sockets2);
  worker1.close();
  worker2.close();
});

test('pipe with SRTP (AEAD_AES_256_GCM) carries audio, and its transports report it', async () => {
  const { worker1, worker2, router1, router2 } = await twoWorkers();
  const inT = await router1.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await inT.produce({
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 4242 }] },
  });
  const { pipeProducer } = await router1.pipeToRouter({ producerId: producer.id, router: router2, enableSrtp: true });
  const { receiver, consumer } = await plainConsumer(router2, pipeProducer.id);
  const sender = await udpSocket();
  for (let i = 0; i < 40; i++) {
    sender.send(rtp({ pt: 111, seq: 7 + i, ts: 960 * i, ssrc: 4242, payload: Buffer.from(`opus-frame-${i}`) }), inT.tuple.localPort, '127.0.0.1');
    await sleep(3);
  }
  await sleep(300);
  assert.equal(receiver.packets.length, 40);
  assert.ok(receiver.packets[10].toString().endsWith('opus-frame-10'));
  assert.equal(parseRtp(receiver.packets[0]).ssrc, consumer.rtpParameters.encodings[0].ssrc);
  // the pipe transports: SRTP parameters with a 44-byte key, connected tuples
  const pipes = [];
  for (const r of [router1, router2]) {
    for (const t of r.transportsForTesting.values()) if (t.constructor.name === 'PipeTransportImpl') pipes.push(t);
  }
  assert.equal(pipes.length, 2);
  for (const t of pipes) {
    assert.equal(t.srtpParameters.cryptoSuite, 'AEAD_AES_256_GCM');
    assert.equal(Buffer.from(t.srtpParameters.keyBase64, 'base64').length, 44);
    const [st] = await t.getStats();
    assert.equal(st.type, 'pipe-transport');
    assert.ok(st.tuple.remotePort > 0);
    assert.ok(st.bytesReceived + st.bytesSent > 40 * 20);
  }
  assert.equal(pipes[0].tuple.localPort, pipes[1].tuple.remotePort);
  sender.close();
  receiver.close();
  worker1.close();
  worker2.close();
});

test('pipe transport: bad connect() arguments get clear errors and leave it usable', async () => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs });
  const t = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSrtp: true });
  await assert.rejects(t.connect({ ip: '127.0.0.1', port: 9999 }), /missing srtpParameters/);
  await assert.rejects(
    t.connect({ ip: '127.0.0.1', port: 9999, srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: 'YWJj' } }),
    /cryptoSuite/,
  );
  await assert.rejects(
    t.connect({ ip: '127.0.0.1', port: 9999, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'YWJj' } }),
    /key length/,
  );
  await assert.rejects(
    t.connect({ ip: 'not-an-ip', port: 9999, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: t.srtpParameters.keyBase64 } }),
    /IP/,
  );
  await t.connect({ ip: '127.0.0.1', port: 9999, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: t.srtpParameters.keyBase64 } });
  await assert.rejects(
    t.connect({ ip: '127.0.0.1', port: 9998, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: t.srtpParameters.keyBase64 } }),
    /already called/,
  );
  const dump = await t.dump();
  assert.equal(dump.tuple.remotePort, 9999);
  // garbage sent to the pipe's port from anyone but the peer is ignored
  const junk = await udpSocket();
  junk.send(Buffer.alloc(100, 0x80), t.tuple.localPort, '127.0.0.1');
  await sleep(50);
  const [st] = await t.getStats();
  assert.equal(st.bytesReceived, 0);
  junk.close();
  worker.close();
});

test('trace events: producer rtp/keyframe/pli/sr and consumer rtp/keyframe/pli/nack with their info fields', async () => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs });
  const inT = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await inT.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
      encodings: [{ ssrc: 5151 }],
    },
  });
  const { receiver, transport: outT, consumer } = await plainConsumer(router, producer.id);
  const ptrace = [];
  const ctrace = [];
  producer.on('trace', (t) => ptrace.push(t));
  consumer.on('trace', (t) => ctrace.push(t));
  await producer.enableTraceEvent(['rtp', 'keyframe', 'pli', 'sr', 'nack']);
  await consumer.enableTraceEvent(['rtp', 'keyframe', 'pli', 'nack']);
  assert.deepEqual((await producer.dump()).traceEventTypes.sort(), ['keyframe', 'nack', 'pli', 'rtp', 'sr']);
  const sender = await udpSocket();
  const to = inT.tuple.localPort;
  sender.send(rtp({ pt: 96, seq: 1, ts: 3000, ssrc: 5151, payload: vp8(false) }), to, '127.0.0.1');
  await sleep(100);
  sender.send(rtp({ pt: 96, seq: 2, ts: 6000, ssrc: 5151, payload: vp8(true), marker: true }), to, '127.0.0.1');
  sender.send(rtp({ pt: 96, seq: 3, ts: 9000, ssrc: 5151, payload: vp8(false) }), to, '127.0.0.1');
  // a sender report for the producer's stream
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(5151, 4);
  sr.writeUInt32BE(3900000000, 8);
  sr.writeUInt32BE(0x80000000, 12);
  sr.writeUInt32BE(9000, 16);
  sr.writeUInt32BE(3, 20);
  sr.writeUInt32BE(42, 24);
  sender.send(sr, to, '127.0.0.1');
  await sleep(200);

  const pk = ptrace.find((t) => t.type === 'keyframe');
  assert.ok(pk, 'producer keyframe trace');
  assert.equal(pk.direction, 'in');
  assert.equal(pk.info.rtpPacket.ssrc, 5151);
  assert.equal(pk.info.rtpPacket.sequenceNumber, 2);
  assert.equal(pk.info.rtpPacket.isKeyFrame, true);
  assert.equal(pk.info.isRtx, false);
  assert.ok(ptrace.some((t) => t.type === 'rtp' && t.info.rtpPacket.sequenceNumber === 3 && !t.info.rtpPacket.isKeyFrame));
  const pp = ptrace.find((t) => t.type === 'pli');
  assert.ok(pp, 'producer pli trace (the consumer waited for a key frame)');
  assert.equal(pp.direction, 'out');
  assert.equal(pp.info.ssrc, 5151);
  const ps = ptrace.find((t) => t.type === 'sr');
  assert.ok(ps, 'producer sr trace');
  assert.deepEqual(
    { ssrc: ps.info.ssrc, ntpSec: ps.info.ntpSec, ntpFrac: ps.info.ntpFrac, rtpTs: ps.info.rtpTs, packetCount: ps.info.packetCount, octetCount: ps.info.octetCount },
    { ssrc: 5151, ntpSec: 3900000000, ntpFrac: 0x80000000, rtpTs: 9000, packetCount: 3, octetCount: 42 },
  );
  assert.ok(typeof ps.timestamp === 'number' && ps.timestamp > 0);

  const ck = ctrace.find((t) => t.type === 'keyframe');
  assert.ok(ck, 'consumer keyframe trace');
  assert.equal(ck.direction, 'out');
  assert.equal(ck.info.rtpPacket.ssrc, consumer.rtpParameters.encodings[0].ssrc);
  assert.equal(ck.info.rtpPacket.payloadType, consumer.rtpParameters.codecs[0].payloadType);
  assert.ok(ctrace.some((t) => t.type === 'rtp' && t.info.rtpPacket.isKeyFrame === false));
  // PLI and NACK from the receiver
  const cssrc = consumer.rtpParameters.encodings[0].ssrc;
  const pli = Buffer.alloc(12);
  pli[0] = 0x81;
  pli[1] = 206;
  pli.writeUInt16BE(2, 2);
  pli.writeUInt32BE(1, 4);
  pli.writeUInt32BE(cssrc, 8);
  const nack = Buffer.alloc(16);
  nack[0] = 0x81;
  nack[1] = 205;
  nack.writeUInt16BE(3, 2);
  nack.writeUInt32BE(1, 4);
  nack.writeUInt32BE(cssrc, 8);
  nack.writeUInt16BE(parseRtp(receiver.packets[0]).seq, 12);
  receiver.send(pli, outT.tuple.localPort, '127.0.0.1');
  receiver.send(nack, outT.tuple.localPort, '127.0.0.1');
  await sleep(150);
  const cp = ctrace.find((t) => t.type === 'pli');
  assert.ok(cp, 'consumer pli trace');
  assert.equal(cp.direction, 'in');
  assert.equal(cp.info.ssrc, cssrc);
  const cn = ctrace.find((t) => t.type === 'nack');
  assert.ok(cn, 'consumer nack trace');
  assert.equal(cn.direction, 'in');
  // the retransmission is traced as rtp with isRtx
  assert.ok(ctrace.some((t) => t.type === 'rtp' && t.info.isRtx === true), 'retransmission traced');
  // turned off: no more events
  await producer.enableTraceEvent([]);
  const n = ptrace.length;
  sender.send(rtp({ pt: 96, seq: 4, ts: 12000, ssrc: 5151, payload: vp8(false) }), to, '127.0.0.1');
  await sleep(100);
  assert.equal(ptrace.length, n);
  sender.close();
  receiver.close();
  worker.close();
});
