// End-to-end data channels: two Chromium pages with mediasoup-client, each
// with a send and a recv WebRtcTransport with SCTP on our worker. Page A
// sends ordered text and binary messages of 1 B to 256 kB and unordered
// ones; page B receives each through a DataConsumer and they are compared by
// SHA-256 (ordered: same order; unordered: same set). B answers on its own
// data producer. After every transport closes: router dump empty, no socket
// of the worker's left in /proc/<pid>/fd.
//   node --test tests/e2e/datachannel.test.mjs   (scripts/run-e2e.sh runs it in a loopback-only netns)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createWorker, e2eDir, e2eRequire, mediaCodecs, sleep, step } from './lib/common.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { webRtcTransportOptions } from './lib/sfu-server.mjs';

const SIZES = [1, 2, 10, 100, 1000, 1199, 1200, 1201, 5000, 16384, 65535, 65536, 100000, 200000, 262144];

async function bundle() {
  const esbuild = e2eRequire('esbuild');
  const r = await esbuild.build({
    entryPoints: [path.join(e2eDir, 'page-data', 'main.js')],
    bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return r.outputFiles[0].text;
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

async function startServer(router, js) {
  const transports = new Map();
  const routes = {
    rtpCapabilities: async () => router.rtpCapabilities,
    createTransport: async ({ sctpCapabilities }) => {
      const t = await router.createWebRtcTransport({ ...webRtcTransportOptions, enableSctp: true, numSctpStreams: sctpCapabilities?.numStreams });
      transports.set(t.id, t);
      return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters };
    },
    connect: async ({ transportId, dtlsParameters }) => { await transports.get(transportId).connect({ dtlsParameters }); return {}; },
    produceData: async ({ transportId, sctpStreamParameters, label, protocol }) => {
      const dp = await transports.get(transportId).produceData({ sctpStreamParameters, label, protocol });
      return { id: dp.id };
    },
    consumeData: async ({ transportId, dataProducerId }) => {
      const dc = await transports.get(transportId).consumeData({ dataProducerId });
      return { id: dc.id, dataProducerId, sctpStreamParameters: dc.sctpStreamParameters, label: dc.label, protocol: dc.protocol };
    },
  };
  const page = '<!doctype html><html><head><meta charset="utf-8"><title>dc</title></head><body><script src="/bundle.js"></script></body></html>';
  const server = http.createServer(async (req, res) => {
    const send = (s, type, body) => { res.writeHead(s, { 'content-type': type }); res.end(body); };
    if (req.method === 'GET' && req.url === '/') return send(200, 'text/html', page);
    if (req.method === 'GET' && req.url === '/bundle.js') return send(200, 'text/javascript', js);
    const m = /^\/api\/(\w+)$/.exec(req.url);
    if (req.method !== 'POST' || !m || !Object.hasOwn(routes, m[1])) return send(404, 'text/plain', 'not found');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    try {
      send(200, 'application/json', JSON.stringify(await routes[m[1]](JSON.parse(Buffer.concat(chunks).toString() || '{}'))));
    } catch (err) {
      send(500, 'application/json', JSON.stringify({ error: `${m[1]}: ${err.message}` }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, transports, close: () => new Promise((r) => server.close(r)) };
}

async function inPage(page, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    throw new Error(err.message.replace(/^page\.evaluate: (Error: )?/, '').split('\n    at ')[0]);
  }
}

test('datachannel: Chromium A and B exchange ordered text/binary (1 B..256 kB, SHA-256) and unordered messages', { timeout: 120_000 }, async (t) => {
  let worker, server, browser;
  t.after(async () => {
    await browser?.close();
    await server?.close();
    worker?.close();
  });
  const js = await step('bundle page-data (esbuild)', () => bundle());
  worker = await createWorker();
  const router = await worker.createRouter({ mediaCodecs });
  const baseSockets = socketCount(worker.pid);
  server = await startServer(router, js);
  browser = await step('launch chromium', () => launchChromium());
  const A = await browser.newPage(server.url, 'A');
  const B = await browser.newPage(server.url, 'B');
  await step('A init', () => inPage(A, () => window.e2e.init()));
  await step('B init', () => inPage(B, () => window.e2e.init()));

  const text = await step('A produce text', () => inPage(A, () => window.e2e.produce('text')));
  const bin = await step('A produce bin', () => inPage(A, () => window.e2e.produce('bin')));
  const unord = await step('A produce unordered', () => inPage(A, () => window.e2e.produce('unordered', { ordered: false })));
  const back = await step('B produce back', () => inPage(B, () => window.e2e.produce('back', { maxRetransmits: 5, ordered: false })));
  for (const id of [text.id, bin.id, unord.id]) await step('B consume', () => inPage(B, (i) => window.e2e.consume(i), id));
  await step('A consume back', () => inPage(A, (i) => window.e2e.consume(i), back.id));

  const sentText = await step('A sends text', () => inPage(A, (s) => window.e2e.sendSeries('text', s, false), SIZES));
  const sentBin = await step('A sends binary', () => inPage(A, (s) => window.e2e.sendSeries('bin', s, true), SIZES));
  const sentU = await step('A sends unordered', () => inPage(A, () => window.e2e.sendSeries('unordered', Array(200).fill(1000), true)));
  const sentBack = await step('B sends back', () => inPage(B, () => window.e2e.sendSeries('back', [1, 500, 1200, 60000], false)));

  const gotText = await inPage(B, (n) => window.e2e.received('text', n, 30000), SIZES.length);
  const gotBin = await inPage(B, (n) => window.e2e.received('bin', n, 30000), SIZES.length);
  const gotU = await inPage(B, () => window.e2e.received('unordered', 200, 30000));
  const gotBack = await inPage(A, () => window.e2e.received('back', 4, 30000));

  assert.deepEqual(gotText.map((m) => m.size), SIZES, 'text sizes in order');
  assert.deepEqual(gotText.map((m) => m.hash), sentText.map((m) => m.hash), 'text SHA-256 in order');
  assert.ok(gotText.every((m) => !m.binary), 'text arrives as strings (PPID 51)');
  assert.deepEqual(gotBin.map((m) => m.hash), sentBin.map((m) => m.hash), 'binary SHA-256 in order');
  assert.ok(gotBin.every((m) => m.binary), 'binary arrives as ArrayBuffer (PPID 53)');
  assert.deepEqual(gotU.map((m) => m.hash).sort(), sentU.map((m) => m.hash).sort(), 'unordered: same set');
  assert.deepEqual(gotBack.map((m) => m.hash), sentBack.map((m) => m.hash), 'B -> A');

  const dump = await router.dump();
  assert.equal(dump.mapDataProducerIdDataConsumerIds.length, 4);

  for (const tr of server.transports.values()) tr.close();
  await sleep(300);
  const after = await router.dump();
  assert.deepEqual(after.transportIds, []);
  assert.deepEqual(after.mapDataProducerIdDataConsumerIds, []);
  assert.deepEqual(after.mapDataConsumerIdDataProducerId, []);
  assert.equal(socketCount(worker.pid), baseSockets, 'no socket of the worker left');
});

// A second, independent SCTP stack: werift's RTCPeerConnection (ICE, DTLS,
// SCTP in TypeScript) with negotiated data channels on one
// WebRtcTransport: what werift sends on stream 10 comes back through a
// DataProducer and a DataConsumer of the same transport on stream 0 (SHA-256
// checked), and a message from Node (direct DataProducer) reaches it too.
test('datachannel: werift data channels exchange messages with the worker over DTLS/SCTP', { timeout: 60_000 }, async (t) => {
  const werift = e2eRequire('werift');
  const crypto = await import('node:crypto');
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  let worker, pc;
  t.after(async () => {
    await pc?.close();
    worker?.close();
  });
  worker = await createWorker();
  const router = await worker.createRouter({ mediaCodecs });
  const transport = await router.createWebRtcTransport({ ...webRtcTransportOptions, enableSctp: true });
  pc = new werift.RTCPeerConnection({ bundlePolicy: 'max-bundle', iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, iceUseTcp: false });
  const out = pc.createDataChannel('up', { negotiated: true, id: 10 });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const local = pc.localDescription.sdp;
  const m = local.split(/\r?\n/);
  const mid = (m.find((l) => l.startsWith('a=mid:')) ?? 'a=mid:0').slice(6);
  const fps = m.filter((l) => l.startsWith('a=fingerprint:')).map((l) => l.slice(14).split(' '))
    .map(([algorithm, value]) => ({ algorithm: algorithm.toLowerCase(), value: value.toUpperCase() }));
  assert.ok(fps.length, `werift offer has a fingerprint:\n${local}`);
  assert.ok(m.some((l) => l.startsWith('m=application')), `werift offers an application m-line:\n${local}`);
  const fp = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  const cands = transport.iceCandidates.filter((c) => c.protocol === 'udp');
  const answer = [
    'v=0', `o=sfu-e2e ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${mid}`,
    `a=fingerprint:${fp.algorithm} ${fp.value}`,
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 127.0.0.1', `a=mid:${mid}`,
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`, `a=ice-pwd:${transport.iceParameters.password}`,
    ...cands.map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address ?? c.ip} ${c.port} typ host`),
    'a=end-of-candidates', 'a=setup:passive', 'a=sctp-port:5000', 'a=max-message-size:262144', '',
  ].join('\r\n');
  await transport.connect({ dtlsParameters: { role: 'client', fingerprints: fps } });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });

  const up = await transport.produceData({ sctpStreamParameters: { streamId: 10, ordered: true }, label: 'up' });
  const down = await transport.consumeData({ dataProducerId: up.id });
  const direct = await router.createDirectTransport();
  const fromNode = await direct.produceData({ label: 'node' });
  const down2 = await transport.consumeData({ dataProducerId: fromNode.id });
  const watch = await direct.consumeData({ dataProducerId: up.id });
  const inWorker = [];
  watch.on('message', (b, ppid) => inWorker.push({ hash: sha(b), ppid }));
  const downIn = pc.createDataChannel('down', { negotiated: true, id: down.sctpStreamParameters.streamId });
  const down2In = pc.createDataChannel('node', { negotiated: true, id: down2.sctpStreamParameters.streamId });
  const got = [];
  const got2 = [];
  downIn.onMessage.subscribe((d) => got.push(typeof d === 'string' ? { hash: sha(Buffer.from(d)), text: true } : { hash: sha(d), text: false }));
  down2In.onMessage.subscribe((d) => got2.push(String(d)));

  const deadline = Date.now() + 15_000;
  while (transport.sctpState !== 'connected' || out.readyState !== 'open') {
    if (Date.now() > deadline) throw new Error(`SCTP not connected: worker ${transport.sctpState}, werift channel ${out.readyState}`);
    await sleep(20);
  }
  const sent = [];
  for (const [i, n] of [1, 100, 1200, 5000, 60000, 200000].entries()) {
    const b = crypto.randomBytes(n);
    if (i % 2) {
      out.send(b);
      sent.push({ hash: sha(b), text: false });
    } else {
      const s = b.toString('hex').slice(0, n);
      out.send(s);
      sent.push({ hash: sha(Buffer.from(s)), text: true });
    }
  }
  fromNode.send('hello werift');
  const end = Date.now() + 20_000;
  while ((got.length < sent.length || got2.length < 1) && Date.now() < end) await sleep(20);
  assert.deepEqual(got, sent, 'werift -> worker -> werift, in order, SHA-256 and string/binary kept');
  assert.deepEqual(inWorker.map((x) => x.hash), sent.map((x) => x.hash), 'the worker saw every message once');
  assert.deepEqual(inWorker.map((x) => x.ppid), sent.map((x) => (x.text ? 51 : 53)), 'PPIDs');
  assert.deepEqual(got2, ['hello werift']);
  transport.close();
  direct.close();
  await sleep(100);
  assert.deepEqual((await router.dump()).transportIds, []);
});
