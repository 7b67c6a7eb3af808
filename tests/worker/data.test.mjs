// Data channels and DirectTransport driven through the unmodified mediasoup
// 3.27.1 library: messages from Node through a direct DataProducer, over a
// real SCTP association between two PlainTransports of the worker (UDP on
// loopback), back to Node through a direct DataConsumer (sizes 1 B..256 kB
// checked by SHA-256, PPIDs, subchannels, limits); RTP and RTCP in and out
// of a DirectTransport; cleanup (no objects, no sockets left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot, workerBin } from './wire.mjs';

const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

function socketCount(pid) {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {}
  }
  return n;
}

async function until(cond, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(10);
  }
}

// Node -> direct producer -> A (sctp consumer) ==SCTP/UDP==> B (sctp producer) -> direct consumer -> Node
async function sctpChain(router, opts = {}) {
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const a = await router.createPlainTransport({ listenInfo, enableSctp: true, ...opts });
  const b = await router.createPlainTransport({ listenInfo, enableSctp: true, ...opts });
  const states = { a: [], b: [] };
  a.on('sctpstatechange', (s) => states.a.push(s));
  b.on('sctpstatechange', (s) => states.b.push(s));
  assert.equal(a.sctpState, 'new');
  await a.connect({ ip: '127.0.0.1', port: b.tuple.localPort });
  await b.connect({ ip: '127.0.0.1', port: a.tuple.localPort });
  await until(() => a.sctpState === 'connected' && b.sctpState === 'connected', 5000, 'SCTP connected');
  const direct = await router.createDirectTransport();
  const dp = await direct.produceData({ label: 'chat', protocol: 'p' });
  const aCons = await a.consumeData({ dataProducerId: dp.id });
  const bProd = await b.produceData({ sctpStreamParameters: aCons.sctpStreamParameters, label: 'chat', protocol: 'p' });
  const out = await direct.consumeData({ dataProducerId: bProd.id });
  const got = [];
  out.on('message', (m, ppid) => got.push({ m, ppid }));
  return { a, b, direct, dp, aCons, bProd, out, got, states };
}

test('data: messages cross a real SCTP association (1 B..256 kB by SHA-256, PPIDs, order, limits)', async (t) => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'error' });
  t.after(() => worker.close()); // also when an assertion fails
  const router = await worker.createRouter();
  const c = await sctpChain(router);
  assert.deepEqual(c.states.a.slice(0, 2), ['connecting', 'connected']);
  assert.deepEqual(c.a.sctpNegotiatedCapabilities, { negotiatedMaxOutboundStreams: 65535, negotiatedMaxInboundStreams: 65535 });
  const dump = await c.a.dump();
  assert.equal(dump.sctpState, 'connected');
  assert.equal(dump.sctpParameters.port, 5000);
  assert.equal(dump.sctpParameters.maxMessageSize ?? dump.sctpParameters.maxSendMessageSize ?? 262144, 262144);
  const bdump = await c.b.dump();
  assert.deepEqual(bdump.sctpListener.streamIdTable, [{ key: c.aCons.sctpStreamParameters.streamId, value: c.bProd.id }]);

  const sizes = [1, 2, 100, 1199, 1200, 1201, 16384, 65535, 65536, 100000, 262144];
  const sent = [];
  for (const [i, n] of sizes.entries()) {
    const buf = crypto.randomBytes(n);
    if (i % 2) {
      c.dp.send(buf); // binary: PPID 53
      sent.push({ hash: sha(buf), ppid: 53 });
    } else {
      const s = buf.toString('base64').slice(0, n); // string: PPID 51
      c.dp.send(s);
      sent.push({ hash: sha(Buffer.from(s)), ppid: 51 });
    }
  }
  // Empty ones: the library sends them as PPID 56/57 with one byte.
  c.dp.send('');
  c.dp.send(Buffer.alloc(0));
  await until(() => c.got.length >= sizes.length + 2, 10000, 'all messages');
  for (let i = 0; i < sizes.length; i++) {
    assert.equal(c.got[i].ppid, sent[i].ppid, `ppid of message ${i}`);
    assert.equal(sha(c.got[i].m), sent[i].hash, `message ${i} (${sizes[i]} B)`);
  }
  assert.equal(c.got[sizes.length].ppid, 56);
  assert.equal(c.got[sizes.length + 1].ppid, 57);

  // Over the limit (maxSendMessageSize 262144): refused from Node with a clear error, dropped in the worker otherwise.
  await assert.rejects(c.aCons.send(Buffer.alloc(262145)), (e) => e instanceof TypeError && /maxMessageSize/.test(e.message));
  c.dp.send(Buffer.alloc(262145));
  c.dp.send('after');
  await until(() => c.got.length >= sizes.length + 3, 5000, 'message after the big one');
  await sleep(100);
  assert.equal(c.got.length, sizes.length + 3);
  assert.equal(c.got.at(-1).m.toString(), 'after');

  // A DataConsumer of type sctp sends on its own stream too.
  await c.aCons.send('from the consumer');
  await until(() => c.got.length >= sizes.length + 4, 5000, 'consumer message');
  assert.equal(c.got.at(-1).m.toString(), 'from the consumer');
  assert.equal(c.got.at(-1).ppid, 51);

  const stats = (await c.aCons.getStats())[0];
  assert.equal(stats.messagesSent, sizes.length + 2 + 1 + 1);
  const pstats = (await c.bProd.getStats())[0];
  assert.equal(pstats.messagesReceived, sizes.length + 2 + 1 + 1);
  assert.equal(await c.aCons.getBufferedAmount(), 0);
  worker.close();
});

test('data: unordered and partially reliable streams, pause, bufferedamountlow', async (t) => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'error' });
  t.after(() => worker.close()); // also when an assertion fails
  const router = await worker.createRouter();
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const a = await router.createPlainTransport({ listenInfo, enableSctp: true });
  const b = await router.createPlainTransport({ listenInfo, enableSctp: true });
  await a.connect({ ip: '127.0.0.1', port: b.tuple.localPort });
  await b.connect({ ip: '127.0.0.1', port: a.tuple.localPort });
  await until(() => a.sctpState === 'connected' && b.sctpState === 'connected');
  const direct = await router.createDirectTransport();
  const dp = await direct.produceData();
  const aCons = await a.consumeData({ dataProducerId: dp.id, ordered: false, maxRetransmits: 0 });
  assert.equal(aCons.sctpStreamParameters.ordered, false);
  assert.equal(aCons.sctpStreamParameters.maxRetransmits, 0);
  const bProd = await b.produceData({ sctpStreamParameters: { ...aCons.sctpStreamParameters } });
  const out = await direct.consumeData({ dataProducerId: bProd.id });
  const got = [];
  out.on('message', (m) => got.push(m.toString()));
  for (let i = 0; i < 50; i++) dp.send(`u${i}`);
  await until(() => got.length === 50, 5000, 'unordered messages (lossless loopback)');
  assert.deepEqual([...got].sort(), Array.from({ length: 50 }, (_, i) => `u${i}`).sort());

  // Paused consumer: nothing goes out; resumed: flows again.
  await aCons.pause();
  dp.send('paused');
  await sleep(100);
  await aCons.resume();
  dp.send('resumed');
  await until(() => got.length === 51);
  assert.equal(got[50], 'resumed');

  // bufferedamountlow: at or below the threshold right away.
  const low = new Promise((r) => aCons.once('bufferedamountlow', r));
  await aCons.setBufferedAmountLowThreshold(1000);
  assert.equal(await low, 0);

  // Closing the producer cascades to its consumers (dataproducerclose) and resets the stream.
  const closed = new Promise((r) => out.once('dataproducerclose', r));
  bProd.close();
  await closed;
  assert.equal(out.closed, true);
  const rdump = await router.dump();
  assert.equal(rdump.mapDataConsumerIdDataProducerId.some((e) => e.key === out.id), false);
  worker.close();
});

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
const isRtcp = (b) => b.length >= 2 && b[1] >= 192 && b[1] <= 223;

test('DirectTransport: RTP from Node to a UDP peer and from a UDP peer to Node, RTCP both ways', async (t) => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'error' });
  t.after(() => worker.close()); // also when an assertion fails
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  const codec = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, rtcpFeedback: [{ type: 'nack' }] };
  const direct = await router.createDirectTransport();
  const udp = dgram.createSocket('udp4');
  await new Promise((r) => udp.bind(0, '127.0.0.1', r));
  const udpRtp = [];
  const udpRtcp = [];
  udp.on('message', (m) => (isRtcp(m) ? udpRtcp : udpRtp).push(m));

  // Node -> DirectTransport producer -> PlainTransport consumer -> UDP.
  const producer = await direct.produce({ kind: 'audio', rtpParameters: { codecs: [codec], encodings: [{ ssrc: 1111 }] } });
  const plainOut = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  await plainOut.connect({ ip: '127.0.0.1', port: udp.address().port });
  const c1 = await plainOut.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  for (let i = 0; i < 20; i++) producer.send(rtp({ pt: 100, seq: 500 + i, ts: 960 * i, ssrc: 1111, payload: Buffer.from([i, 1, 2, 3]) }));
  await until(() => udpRtp.length >= 20, 3000, 'RTP at the UDP peer');
  const first = udpRtp[0];
  assert.equal(first.readUInt32BE(8), c1.rtpParameters.encodings[0].ssrc);
  assert.equal(first[1] & 0x7f, c1.rtpParameters.codecs[0].payloadType);
  assert.equal(first.at(-4), 0);
  // Oversized or empty packets from Node are dropped, the worker keeps serving.
  producer.send(Buffer.alloc(5000));
  producer.send(Buffer.alloc(3));

  // UDP -> PlainTransport producer -> DirectTransport consumer -> Node ('rtp').
  const plainIn = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const p2 = await plainIn.produce({ kind: 'audio', rtpParameters: { codecs: [codec], encodings: [{ ssrc: 2222 }] } });
  const c2 = await direct.consume({ producerId: p2.id, rtpCapabilities: router.rtpCapabilities });
  const toNode = [];
  c2.on('rtp', (b) => toNode.push(b));
  const rtcpToNode = [];
  direct.on('rtcp', (b) => rtcpToNode.push(b));
  for (let i = 0; i < 20; i++) udp.send(rtp({ pt: 100, seq: 10 + i, ts: 960 * i, ssrc: 2222, payload: Buffer.from([9, i]) }), plainIn.tuple.localPort, '127.0.0.1');
  await until(() => toNode.length >= 20, 3000, "consumer 'rtp' events");
  assert.equal(toNode[0].readUInt32BE(8), c2.rtpParameters.encodings[0].ssrc);
  assert.deepEqual([...toNode[19].subarray(-2)], [9, 19]);
  // The worker's RTCP for the DirectTransport's consumer (SR) reaches Node.
  await until(() => rtcpToNode.some((b) => b[1] === 200), 4000, 'an SR from the DirectTransport');
  // RTCP from Node: a receiver report about c2 arrives in the worker (c2's score follows it).
  const rr = Buffer.alloc(32);
  rr[0] = 0x81; rr[1] = 201; rr.writeUInt16BE(7, 2); rr.writeUInt32BE(0x12345678, 4);
  rr.writeUInt32BE(c2.rtpParameters.encodings[0].ssrc, 8);
  rr.writeUInt32BE(29, 16); // highest sequence received
  direct.sendRtcp(rr);
  direct.sendRtcp(Buffer.from([1, 2, 3])); // garbage: ignored
  await sleep(200);
  const s2 = await c2.getStats();
  assert.ok(s2.length >= 1);
  const tstats = (await direct.getStats())[0];
  assert.ok(tstats.bytesReceived >= 20 * 16 + 32, `direct transport bytesReceived ${tstats.bytesReceived}`);
  assert.ok(tstats.rtpBytesSent >= 20 * 14, `direct transport rtpBytesSent ${tstats.rtpBytesSent}`);
  udp.close();
  worker.close();
});

test('data: after every transport closes, dumps are empty and no socket of ours is left', async (t) => {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'error' });
  t.after(() => worker.close()); // also when an assertion fails
  const router = await worker.createRouter();
  const base = socketCount(worker.pid);
  const chains = [];
  for (let i = 0; i < 3; i++) chains.push(await sctpChain(router));
  const w = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], enableSctp: true });
  await w.produceData({ sctpStreamParameters: { streamId: 1 } });
  chains[0].dp.send('x');
  await until(() => chains[0].got.length === 1);
  assert.ok(socketCount(worker.pid) >= base + 6 + 1);
  for (const c of chains) for (const t of [c.a, c.b, c.direct]) t.close();
  w.close();
  await sleep(200);
  const dump = await router.dump();
  assert.deepEqual(dump.transportIds, []);
  assert.deepEqual(dump.mapDataProducerIdDataConsumerIds, []);
  assert.deepEqual(dump.mapDataConsumerIdDataProducerId, []);
  const wdump = await worker.dump();
  assert.deepEqual(wdump.channelMessageHandlers.channelRequestHandlers, [router.id]);
  assert.equal(socketCount(worker.pid), base);
  worker.close();
});
