// Shared bits of the end-to-end harness: paths, the mediasoup library taken
// from node-controller/ (the same unmodified npm package the project ships),
// the router's media codecs, and step() which names the step that failed.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const e2eDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(e2eDir, '..', '..');

const controllerRequire = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
/** The mediasoup npm library from node-controller/node_modules. */
export const mediasoup = controllerRequire('mediasoup');
/** mediasoup's own ORTC helpers (parameter validation/mapping), used by the harness self-checks. */
export const ortc = controllerRequire(path.join(path.dirname(controllerRequire.resolve('mediasoup')), 'ortc.js'));

/** The worker binary under test: $SFU_WORKER_BIN or build/sfu-worker. */
export const workerBin = path.resolve(process.env.SFU_WORKER_BIN ?? path.join(repoRoot, 'build', 'sfu-worker'));

/** Resolve a module from tests/e2e/node_modules. */
export const e2eRequire = createRequire(path.join(e2eDir, 'package.json'));

export const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video', mimeType: 'video/H264', clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fn() and, if it throws, rethrows with the step name in front, so a
 * failure reads "createWebRtcTransport (send): <worker's error>".
 */
export async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    const msg = err && err.message ? err.message : String(err);
    const e = new Error(`${name}: ${msg}`);
    e.stack = `Error: ${e.message}`; // the step chain is the useful trace
    throw e;
  }
}

/** Rejects after ms with "<what>: timed out after <ms> ms". */
export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

/**
 * The library's warn/error log lines (these include the worker's own log
 * lines, which arrive over the channel), last 100, for failure messages.
 * SFU_E2E_VERBOSE=1 also prints them (and debug lines) as they come.
 */
export const libraryLog = [];
const verbose = !!process.env.SFU_E2E_VERBOSE;
function keepLog(level, namespace, log, error) {
  const line = `${new Date().toISOString().slice(11, 23)} ${level} ${namespace} ${log}${error ? ` (${error.message ?? error})` : ''}`;
  if (verbose) process.stderr.write(`${line}\n`);
  if (level === 'debug') return;
  libraryLog.push(line);
  if (libraryLog.length > 100) libraryLog.shift();
}
mediasoup.setLogEventListeners({
  ondebug: verbose ? (ns, log) => keepLog('debug', ns, log) : undefined,
  onwarn: (ns, log) => keepLog('warn', ns, log),
  onerror: (ns, log, error) => keepLog('error', ns, log, error),
});
export function recentLibraryLog(n = 30) {
  return libraryLog.length ? `mediasoup library/worker log (last ${Math.min(n, libraryLog.length)}):\n  ${libraryLog.slice(-n).join('\n  ')}` : '';
}

/** Starts a mediasoup Worker on the binary under test (clear message if it is missing). */
export async function createWorker({ logLevel = process.env.SFU_E2E_WORKER_LOG_LEVEL ?? 'warn', logTags } = {}) {
  if (!fs.existsSync(workerBin)) {
    throw new Error(`worker binary ${workerBin} does not exist (build it with "make worker" or set SFU_WORKER_BIN)`);
  }
  const worker = await step(`createWorker(${path.relative(repoRoot, workerBin) || workerBin})`,
    () => mediasoup.createWorker({
      workerBin, logLevel, logTags: logTags ?? ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp'],
    }));
  worker.on('died', (err) => { worker.diedError = err; });
  return worker;
}

/** Throws at once if the worker died (so a poll loop does not wait for its timeout). */
export function assertWorkerAlive(worker) {
  if (worker?.diedError) throw new Error(`the worker died: ${worker.diedError.message}`);
}

/** One line on the worker's state, for failure messages. */
export function describeWorker(worker) {
  if (!worker) return 'no worker';
  if (worker.diedError) return `worker died: ${worker.diedError.message}`;
  return worker.closed ? 'worker closed' : `worker pid ${worker.pid} alive`;
}
