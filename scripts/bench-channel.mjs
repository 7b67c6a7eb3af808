#!/usr/bin/env node
// Channel round-trip benchmark: Router DUMP requests from the mediasoup 3.27.1
// Node library to the worker, with N requests in flight, for a fixed duration.
// Prints requests per second and latency percentiles. Not a test.
//   node scripts/bench-channel.mjs [--worker BIN] [--seconds 5] [--inflight 1,16,128]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const workerBin = path.resolve(arg('worker', path.join(repoRoot, 'build', 'sfu-worker')));
const seconds = Number(arg('seconds', '5'));
const inflights = arg('inflight', '1,16,128').split(',').map(Number);

const worker = await mediasoup.createWorker({ workerBin, logLevel: 'none' });
const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });

console.log(`worker ${workerBin}`);
console.log('in flight | requests/s | p50 ms | p99 ms | worker CPU us/request');
for (const inflight of inflights) {
  const lat = [];
  let done = 0;
  const ru0 = await worker.getResourceUsage();
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  async function lane() {
    while (performance.now() < end) {
      const s = performance.now();
      await router.dump();
      lat.push(performance.now() - s);
      done++;
    }
  }
  await Promise.all(Array.from({ length: inflight }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const ru1 = await worker.getResourceUsage();
  const cpuMs = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(3);
  console.log(`${String(inflight).padStart(9)} | ${String(Math.round(done / elapsed)).padStart(10)} | ${pct(0.5).padStart(6)} | ${pct(0.99).padStart(6)} | ${((cpuMs * 1000) / done).toFixed(2)}`);
}
worker.close();
