// Capacity benchmark: N concurrent 1:1 voice calls through a worker, driven by
// the unmodified mediasoup 3.27.1 library, against our worker and mediasoup's
// own worker alternately in one run (so both see the same machine load).
//
// Per call (one router per call, as the controller keeps one per room), per
// side: a send and a recv WebRtcTransport (on one WebRtcServer per worker with
// --mode server, the default; own ports with --mode ports), connected with the
// peer's DTLS fingerprint (role client), an Opus producer (SSRC), a paused
// consumer of the other side's producer, resumed. The peers are
// build/sfu-loadgen (ICE, DTLS client, SRTP, RTCP, 50 packets/s of 160-byte
// Opus payloads per producer; see tests/load/sfu_loadgen.c).
//
// Reports per N and worker: worker CPU per call-second (schedstat of every
// thread, over the measurement window), delivery %, one-way latency p50/p99
// through the worker (send time in the payload, same host clock), worker RSS
// per call ((VmRSS with N calls - VmRSS of the idle worker) / N); then the
// largest N with >= 99.9 % delivery and p99 < 20 ms per worker, calls per core
// (1 s of CPU / CPU per call-second at that N) and the ratio. --setup adds the
// call set-up cost: worker CPU and wall time per call set-up (until both
// sides' DTLS is connected) with 1 and --setup-conc concurrent set-ups, p50/p99.
//
//   node tests/load/calls.mjs [--worker BIN]... [--ns 10,50,100] [--seconds 10]
//        [--mode server|ports] [--setup] [--setup-reps 20] [--setup-conc 100]
//        [--smoke] [--json FILE]
// Default workers: build/sfu-worker and build/mediasoup-worker/mediasoup-worker
// (either from this tree, or /work/main/build/... if missing). --smoke: one
// worker, asserts 100 % delivery and an empty worker dump after closing, exit
// code 1 otherwise (the test command's smoke, tests/worker/load.test.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const argv = process.argv.slice(2);
function arg(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
}
const flag = (name) => argv.includes(`--${name}`);
function defaultBin(rel) {
  const mine = path.join(repoRoot, rel);
  return fs.existsSync(mine) ? mine : path.join('/work/main', rel);
}
let workers = argv.flatMap((a, i) => (a === '--worker' ? [path.resolve(argv[i + 1])] : []));
if (workers.length === 0)
  workers = [path.join(repoRoot, 'build/sfu-worker'), defaultBin('build/mediasoup-worker/mediasoup-worker')];
const ns = arg('ns', '10,50,100').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const mode = arg('mode', 'server');
const smoke = flag('smoke');
const loadgenBin = path.resolve(arg('loadgen', path.join(repoRoot, 'build/sfu-loadgen')));
const label = (bin) => (bin.includes('mediasoup-worker') ? 'mediasoup' : path.basename(bin));

// ---- process measurements ----
function cpuNs(pid) {
  let ns_ = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns_ += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {}
  }
  return ns_;
}
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
// UDP/TCP sockets (not the channel's socketpairs) among a process's fds.
export function netSockets(pid) {
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
function busyPct() {
  const s = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: s[3] + s[4], total: s.reduce((a, b) => a + b, 0) };
}
const pct = (arr, p) => {
  if (arr.length === 0) return NaN;
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// ---- the load generator ----
function startLoadgen() {
  const child = spawn(loadgenBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const waiters = new Map(); // "up 12" -> resolve
  const lines = [];
  let lineWaiter = null;
  rl.on('line', (l) => {
    const [k, id] = l.split(' ');
    if (k === 'up' || k === 'fail') {
      const w = waiters.get(id);
      if (w) {
        waiters.delete(id);
        k === 'up' ? w.resolve() : w.reject(new Error(`endpoint ${id}: DTLS failed`));
      }
      return;
    }
    if (lineWaiter) {
      const w = lineWaiter;
      lineWaiter = null;
      w(l);
    } else lines.push(l);
  });
  const next = () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => (lineWaiter = r)));
  let nextId = 0;
  return {
    child,
    next,
    newId: () => nextId++,
    addEndpoint(id, e, timeoutMs = 20000) {
      const p = new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiters.delete(String(id));
          reject(new Error(`endpoint ${id}: not connected after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(String(id), {
          resolve: () => (clearTimeout(t), resolve()),
          reject: (err) => (clearTimeout(t), reject(err)),
        });
      });
      child.stdin.write(`ep ${id} ${e.ip} ${e.port} ${e.ufrag} ${e.pwd} ${e.fp} ${e.sendSsrc} ${e.recvSsrc}\n`);
      return p;
    },
    close(id) {
      child.stdin.write(`close ${id}\n`);
    },
    async measure(ms) {
      child.stdin.write(`m ${ms}\n`);
      const l = await next();
      const [, sent, recv, p50, p99, max, rtcp] = l.split(' ').map(Number);
      return { sent, recv, p50, p99, max, rtcp };
    },
    end() {
      child.stdin.end();
    },
  };
}

// ---- calls ----
// Socket buffers for both workers alike: a WebRtcServer socket takes every
// call's packets, and on a loaded shared host the default 208 KiB fills
// within one descheduled slice (--bufs 0: the kernel defaults).
const bufBytes = Number(arg('bufs', String(4 << 20)));
const BUFS = bufBytes > 0 ? { recvBufferSize: bufBytes, sendBufferSize: bufBytes } : {};
const mediaCodecs = [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];

async function newWorker(bin) {
  const worker = await mediasoup.createWorker({ workerBin: bin, logLevel: 'error' });
  let server = null;
  if (mode === 'server')
    server = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0, ...BUFS }] });
  return { worker, server, pid: worker.pid };
}

let ssrcSeq = 1000;
async function setupCall(w, lg, fp) {
  const router = await w.worker.createRouter({ mediaCodecs });
  const topt = w.server
    ? { webRtcServer: w.server, enableUdp: true, enableTcp: false }
    : { listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', ...BUFS }] };
  const sides = [];
  for (let s = 0; s < 2; s++) {
    const send = await router.createWebRtcTransport(topt);
    const recv = await router.createWebRtcTransport(topt);
    const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fp }] };
    await Promise.all([send.connect({ dtlsParameters }), recv.connect({ dtlsParameters })]);
    const ssrc = ssrcSeq++;
    const producer = await send.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
        rtcp: { cname: `lg${ssrc}` },
      },
    });
    sides.push({ send, recv, producer, ssrc });
  }
  const consumers = [];
  for (let s = 0; s < 2; s++) {
    const c = await sides[s].recv.consume({
      producerId: sides[1 - s].producer.id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
    });
    await c.resume();
    consumers.push(c);
  }
  const eps = [];
  const ups = [];
  for (let s = 0; s < 2; s++) {
    for (const [t, sendSsrc, recvSsrc] of [
      [sides[s].send, sides[s].ssrc, 0],
      [sides[s].recv, 0, consumers[s].rtpParameters.encodings[0].ssrc],
    ]) {
      const c = t.iceCandidates.find((x) => x.protocol === 'udp');
      const id = lg.newId();
      eps.push(id);
      ups.push(
        lg.addEndpoint(id, {
          ip: c.address ?? c.ip,
          port: c.port,
          ufrag: t.iceParameters.usernameFragment,
          pwd: t.iceParameters.password,
          fp: t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256').value,
          sendSsrc,
          recvSsrc,
        }),
      );
    }
  }
  await Promise.all(ups);
  return { router, eps };
}

async function closeCall(call, lg) {
  for (const id of call.eps) lg.close(id);
  call.router.close();
}

async function pool(n, conc, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(conc, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

async function dumpObjects(w) {
  const d = await w.worker.dump();
  const count = (d.routerIds?.length ?? 0) + (d.webRtcServerIds?.length ?? 0);
  return count;
}

// One N for one worker: a fresh worker, N calls, a window of `seconds`.
async function runLoad(bin, n, lg, fp) {
  const w = await newWorker(bin);
  await sleep(300);
  const rss0 = rssKiB(w.pid);
  const t0 = Date.now();
  const calls = await pool(n, 20, () => setupCall(w, lg, fp));
  const setupS = (Date.now() - t0) / 1000;
  await sleep(2000); // consumers resumed, RTCP flowing, caches warm
  // --perf DIR: perf record of the worker during the window (DIR/perf-<worker>-<N>.data)
  const perf = arg('perf')
    ? spawn('perf', ['record', '-q', '-g', '-F', '1999', '-p', String(w.pid), '-o', path.join(arg('perf'), `perf-${label(bin)}-${n}.data`)], { stdio: 'ignore' })
    : null;
  const c0 = cpuNs(w.pid);
  const b0 = busyPct();
  const m = await lg.measure(seconds * 1000);
  const c1 = cpuNs(w.pid);
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
  }
  const b1 = busyPct();
  const rss1 = rssKiB(w.pid);
  for (const c of calls) await closeCall(c, lg);
  await sleep(200);
  const left = await Promise.all(w.worker.routersForTesting ?? []);
  void left;
  const d = await w.worker.dump();
  const routersLeft = d.routerIds.length;
  w.worker.close();
  const windowS = seconds + 1; // the window plus the 1 s drain the loadgen waits
  const r = {
    worker: label(bin),
    n,
    cpuUsPerCallS: (c1 - c0) / 1000 / windowS / n,
    delivery: m.sent ? (100 * m.recv) / m.sent : 0,
    p50Ms: m.p50 / 1000,
    p99Ms: m.p99 / 1000,
    maxMs: m.max / 1000,
    rssKiBPerCall: (rss1 - rss0) / n,
    workerCpuPct: (100 * (c1 - c0)) / 1e9 / windowS,
    hostBusyPct: (100 * (1 - (b1.idle - b0.idle) / (b1.total - b0.total))),
    sent: m.sent,
    recv: m.recv,
    rtcpIn: m.rtcp,
    setupS,
    routersLeft,
  };
  return r;
}

// Set-up cost: one call at a time (reps), then `conc` at once.
async function runSetup(bin, lg, fp, reps, conc) {
  const w = await newWorker(bin);
  await sleep(300);
  const seq = { cpuMs: [], wallMs: [] };
  const calls = [];
  for (let i = 0; i < reps; i++) {
    const c0 = cpuNs(w.pid);
    const t0 = process.hrtime.bigint();
    calls.push(await setupCall(w, lg, fp));
    seq.wallMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    seq.cpuMs.push((cpuNs(w.pid) - c0) / 1e6);
  }
  for (const c of calls.splice(0)) await closeCall(c, lg);
  await sleep(500);
  const c0 = cpuNs(w.pid);
  const tStart = process.hrtime.bigint();
  const par = await Promise.all(
    Array.from({ length: conc }, async () => {
      const t0 = process.hrtime.bigint();
      const call = await setupCall(w, lg, fp);
      calls.push(call);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    }),
  );
  const totalMs = Number(process.hrtime.bigint() - tStart) / 1e6;
  const cpuPer = (cpuNs(w.pid) - c0) / 1e6 / conc;
  for (const c of calls) await closeCall(c, lg);
  w.worker.close();
  return {
    worker: label(bin),
    seq: { cpuP50: pct(seq.cpuMs, 50), cpuP99: pct(seq.cpuMs, 99), wallP50: pct(seq.wallMs, 50), wallP99: pct(seq.wallMs, 99) },
    conc: { n: conc, cpuPerCallMs: cpuPer, wallP50: pct(par, 50), wallP99: pct(par, 99), totalMs },
  };
}

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const lg = startLoadgen();
  const fpLine = await lg.next();
  const fp = fpLine.split(' ')[1];
  const results = [];
  const watchdog = setTimeout(() => {
    console.error('calls.mjs: watchdog');
    process.exit(2);
  }, Number(arg('max-seconds', '3000')) * 1000);
  watchdog.unref();

  if (smoke) {
    const bin = workers[0];
    const w = await newWorker(bin);
    const calls = await pool(ns[0], 5, () => setupCall(w, lg, fp));
    await sleep(1000);
    const m = await lg.measure(seconds * 1000);
    for (const c of calls) await closeCall(c, lg);
    await sleep(300);
    const d = await w.worker.dump();
    const socks = netSockets(w.pid);
    if (w.server) w.server.close();
    await sleep(300);
    const socksAfter = netSockets(w.pid);
    const d2 = await w.worker.dump();
    w.worker.close();
    lg.end();
    const out = { sent: m.sent, recv: m.recv, p99Ms: m.p99 / 1000, rtcpIn: m.rtcp, routersLeft: d.routerIds.length, serversLeft: d2.webRtcServerIds.length, socketsWithServer: socks, socketsAfter: socksAfter };
    console.log(JSON.stringify(out));
    process.exit(m.sent > 0 && m.recv === m.sent && d.routerIds.length === 0 && d2.webRtcServerIds.length === 0 && socksAfter === 0 ? 0 : 1);
  }

  console.log(`# calls.mjs: mode ${mode}, ${seconds} s windows, workers: ${workers.map(label).join(', ')}, ${new Date().toISOString()}`);
  console.log(`# loadavg at start: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  console.log('| worker | N | CPU us/call-s | worker CPU % | delivery % | p50 ms | p99 ms | max ms | RSS KiB/call | host busy % |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const n of ns) {
    // alternate the order per N so neither worker always goes first
    const order = results.length / workers.length % 2 ? [...workers].reverse() : workers;
    for (const bin of order) {
      const r = await runLoad(bin, n, lg, fp);
      results.push(r);
      console.log(`| ${r.worker} | ${n} | ${f(r.cpuUsPerCallS)} | ${f(r.workerCpuPct)} | ${f(r.delivery, 3)} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${f(r.maxMs, 1)} | ${f(r.rssKiBPerCall)} | ${f(r.hostBusyPct, 0)} |`);
    }
  }
  const summary = {};
  for (const bin of workers) {
    const name = label(bin);
    const ok = results.filter((r) => r.worker === name && r.delivery >= 99.9 && r.p99Ms < 20);
    const best = ok.sort((a, b) => b.n - a.n)[0];
    summary[name] = best
      ? { maxN: best.n, cpuUsPerCallS: best.cpuUsPerCallS, callsPerCore: 1e6 / best.cpuUsPerCallS, p99Ms: best.p99Ms, rssKiBPerCall: best.rssKiBPerCall }
      : null;
  }
  console.log('\n| worker | largest N ok (>= 99.9 %, p99 < 20 ms) | CPU us/call-s there | calls per core (1 s / that) | p99 ms | RSS KiB/call |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, s] of Object.entries(summary))
    console.log(s ? `| ${name} | ${s.maxN} | ${f(s.cpuUsPerCallS)} | ${f(s.callsPerCore, 0)} | ${f(s.p99Ms, 2)} | ${f(s.rssKiBPerCall)} |` : `| ${name} | none | | | | |`);
  // every worker against mediasoup's (or the last one given)
  const names = Object.keys(summary);
  const ref = names.includes('mediasoup') ? 'mediasoup' : names[names.length - 1];
  for (const name of names)
    if (name !== ref && summary[name] && summary[ref])
      console.log(`ratio ${name}/${ref}: calls per core ${f(summary[name].callsPerCore / summary[ref].callsPerCore, 2)}x, p99 ${f(summary[name].p99Ms / summary[ref].p99Ms, 2)}x`);
  // CPU per call-second at every N, against the reference
  for (const name of names) {
    if (name === ref) continue;
    const rs = ns.map((n) => {
      const a = results.find((r) => r.worker === name && r.n === n);
      const b = results.find((r) => r.worker === ref && r.n === n);
      return a && b ? `N=${n} ${f(b.cpuUsPerCallS / a.cpuUsPerCallS, 2)}x` : null;
    });
    console.log(`CPU per call-second, ${ref}/${name}: ${rs.filter(Boolean).join(', ')}`);
  }

  let setup = [];
  if (flag('setup')) {
    const reps = Number(arg('setup-reps', '20'));
    const conc = Number(arg('setup-conc', '100'));
    console.log(`\n| worker | set-up 1 at a time: CPU ms p50/p99 | wall ms p50/p99 | ${conc} concurrent: CPU ms per call | wall ms p50/p99 | all ${conc} ms |`);
    console.log('|---|---|---|---|---|---|');
    for (const bin of workers) {
      const s = await runSetup(bin, lg, fp, reps, conc);
      setup.push(s);
      console.log(`| ${s.worker} | ${f(s.seq.cpuP50, 2)} / ${f(s.seq.cpuP99, 2)} | ${f(s.seq.wallP50, 1)} / ${f(s.seq.wallP99, 1)} | ${f(s.conc.cpuPerCallMs, 2)} | ${f(s.conc.wallP50, 0)} / ${f(s.conc.wallP99, 0)} | ${f(s.conc.totalMs, 0)} |`);
    }
  }
  console.log(`# loadavg at end: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  if (arg('json')) fs.writeFileSync(arg('json'), JSON.stringify({ results, summary, setup }, null, 1));
  lg.end();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
