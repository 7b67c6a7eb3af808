// Soak: join/leave cycles of 1:1 calls against the node controller
// (node-controller/dist, started here as its own process, one worker),
// through its REST API and event WebSocket, with real media: each
// participant joins (RTC-01), opens the event socket, creates a send and a
// recv transport, connects both with the load generator's DTLS fingerprint
// (build/sfu-loadgen does ICE, DTLS and SRTP on them), produces Opus,
// consumes the other participant's producer and resumes it, holds the call a
// little, then leaves: DELETE .../participants/me and a clean socket close,
// or (--abrupt, 20 % by default) the event socket terminated and the media
// endpoints dropped without a word (the controller's grace period cleans up).
// One cycle = one participant's join and leave (a call is two cycles).
//
// Checks, after the first --checkpoint cycles (1,000) and at the end, each
// time with every call drained: no object in the worker's dump (routers and
// channel handlers other than the worker itself), no UDP/TCP socket of the
// worker in /proc/<pid>/fd, and at the end worker RSS and the controller's
// heap (after gc) within --tolerance (5 %) of their checkpoint level.
// Exit code 0 when every check holds; one JSON line with the figures.
//
//   node tests/load/soak.mjs [--cycles 10000] [--checkpoint 1000] [--lanes 4]
//        [--abrupt 0.2] [--tolerance 0.05] [--worker BIN]
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const WebSocket = require('ws');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const argv = process.argv.slice(2);
const arg = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : d;
};
const cycles = Number(arg('cycles', '10000'));
const checkpoint = Number(arg('checkpoint', '1000'));
const lanes = Number(arg('lanes', '4'));
const abruptShare = Number(arg('abrupt', '0.2'));
const tolerance = Number(arg('tolerance', '0.05'));
const workerBin = path.resolve(arg('worker', path.join(repoRoot, 'build/sfu-worker')));
const loadgenBin = path.join(repoRoot, 'build/sfu-loadgen');
const serverJs = path.join(repoRoot, 'node-controller/dist/src/server.js');
const SECRET = 'soak-secret-0123456789';
const GRACE_MS = 300;

if (!fs.existsSync(serverJs)) {
  console.error(`soak: ${serverJs} missing (cd node-controller && npm run build)`);
  process.exit(2);
}

// deterministic pseudo-random numbers (xorshift32)
let seed = 0x1f2e3d4c;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x100000000;
};

const b64url = (s) => Buffer.from(s).toString('base64url');
function token(claims) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ iat: now, exp: now + 36000, ...claims }))}`;
  return `${input}.${b64url(crypto.createHmac('sha256', SECRET).update(input).digest())}`;
}
const serviceTok = token({ sub: 'soak', role: 'service' });

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// ---- /proc ----
function netSockets(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  let n = 0;
  for (const t of ['udp', 'udp6', 'tcp', 'tcp6'])
    for (const line of fs.readFileSync(`/proc/net/${t}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9])) n++;
    }
  return n;
}
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// ---- the controller ----
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const rtcMin = 20000 + Math.floor(Math.random() * 20000);
const ctl = spawn(process.execPath, ['--expose-gc', '--require', path.join(repoRoot, 'tests/load/soak-preload.cjs'), serverJs], {
  cwd: path.join(repoRoot, 'node-controller'),
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: SECRET,
    RTC_WORKERS: '1',
    RTC_WORKER_BIN: workerBin,
    RTC_DEV_ROUTES: '1',
    RTC_MIN_PORT: String(rtcMin),
    RTC_MAX_PORT: String(rtcMin + 9999),
    RTC_DISCONNECT_GRACE_MS: String(GRACE_MS),
    RTC_EMPTY_ROOM_TIMEOUT_MS: '100',
    LOG_LEVEL: 'error',
  },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ctlHeap = () =>
  new Promise((resolve) => {
    ctl.once('message', (m) => resolve(m.heap));
    ctl.send('heap');
  });
let ctlExited = false;
ctl.on('exit', (code) => {
  ctlExited = true;
  if (!finished) {
    console.error(`soak: controller exited (${code})`);
    process.exit(1);
  }
});
let finished = false;
const stopAll = () => {
  finished = true;
  if (!ctlExited) ctl.kill('SIGTERM');
  lg.child.stdin.end();
};

async function api(method, url, tok, body) {
  const res = await fetch(base + url, {
    method,
    headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json ?? text };
}

for (let i = 0; ; i++) {
  try {
    const r = await fetch(`${base}/healthz`);
    if (r.ok) break;
  } catch {}
  if (i > 200) throw new Error('controller did not start');
  await sleep(100);
}

// ---- the load generator ----
const lg = (() => {
  const child = spawn(loadgenBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const waiters = new Map();
  let fpResolve;
  const fp = new Promise((r) => (fpResolve = r));
  rl.on('line', (l) => {
    const [k, v] = l.split(' ');
    if (k === 'fp') fpResolve(v);
    else if (k === 'up' || k === 'fail') {
      const w = waiters.get(v);
      if (w) {
        waiters.delete(v);
        w(k === 'up');
      }
    }
  });
  let nextId = 0;
  return {
    child,
    fp,
    add(t, sendSsrc, recvSsrc) {
      const id = nextId++;
      const c = t.iceCandidates.find((x) => x.protocol === 'udp');
      const fpv = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256').value;
      const up = new Promise((resolve) => {
        const timer = setTimeout(() => (waiters.delete(String(id)), resolve(false)), 10000);
        waiters.set(String(id), (ok) => (clearTimeout(timer), resolve(ok)));
      });
      child.stdin.write(`ep ${id} ${c.address ?? c.ip} ${c.port} ${t.iceParameters.usernameFragment} ${t.iceParameters.password} ${fpv} ${sendSsrc} ${recvSsrc}\n`);
      return { id, up };
    },
    close(id) {
      child.stdin.write(`close ${id}\n`);
    },
  };
})();
const fp = await lg.fp;
const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fp }] };

function openEvents(callId, tok) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/rtc/events?callId=${encodeURIComponent(callId)}&token=${tok}`);
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`ws ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

let ssrc = 50000;
async function joinSide(callId, userId) {
  const tok = token({ sub: userId, callId });
  const caps = await api('GET', `/rtc/capabilities?callId=${callId}`, tok);
  if (caps.status !== 200) throw new Error(`join: ${caps.status} ${JSON.stringify(caps.body)}`);
  const ws = await openEvents(callId, tok);
  const mk = async (direction) => {
    const r = await api('POST', '/rtc/transports', tok, { callId, direction });
    if (r.status !== 201) throw new Error(`transport: ${r.status} ${JSON.stringify(r.body)}`);
    const t = r.body.transport;
    const c = await api('POST', `/rtc/transports/${t.id}/connect`, tok, { dtlsParameters });
    if (c.status !== 200) throw new Error(`connect: ${c.status} ${JSON.stringify(c.body)}`);
    return t;
  };
  const send = await mk('send');
  const recv = await mk('recv');
  const s = ssrc++;
  const p = await api('POST', '/rtc/producers', tok, {
    callId,
    transportId: send.id,
    kind: 'audio',
    rtpParameters: {
      mid: '0',
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
      headerExtensions: [],
      encodings: [{ ssrc: s }],
      rtcp: { cname: `soak${s}`, reducedSize: true },
    },
  });
  if (p.status !== 201) throw new Error(`produce: ${p.status} ${JSON.stringify(p.body)}`);
  return { tok, userId, ws, send, recv, ssrc: s, producerId: p.body.producerId, rtpCapabilities: caps.body.routerRtpCapabilities, eps: [] };
}

const stats = { calls: 0, cycles: 0, abrupt: 0, leave: 0, mediaUp: 0, mediaFailed: 0, errors: 0 };
async function callCycle(n) {
  const callId = `soak-${n}`;
  const sides = [];
  try {
    sides.push(await joinSide(callId, `a${n}`));
    sides.push(await joinSide(callId, `b${n}`));
    for (let i = 0; i < 2; i++) {
      const me = sides[i];
      const other = sides[1 - i];
      const c = await api('POST', '/rtc/consumers', me.tok, {
        callId,
        transportId: me.recv.id,
        producerId: other.producerId,
        rtpCapabilities: me.rtpCapabilities,
      });
      if (c.status !== 201) throw new Error(`consume: ${c.status} ${JSON.stringify(c.body)}`);
      const r = await api('POST', `/rtc/consumers/${c.body.id}/resume`, me.tok);
      if (r.status !== 200) throw new Error(`resume: ${r.status}`);
      me.eps.push(lg.add(me.send, me.ssrc, 0), lg.add(me.recv, 0, c.body.rtpParameters.encodings[0].ssrc));
    }
    const ups = await Promise.all(sides.flatMap((s) => s.eps.map((e) => e.up)));
    for (const ok of ups) ok ? stats.mediaUp++ : stats.mediaFailed++;
    await sleep(50 + rnd() * 150); // media flows meanwhile
  } catch (err) {
    stats.errors++;
    if (stats.errors <= 5) console.error(`soak: call ${n}: ${err.message}`);
  }
  for (const s of sides) {
    stats.cycles++;
    for (const e of s.eps) lg.close(e.id);
    if (rnd() < abruptShare) {
      stats.abrupt++;
      s.ws.terminate(); // tab gone: nothing more from this participant
    } else {
      stats.leave++;
      await api('DELETE', `/rtc/rooms/${callId}/participants/me`, s.tok);
      s.ws.close();
    }
  }
  stats.calls++;
}

async function runCycles(target) {
  let next = stats.calls;
  const lastCall = Math.ceil(target / 2);
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < lastCall) await callCycle(next++);
    }),
  );
}

async function workerState() {
  const r = await api('GET', '/dev/workers/dump', serviceTok);
  const w = r.body.workers[0];
  const handlers = w.dump.channelMessageHandlers.channelRequestHandlers.filter((h) => h !== String(w.pid)).length;
  return { pid: w.pid, routers: w.dump.routerIds.length, webRtcServers: w.dump.webRtcServerIds.length, handlers };
}

async function drained() {
  const end = Date.now() + GRACE_MS + 15000;
  for (;;) {
    const s = await workerState();
    if (s.routers === 0 && s.handlers === 0) {
      await sleep(300); // the worker reaps closed sockets after the loop turn
      return { ...s, sockets: netSockets(s.pid) };
    }
    if (Date.now() > end) return { ...s, sockets: netSockets(s.pid) };
    await sleep(100);
  }
}

async function levels() {
  const s = await drained();
  await sleep(200);
  return { ...s, rssKiB: rssKiB(s.pid), heap: await ctlHeap() };
}

const t0 = Date.now();
await runCycles(Math.min(checkpoint, cycles));
const at1 = await levels();
const tCheckpoint = Date.now();
if (cycles > checkpoint) await runCycles(cycles);
const at2 = await levels();
const seconds = (Date.now() - t0) / 1000;
const fails = [];
for (const [name, s] of [['checkpoint', at1], ['end', at2]]) {
  if (s.routers !== 0 || s.handlers !== 0) fails.push(`${name}: worker objects left (${s.routers} routers, ${s.handlers} handlers)`);
  if (s.sockets !== 0) fails.push(`${name}: ${s.sockets} sockets left in the worker`);
}
const rssGrowth = at2.rssKiB / at1.rssKiB - 1;
const heapGrowth = at2.heap / at1.heap - 1;
if (cycles > checkpoint) {
  if (rssGrowth > tolerance) fails.push(`worker RSS grew ${(100 * rssGrowth).toFixed(1)} %`);
  if (heapGrowth > tolerance) fails.push(`controller heap grew ${(100 * heapGrowth).toFixed(1)} %`);
}
if (stats.errors > 0) fails.push(`${stats.errors} calls failed`);
if (stats.mediaFailed > 0) fails.push(`${stats.mediaFailed} media endpoints never connected`);
const out = {
  cycles: stats.cycles,
  calls: stats.calls,
  abrupt: stats.abrupt,
  leave: stats.leave,
  mediaUp: stats.mediaUp,
  mediaFailed: stats.mediaFailed,
  errors: stats.errors,
  seconds: Number(seconds.toFixed(1)),
  secondsAfterCheckpoint: Number(((Date.now() - tCheckpoint) / 1000).toFixed(1)),
  checkpoint: { rssKiB: at1.rssKiB, heapMiB: Number((at1.heap / 1048576).toFixed(2)), sockets: at1.sockets, routers: at1.routers, handlers: at1.handlers },
  end: { rssKiB: at2.rssKiB, heapMiB: Number((at2.heap / 1048576).toFixed(2)), sockets: at2.sockets, routers: at2.routers, handlers: at2.handlers },
  rssGrowthPct: Number((100 * rssGrowth).toFixed(2)),
  heapGrowthPct: Number((100 * heapGrowth).toFixed(2)),
  fails,
};
console.log(JSON.stringify(out));
stopAll();
await sleep(300);
process.exit(fails.length === 0 ? 0 : 1);
