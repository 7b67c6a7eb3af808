#!/usr/bin/env node
// Runs the video-quality scenarios of tests/e2e/quality.test.mjs (steady
// 720p, simulcast under a 600 kbit/s limit, 5 % uplink loss, VP8 and H264
// L1T3 temporal layers) against our
// worker and against mediasoup 3.27.1's own (build/mediasoup-worker, made by
// scripts/build-mediasoup-worker.sh), alternately, each in a loopback-only
// network namespace, and prints the figures side by side (medians over
// --runs runs). A benchmark, not a test: nothing is asserted.
//
//   node scripts/compare-quality.mjs [--runs 1] [--only steady,simulcast,loss,temporal] [--ours bin] [--mediasoup bin]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const runs = Number(arg('runs', '1'));
const only = arg('only', 'steady,simulcast,loss,temporal');
const workers = [
  ['ours', path.resolve(arg('ours', path.join(repoRoot, 'build', 'sfu-worker')))],
  ['mediasoup', path.resolve(arg('mediasoup', path.join(repoRoot, 'build', 'mediasoup-worker', 'mediasoup-worker')))],
];
for (const [name, bin] of workers) {
  if (!fs.existsSync(bin)) {
    console.error(`${name}: ${bin} not found (make worker; bash scripts/build-mediasoup-worker.sh)`);
    process.exit(2);
  }
}

const results = {}; // scenario -> worker -> [figures]
for (let r = 0; r < runs; r++) {
  for (const [name, bin] of workers) {
    const out = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec node --test --test-reporter=spec tests/e2e/quality.test.mjs'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, SFU_WORKER_BIN: bin, SFU_E2E_MEASURE_ONLY: '1', SFU_E2E_QUALITY: only },
      timeout: 900_000,
    });
    for (const line of `${out.stdout}\n${out.stderr}`.split('\n')) {
      const m = /QUALITY ([\w-]+) (\{.*\})/.exec(line);
      if (!m) continue;
      ((results[m[1]] ??= {})[name] ??= []).push(JSON.parse(m[2]));
      process.stderr.write(`run ${r + 1} ${name}: ${m[1]} ${m[2].slice(0, 300)}\n`);
    }
  }
}

const median = (a) => {
  const s = a.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y);
  if (s.length) return s[Math.floor(s.length / 2)];
  return a.find((x) => x !== undefined);
};
const ROWS = {
  steady: [['aobMinKbps', "A's availableOutgoingBitrate, min of the last 10 s (kbit/s)"], ['sentWidthMin', "A's sent width, min of the last 10 s"],
    ['bWidth', "B's decoded width at the end"], ['bFps', "B's fps"], ['bFreezeS', "B's freezes (s)"], ['sentKbps', "A's video send rate (kbit/s)"]],
  simulcast: [['lowerAfterS', 'consumer on a lower layer (spatial or temporal) after the limit (s)'], ['downAfterS', 'consumer on a lower spatial layer after the limit (s)'], ['settledLayer', 'layer while limited'], ['bWidthLimited', "B's width while limited"],
    ['bFpsLimited', "B's fps while limited"], ['freezeAfterSwitchS', "B's freezes after the switch (s)"], ['freezeLimitedS', "B's freezes while limited, all (s)"],
    ['relayDrops', 'packets the limited path dropped'], ['upAfterS', 'back on the top layer (spatial 2, its temporal layer before the limit) after the limit is lifted (s)']],
  loss: [['relayLossPct', 'loss on A\'s uplink (%)'], ['bLostPct', "B's video packets lost after repair (%)"], ['bFreezeS', "B's freezes (s)"],
    ['bWidth', "B's width"], ['bFps', "B's fps"], ['aNacksReceived', 'NACKs A received (video)'], ['aRetransmitted', 'packets A retransmitted']],
};
for (const codec of ['vp8', 'h264']) {
  ROWS[`temporal-${codec}`] = [['fullFps', "B's fps, all temporal layers"], ['t0Fps', "B's fps, preferred temporal layer 0"],
    ['t0Kbps', "B's kbit/s on layer 0 (all layers: next row)"], ['fullKbps', "B's kbit/s, all layers"], ['t0FreezeS', "B's freezes on layer 0 (s)"],
    ['backFps', "B's fps back on layer 2"]];
}
for (const [scenario, rows] of Object.entries(ROWS)) {
  if (!results[scenario]) continue;
  console.log(`\n${scenario} (${runs} run${runs > 1 ? 's' : ''}, median)\n`);
  console.log('| | ours | mediasoup 3.27.1 |\n| --- | --- | --- |');
  for (const [key, label] of rows) {
    const v = (w) => {
      const x = median((results[scenario][w] ?? []).map((f) => f[key]));
      return x === undefined ? '-' : String(x);
    };
    console.log(`| ${label} | ${v('ours')} | ${v('mediasoup')} |`);
  }
}
