// Harness of the controller's browser end-to-end test: starts the server
// under test (CONTROLLER_CMD, default the controller: node dist/src/server.js), mints tokens, launches
// Debian's Chromium (one browser process per user, like two devices), and
// polls. Module resolution: node-controller/node_modules first (its
// devDependencies), then tests/e2e/node_modules (scripts/setup.sh --e2e).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const controllerDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = path.resolve(controllerDir, '..');

export function requireDev(name) {
  const bases = [path.join(controllerDir, 'package.json'), path.join(repoRoot, 'tests', 'e2e', 'package.json')];
  for (const base of bases) {
    try { return createRequire(base)(name); } catch { /* next */ }
  }
  throw new Error(`${name} not found in node-controller/node_modules nor tests/e2e/node_modules (npm ci, or scripts/setup.sh --e2e)`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() (truthy = done) every `every` ms; throws "<what>: timed out after N ms (last: ...)". */
export async function waitFor(what, fn, { timeout = 10_000, every = 100 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > end) throw new Error(`${what}: timed out after ${timeout} ms (last: ${JSON.stringify(last)})`);
    await sleep(every);
  }
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Starts the controller: `sh -c "$CONTROLLER_CMD"` in node-controller/ (its own
 * process group), HOST/PORT/JWT_SECRET/RTC_* in the environment; waits for
 * GET /healthz. -> {url, get(path, token), del(path, token), logTail(), stop(), kill()}
 */
export async function startController({ secret, env = {} }) {
  const cmd = process.env.CONTROLLER_CMD ?? 'node dist/src/server.js';
  const port = await freePort();
  const workerBin = process.env.RTC_WORKER_BIN ?? process.env.SFU_WORKER_BIN ?? path.join(repoRoot, 'build', 'sfu-worker');
  const child = spawn('sh', ['-c', cmd], {
    cwd: controllerDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      RTC_DEV_ROUTES: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: secret,
      RTC_WORKER_BIN: workerBin,
      RTC_WORKERS: '1',
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_MIN_PORT: '40000',
      RTC_MAX_PORT: '41000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...env,
    },
  });
  const lines = [];
  const keep = (chunk) => {
    for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(l.slice(0, 600));
    if (lines.length > 300) lines.splice(0, lines.length - 300);
    if (process.env.E2E_VERBOSE) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => { exited = `exited (code ${code}, signal ${sig})`; });
  const url = `http://127.0.0.1:${port}`;
  const ctl = {
    url,
    cmd,
    logTail: (n = 40) => `controller (${cmd}) log, last ${Math.min(n, lines.length)} lines:\n  ${lines.slice(-n).join('\n  ')}`,
    async request(method, p, token, body) {
      const headers = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let data = null;
      try { data = JSON.parse(text); } catch { data = text; }
      return { status: res.status, data };
    },
    get(p, token) { return ctl.request('GET', p, token); },
    del(p, token) { return ctl.request('DELETE', p, token); },
    /** SIGKILL to the controller and its workers (its process group): a node dying. */
    async kill() {
      if (exited) return;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { return; }
      await new Promise((r) => { if (exited) r(); else child.once('exit', r); });
    },
    async stop() {
      if (exited) return;
      try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await new Promise((r) => { if (exited) r(); else child.once('exit', r); });
      clearTimeout(t);
    },
  };
  await waitFor('controller GET /healthz', async () => {
    if (exited) throw new Error(`controller ${exited}\n${ctl.logTail()}`);
    return (await fetch(`${url}/healthz`).catch(() => null))?.ok;
  }, { timeout: 30_000, every: 200 }).catch((err) => {
    ctl.stop();
    throw new Error(`${err.message}\n${ctl.logTail()}`);
  });
  return ctl;
}

export const chromiumPath = process.env.SFU_E2E_CHROMIUM ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--no-sandbox', '--disable-gpu',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required',
];

/**
 * One Chromium process for one user (launchServer, so the test can SIGKILL
 * it): -> {page, kill(), close(), consoleLines}. The page is loaded from the
 * controller's own URL (Chromium's local-network-access checks); `ready`
 * (run in the page) says it has loaded (default: the demo page's window.demo).
 */
export async function openUser(url, label, { ready = () => !!window.demo } = {}) {
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} not found: run "bash scripts/setup.sh --e2e"`);
  const { chromium } = requireDev('playwright-core');
  const server = await chromium.launchServer({ executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 30_000 });
  const browser = await chromium.connect(server.wsEndpoint());
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (m) => { consoleLines.push(`[${label} ${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => { consoleLines.push(`[${label} pageerror] ${e.message}`); });
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  await page.waitForFunction(ready, null, { timeout: 10_000 });
  const proc = server.process();
  return {
    label,
    page,
    consoleLines,
    /** Abrupt end: SIGKILL to the whole browser process group (no pagehide, no leave). */
    kill() {
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { proc.kill('SIGKILL'); }
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close().catch(() => {});
    },
    async describe() {
      const s = await page.evaluate(() => ({
        phase: window.demo.state.phase, log: window.demo.state.log.slice(-25),
      })).catch((e) => ({ phase: `(page gone: ${e.message.split('\n')[0]})`, log: [] }));
      return `page ${label}: phase ${s.phase}\n  ${s.log.join('\n  ')}\n  ${consoleLines.slice(-10).join('\n  ')}`;
    },
  };
}

// ---------------------------------------------------------------- demo page probes
/** The page's demo state: {phase, callConnected, socketOpen, events, ids}. */
export const demoState = (u) => u.page.evaluate(() => {
  const s = window.demo.state;
  return {
    phase: s.phase, callConnected: s.callConnected, socketOpen: s.ws?.readyState === WebSocket.OPEN,
    events: s.events, ids: window.demo.ids(),
  };
});

/** Sum of inbound audio bytes over the page's consumers. */
export async function audioIn(u) {
  const st = await u.page.evaluate(() => window.demo.stats());
  return st.inbound.filter((x) => x.kind === 'audio').reduce((a, x) => a + x.bytesReceived, 0);
}

/** Clicks Join and waits for phase "joined". */
export async function clickJoin(u, timeout = 20_000) {
  await u.page.click('#join');
  await waitFor(`${u.label} joined`, async () => (await demoState(u)).phase === 'joined', { timeout });
}

/** Every object id the workers know (routers + channel request handlers), or null without GET /dev/workers/dump. */
export async function workerIds(ctl, serviceToken) {
  const r = await ctl.get('/dev/workers/dump', serviceToken);
  if (r.status !== 200) return null;
  const ids = new Set();
  for (const w of r.data.workers) {
    for (const id of w.dump.routerIds ?? []) ids.add(id);
    for (const id of w.dump.channelMessageHandlers?.channelRequestHandlers ?? []) ids.add(id);
  }
  return ids;
}

/** The objects of ids ({transports, producers, consumers, dataProducers, dataConsumers}) still in the worker dump. */
export async function stillInWorker(ctl, serviceToken, ids) {
  const known = await workerIds(ctl, serviceToken);
  if (!known) return [];
  return [...ids.transports, ...ids.producers, ...ids.consumers, ...(ids.dataProducers ?? []), ...(ids.dataConsumers ?? [])]
    .filter((id) => known.has(id));
}

/** What RTC-07 should release for these pages' ids (window.demo.ids()). */
export function releasedFor(idsList) {
  const out = { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };
  for (const ids of idsList) for (const k of Object.keys(out)) out[k] += ids[k]?.length ?? 0;
  return out;
}

/** Every page has its chat data producer and a data consumer of each other page's (the demo's chat is up). */
export async function chatReady(users, timeout = 10_000) {
  for (const u of users) {
    await waitFor(`${u.label}'s chat is up (1 data producer, ${users.length - 1} data consumers)`, async () => {
      const ids = (await demoState(u)).ids;
      return ids.dataProducers.length === 1 && ids.dataConsumers.length === users.length - 1;
    }, { timeout });
  }
}
