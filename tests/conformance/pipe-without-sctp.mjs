#!/usr/bin/env node
// Runs mediasoup 3.27.1's test-PipeTransport.js against our worker with one
// change: its beforeEach() creates a DataProducer (SCTP) that every test
// shares, so until data channels exist that single call is allowed to fail
// (the data producer becomes a placeholder). Every test that uses data
// channels over the pipe still runs and fails honestly; the others show what
// PipeTransport itself does. The variant file lives next to the suite (it
// requires '../') only while it runs.
//   node tests/conformance/pipe-without-sctp.mjs [--worker BIN]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.join(here, '..', '..', 'node-controller', 'node_modules', 'mediasoup', 'node', 'lib', 'test');
const src = fs.readFileSync(path.join(testDir, 'test-PipeTransport.js'), 'utf8');
const from = 'ctx.dataProducer = await ctx.webRtcTransport1.produceData(ctx.dataProducerOptions);';
if (!src.includes(from)) {
  console.error('test-PipeTransport.js changed: its beforeEach() no longer has the produceData() line');
  process.exit(2);
}
const variant = 'test-PipeTransport-without-sctp.js';
fs.writeFileSync(path.join(testDir, variant),
  src.replace(from, 'ctx.dataProducer = await ctx.webRtcTransport1.produceData(ctx.dataProducerOptions).catch(() => ({ id: "no-sctp" }));'));
try {
  const r = spawnSync(process.execPath, [path.join(here, 'run.mjs'), ...process.argv.slice(2), variant], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  fs.rmSync(path.join(testDir, variant), { force: true });
}
