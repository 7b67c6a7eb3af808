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
