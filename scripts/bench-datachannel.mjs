#!/usr/bin/env node
// Benchmark (not a test): data channel messages per second and worker CPU
// per message through one WebRtcTransport pair. Chromium page A sends N
// binary messages of SIZE bytes on one ordered data channel over its send
// WebRtcTransport; the worker forwards them (DataProducer -> DataConsumer)
// over page B's recv WebRtcTransport. End-to-end window of WINDOW messages
// (A sends WINDOW, then waits until B has them): without it A's browser
// outruns the B leg and the SFU drops what its SCTP send buffer cannot hold
// (sctpsendbufferfull, as mediasoup does), which measures the drop, not the rate.
// Worker CPU is utime+stime of the worker process (/proc/<pid>/stat) over
// the transfer. Prints one line per run and the median.
//
//   node scripts/bench-datachannel.mjs [--worker BIN] [--n 50000] [--size 1024] [--runs 3] [--window 500]
//   (any mediasoup-compatible worker: e.g. build/mediasoup-worker/mediasoup-worker for the baseline)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
process.env.SFU_WORKER_BIN = path.resolve(opt('worker', process.env.SFU_WORKER_BIN ?? path.join(root, 'build', 'sfu-worker')));
const N = Number(opt('n', 50000));
const SIZE = Number(opt('size', 1024));
const RUNS = Number(opt('runs', 3));
const WINDOW = Number(opt('window', 500));

const { createWorker, e2eDir, e2eRequire, mediaCodecs, sleep } = await import(path.join(root, 'tests/e2e/lib/common.mjs'));
const { launchChromium } = await import(path.join(root, 'tests/e2e/lib/chromium.mjs'));
const { webRtcTransportOptions } = await import(path.join(root, 'tests/e2e/lib/sfu-server.mjs'));

const CLK = 100; // USER_HZ on Linux
function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK;
}

const esbuild = e2eRequire('esbuild');
const js = (await esbuild.build({
  entryPoints: [path.join(e2eDir, 'page-data', 'main.js')], bundle: true, write: false, format: 'iife',
  platform: 'browser', target: 'chrome120', logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' },
})).outputFiles[0].text;

const worker = await createWorker({ logLevel: 'error' });
const router = await worker.createRouter({ mediaCodecs });
const transports = new Map();
const routes = {
  rtpCapabilities: async () => router.rtpCapabilities,
  createTransport: async ({ sctpCapabilities }) => {
    const t = await router.createWebRtcTransport({ ...webRtcTransportOptions, enableSctp: true, numSctpStreams: sctpCapabilities?.numStreams });
    transports.set(t.id, t);
    return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters };
  },
  connect: async ({ transportId, dtlsParameters }) => { await transports.get(transportId).connect({ dtlsParameters }); return {}; },
  produceData: async ({ transportId, sctpStreamParameters, label, protocol }) => ({ id: (await transports.get(transportId).produceData({ sctpStreamParameters, label, protocol })).id }),
  consumeData: async ({ transportId, dataProducerId }) => {
    const dc = await transports.get(transportId).consumeData({ dataProducerId });
    return { id: dc.id, dataProducerId, sctpStreamParameters: dc.sctpStreamParameters, label: dc.label, protocol: dc.protocol };
  },
};
const server = http.createServer(async (req, res) => {
  const send = (s, type, body) => { res.writeHead(s, { 'content-type': type }); res.end(body); };
  if (req.url === '/') return send(200, 'text/html', '<!doctype html><meta charset="utf-8"><script src="/bundle.js"></script>');
  if (req.url === '/bundle.js') return send(200, 'text/javascript', js);
  const m = /^\/api\/(\w+)$/.exec(req.url);
  if (!m || !routes[m[1]]) return send(404, 'text/plain', '');
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try { send(200, 'application/json', JSON.stringify(await routes[m[1]](JSON.parse(Buffer.concat(chunks).toString() || '{}')))); }
  catch (e) { send(500, 'application/json', JSON.stringify({ error: e.message })); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await launchChromium();
const results = [];
try {
  const A = await browser.newPage(url, 'A');
  const B = await browser.newPage(url, 'B');
  await A.evaluate(() => window.e2e.init());
  await B.evaluate(() => window.e2e.init());
  for (let run = 0; run < RUNS; run++) {
    const label = `bench${run}`;
    const { id } = await A.evaluate((l) => window.e2e.produce(l), label);
    await B.evaluate((i) => window.e2e.consume(i, false), id);
    const cpu0 = cpuMs(worker.pid);
    const t0 = process.hrtime.bigint();
    let got = { count: 0 };
    let sent = 0;
    const deadline = Date.now() + 120_000;
    while (got.count < N && Date.now() < deadline) {
      if (got.count >= sent && sent < N) {
        const k = Math.min(WINDOW, N - sent);
        await A.evaluate(([l, n, s]) => window.e2e.flood(l, n, s), [label, k, SIZE]);
        sent += k;
      }
      await sleep(2);
      got = await B.evaluate((l) => window.e2e.count(l), label);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuMs(worker.pid) - cpu0;
    const r = { msgs: got.count, secs, rate: got.count / secs, cpuUsPerMsg: (cpu * 1000) / got.count, cpuPct: (cpu / 10) / secs };
    results.push(r);
    console.log(`run ${run + 1}: ${r.msgs} x ${SIZE} B in ${secs.toFixed(2)} s = ${Math.round(r.rate)} msg/s, worker CPU ${r.cpuUsPerMsg.toFixed(1)} us/msg (${r.cpuPct.toFixed(0)} % of a core)`);
    if (got.count < N) console.log(`  only ${got.count} of ${N} arrived`);
  }
} finally {
  await browser.close();
  server.close();
  worker.close();
}
const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(`median: ${Math.round(med('rate'))} msg/s, ${med('cpuUsPerMsg').toFixed(1)} us worker CPU per ${SIZE} B message (worker ${process.env.SFU_WORKER_BIN})`);
