#!/usr/bin/env node
// Conformance runner: runs mediasoup 3.27.1's own compiled jest suite
// (node_modules/mediasoup/node/lib/test/*.js) against our worker binary via
// MEDIASOUP_WORKER_BIN, one file at a time, each with a timeout and (when root)
// inside a loopback-only network namespace, and prints passed/failed per file
// and in total.
//
//   node tests/conformance/run.mjs --worker build/sfu-worker test-Worker.js test-Router.js
//   node tests/conformance/run.mjs --worker build/sfu-worker --all [--verbose]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const nodeModules = path.join(repoRoot, 'node-controller', 'node_modules');
const testDir = path.join(nodeModules, 'mediasoup', 'node', 'lib', 'test');
const outDir = path.join(repoRoot, 'build', 'conformance');

const args = process.argv.slice(2);
let worker = path.join(repoRoot, 'build', 'sfu-worker');
let timeoutSec = 180;
let all = false;
let verbose = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--worker') worker = path.resolve(args[++i]);
  else if (a === '--timeout') timeoutSec = Number(args[++i]);
  else if (a === '--all') all = true;
  else if (a === '--verbose' || a === '-v') verbose = true;
  else files.push(a);
}
if (all) {
  for (const f of fs.readdirSync(testDir).filter((f) => /^test-.*\.js$/.test(f)).sort()) files.push(f);
}
if (files.length === 0) {
  console.error('usage: run.mjs --worker BIN (--all | test-X.js ...)');
  process.exit(2);
}
if (!fs.existsSync(worker)) {
  console.error(`worker binary not found: ${worker}`);
  process.exit(2);
}

fs.mkdirSync(outDir, { recursive: true });

// The suite expects a DTLS certificate and key in its data folder.
function ensureTestCertificate() {
  const dataDir = path.join(testDir, 'data');
  const cert = path.join(dataDir, 'dtls-cert.pem');
  const key = path.join(dataDir, 'dtls-key.pem');
  if (fs.existsSync(cert) && fs.existsSync(key)) return;
  fs.mkdirSync(dataDir, { recursive: true });
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=mediasoup-test'], { stdio: 'pipe' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
}
ensureTestCertificate();

// jest ignores node_modules by default; the suite lives there, so override.
const jestConfig = path.join(outDir, 'jest.config.cjs');
fs.writeFileSync(jestConfig, `module.exports = ${JSON.stringify({
  rootDir: testDir,
  testEnvironment: 'node',
  testMatch: ['**/test-*.js'],
  testPathIgnorePatterns: [],
  haste: { retainAllFiles: true },
  transform: {},
  modulePaths: [nodeModules],
}, null, 2)};\n`);

const isRoot = process.getuid?.() === 0;
const haveUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;
const jestBin = path.join(nodeModules, 'jest', 'bin', 'jest.js');

function runFile(file) {
  const resultFile = path.join(outDir, `${file}.json`);
  fs.rmSync(resultFile, { force: true });
  // jest 30 resolves its config from the working directory (an explicit --config
  // is mis-resolved against the cwd project), so run it from the config's folder.
  const jestArgs = [jestBin, '--runTestsByPath', path.join(testDir, file), '--json',
    '--outputFile', resultFile, '--forceExit', '--testTimeout', '20000'];
  let cmd = process.execPath;
  let cmdArgs = jestArgs;
  if (haveUnshare) {
    // Some tests connect to non-loopback addresses (1.2.3.4): keep them on a loopback-only namespace.
    const quoted = [process.execPath, ...jestArgs].map((s) => `'${s.replace(/'/g, `'\\''`)}'`).join(' ');
    cmd = 'unshare';
    cmdArgs = ['-n', 'sh', '-c', `ip link set lo up && exec ${quoted}`];
  }
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(cmd, cmdArgs, {
      cwd: outDir,
      env: { ...process.env, MEDIASOUP_WORKER_BIN: worker, DEBUG: process.env.DEBUG ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSec * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      const secs = ((Date.now() - start) / 1000).toFixed(1);
      let passed = 0;
      let failed = 0;
      const failures = [];
      try {
        const res = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
        passed = res.numPassedTests;
        failed = res.numFailedTests;
        for (const tr of res.testResults) {
          for (const a of tr.assertionResults) if (a.status === 'failed') failures.push(a.fullName);
          if (tr.status === 'failed' && tr.assertionResults.length === 0) failures.push(`(file failed) ${tr.message?.split('\n')[0]}`);
        }
        if (res.numRuntimeErrorTestSuites > 0 && failed === 0) failed = 1;
      } catch {
        failed = Math.max(failed, 1);
        failures.push(timedOut ? `timed out after ${timeoutSec}s` : 'no jest result (crashed?)');
      }
      resolve({ file, passed, failed, failures, secs, output });
    });
  });
}

let totalPassed = 0;
let totalFailed = 0;
for (const file of files) {
  const r = await runFile(file);
  totalPassed += r.passed;
  totalFailed += r.failed;
  console.log(`${r.failed === 0 ? 'PASS' : 'FAIL'} ${file}: ${r.passed} passed, ${r.failed} failed (${r.secs}s)`);
  for (const f of r.failures) console.log(`    x ${f}`);
  if (verbose || (r.failed > 0 && r.failures.some((f) => f.startsWith('(file') || f.startsWith('no jest') || f.startsWith('timed')))) {
    console.log(r.output.split('\n').slice(-60).join('\n'));
  }
}
console.log(`conformance: ${totalPassed} passed, ${totalFailed} failed`);
process.exit(totalFailed === 0 ? 0 : 1);
