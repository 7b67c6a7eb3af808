#!/usr/bin/env node
// The main job for now: the unmodified mediasoup 3.27.1 library creates a
// Worker on our binary, a Router on it, and prints the Router's RTP
// capabilities; then it closes everything.
//   node scripts/example.mjs [--worker build/sfu-worker]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');

const i = process.argv.indexOf('--worker');
const workerBin = path.resolve(i > 0 ? process.argv[i + 1] : path.join(repoRoot, 'build', 'sfu-worker'));

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
];

const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
console.log(`worker running: pid ${worker.pid} (${workerBin}), mediasoup ${mediasoup.version}`);
const router = await worker.createRouter({ mediaCodecs });
const dump = await router.dump();
console.log(`router ${router.id} created; worker dump routerIds=${JSON.stringify((await worker.dump()).routerIds)}`);
console.log('router RTP capabilities:');
console.log(JSON.stringify(router.rtpCapabilities, null, 2));
if (dump.id !== router.id) throw new Error('router dump does not match');
worker.close();
console.log('worker closed');
