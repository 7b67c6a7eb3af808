#!/usr/bin/env node
// Fan-out benchmark (not a test): one Opus producer on a comedia
// PlainTransport, forwarded by our worker to K consumers, each on its own
// PlainTransport connected to a sink socket; compared with a minimal C UDP
// forwarder (scripts/bench-udp-forwarder.c: recvmmsg, then K sendto()) fed
// with the same packets, at the same rate, into the same sinks.  Packets
// come from, and are counted by, scripts/bench-udp-load.c (a paced sendmmsg
// sender; sinks that poll every millisecond rather than sleep in epoll_wait,
// so that delivering a packet to a sink never preempts the process under
// test: with blocking sinks the numbers swung by 2x with CPU placement).
//
//   node scripts/bench-fanout.mjs [--worker build/sfu-worker] [--ks 1,16,64]
//        [--variants plain,gcm,cm80] [--seconds 1.5] [--reps 3] [--rate 5000]
//        [--max-out-pps 160000] [--payload 160] [--profile 64:plain] [--more-baselines]
//
// Metric: CPU time of the process (sum over its threads of
// /proc/<pid>/task/<tid>/schedstat, ns resolution; user + system, including
// the loopback receive softirq work the kernel charges to the sender)
// divided by the RTP packets the sinks actually received: microseconds per
// output packet.  Delivery = received / (sent x K).
//
// Variants: plain RTP, and SRTP on the consumer PlainTransports
// (AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80; the sinks only count).  The
// goal reads: worker <= 1.3 x baseline without SRTP, and <= 1.3 x (baseline +
// SRTP protect cost) with it, where the protect cost is the best of 15 runs
// of scripts/bench-srtp.c before and 15 after the measurements (wall clock ns
// per srtp_protect of a 160-byte payload); the forwarder's own libsrtp
// variant (--srtp) is shown alongside as a measured kernel + libsrtp baseline:
// the protect cost as it is paid at that packet rate.  At K = 1 (one packet
// per wakeup, cold caches) that is 1.1-1.7 us, not the hot loop's 0.3-0.4 us.
//
// Input rate: --rate packets/s (default 5000), lowered to max-out-pps / K so
// that K = 64 stays within what a shared 2-core machine can sink.  Each
// point is measured --reps times, interleaving forwarder and worker runs, and
// the median is reported.  127.0.0.1 only; every child process ends with the
// script; a watchdog ends the whole run after --max-seconds (default 300).
// The C helpers are compiled into build/bench/ when missing or older than
// their source.  --profile K:variant adds unreported runs under perf stat
// (syscalls, context switches per packet) and perf record (hot spots).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'node-controller', 'package.json'));
const mediasoup = require('mediasoup');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const workerBin = path.resolve(arg('worker', path.join(repoRoot, 'build', 'sfu-worker')));
const ks = arg('ks', '1,16,64').split(',').map(Number);
const variantNames = arg('variants', 'plain,gcm,cm80').split(',');
const seconds = Number(arg('seconds', '1.5'));
const reps = Number(arg('reps', '3'));
const maxRate = Number(arg('rate', '5000'));
const maxOutPps = Number(arg('max-out-pps', '160000'));
const payload = Number(arg('payload', '160'));
// --profile K:variant: after that point's runs, two extra unreported runs of the worker and of the
// forwarder, one under `perf stat` (syscalls and context switches per packet) and one under
// `perf record -g` (top self-time objects and symbols).  Both slow the process down: their runs are not in the table.
const profilePoint = arg('profile', null);
// --more-baselines: three more forwarder variants for the plain rows, printed in a second table: all K
// copies sent from one socket with sendto(), or with one sendmmsg() of K messages per packet, and
// K connect()ed sockets with send().
const moreBaselines = process.argv.includes('--more-baselines');
const maxSeconds = Number(arg('max-seconds', '300'));
const BUF = 4 * 1024 * 1024;

const VARIANTS = {
  plain: { label: 'plain', suite: null },
  gcm: { label: 'SRTP GCM128', suite: 'AEAD_AES_128_GCM' },
  cm80: { label: 'SRTP CM80', suite: 'AES_CM_128_HMAC_SHA1_80' },
};
for (const v of variantNames) if (!VARIANTS[v]) throw new Error(`unknown variant ${v} (plain, gcm, cm80)`);

// ---- child processes ----

const children = new Set();
function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
}
process.on('exit', killAll);
const watchdog = setTimeout(() => {
  console.error(`bench-fanout: watchdog: still running after ${maxSeconds} s, giving up`);
  killAll();
  process.exit(3);
}, maxSeconds * 1000);

// A persistent helper that answers one line per command.
function startHelper(bin, args) {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  const lines = [];
  const waiters = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    if (waiters.length) waiters.shift()(l);
    else lines.push(l);
  });
  child.on('exit', () => {
    children.delete(child);
    while (waiters.length) waiters.shift()(null);
  });
  const next = () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => waiters.push(r)));
  return {
    pid: child.pid,
    next,
    async cmd(line) {
      child.stdin.write(`${line}\n`);
      const l = await next();
      if (l == null) throw new Error(`${path.basename(bin)} exited`);
      return l;
    },
    close() {
      child.stdin.end();
    },
  };
}

function build() {
  const out = path.join(repoRoot, 'build', 'bench');
  fs.mkdirSync(out, { recursive: true });
  const srtpDir = path.join(repoRoot, 'build', 'deps', 'srtp');
  const haveSrtp = fs.existsSync(path.join(srtpDir, 'lib', 'libsrtp2.a'));
  const flags = ['-O2', '-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra'];
  const srtpFlags = haveSrtp ? ['-DBENCH_SRTP', `-I${srtpDir}/include`] : [];
  const srtpLibs = haveSrtp ? [`${srtpDir}/lib/libsrtp2.a`, '-lcrypto'] : [];
  const tools = {
    load: { src: 'bench-udp-load.c', args: flags },
    fwd: { src: 'bench-udp-forwarder.c', args: [...flags, ...srtpFlags], libs: srtpLibs },
  };
  if (haveSrtp) tools.srtp = { src: 'bench-srtp.c', args: ['-O2', `-I${srtpDir}/include`], libs: srtpLibs };
  const bins = {};
  for (const [name, t] of Object.entries(tools)) {
    const src = path.join(repoRoot, 'scripts', t.src);
    const bin = path.join(out, path.basename(t.src, '.c'));
    if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs)
      execFileSync(process.env.CC || 'cc', [...t.args, '-o', bin, src, ...(t.libs || [])], { stdio: 'inherit' });
    bins[name] = bin;
  }
  return { bins, haveSrtp };
}

// ---- CPU accounting ----

function cpuNs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {}
  }
  return ns;
}

// Voluntary and involuntary context switches over all threads.
function ctxSwitches(pid) {
  let vol = 0;
  let invol = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      vol += Number(st.match(/^voluntary_ctxt_switches:\s+(\d+)/m)[1]);
      invol += Number(st.match(/^nonvoluntary_ctxt_switches:\s+(\d+)/m)[1]);
    } catch {}
  }
  return { vol, invol };
}

function hostTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

// ---- SRTP protect cost from scripts/bench-srtp.c ----

function srtpProtectNs(bin) {
  const best = {};
  // Short runs, best of 15: the figure is wall clock, and on a shared machine a
  // long run is rarely free of preemption.
  for (let i = 0; i < 15; i++) {
    const out = execFileSync(bin, ['20000'], { encoding: 'utf8' });
    for (const m of out.matchAll(/^(\S+)\s+protect\s+([\d.]+) ns/gm)) best[m[1]] = Math.min(best[m[1]] ?? Infinity, Number(m[2]));
  }
  return best;
}

// ---- one measurement ----

// Optional instrumentation of one extra (unreported) run: perf record -g, or
// perf stat counting syscalls (tracepoints) and context switches.
const SYSCALLS = ['recvmmsg', 'recvmsg', 'recvfrom', 'sendmsg', 'sendto', 'sendmmsg', 'epoll_wait', 'epoll_pwait', 'poll', 'ppoll', 'read', 'write', 'writev', 'timerfd_settime'];
function startProbe(kind, pid, file) {
  const args =
    kind === 'perf'
      ? ['record', '-g', '-F', '1999', '-p', String(pid), '-o', file]
      : ['stat', '-x', ',', '-o', file, '-p', String(pid), '-e', ['raw_syscalls:sys_enter', ...SYSCALLS.map((n) => `syscalls:sys_enter_${n}`), 'context-switches', 'cpu-migrations'].join(',')];
  const p = spawn('perf', args, { stdio: 'ignore' });
  children.add(p);
  p.on('exit', () => children.delete(p));
  p.on('error', (e) => {
    console.error(`perf: ${e.message}`);
    p.exitCode = 1;
  });
  return p;
}

// target: { kind, pid, port, ssrc, seq, ts, helper? }
async function measure({ sender, sink, target, k, rate, count, probe }) {
  const r = await sink.cmd('r');
  if (r !== 'ok') throw new Error(`sink: ${r}`);
  let probeProc = null;
  if (probe) {
    probeProc = startProbe(probe.kind, target.pid, probe.file);
    await sleep(500);
  }
  const h0 = hostTicks();
  const c0 = cpuNs(target.pid);
  const x0 = ctxSwitches(target.pid);
  const step = Math.max(1, Math.round(48000 / rate));
  const done = await sender.cmd(`s ${target.port} ${count} ${rate} ${target.ssrc} ${target.seq} ${target.ts} ${step}`);
  const [, sent, elapsedUs] = done.split(' ').map(Number);
  target.seq = (target.seq + sent) & 0xffff;
  target.ts = (target.ts + sent * step) >>> 0;
  // Drain: until everything arrived or nothing moved for 150 ms (max 3 s).
  let got = 0;
  let last = -1;
  let still = 0;
  for (let t = 0; t < 150; t++) {
    got = Number((await sink.cmd('c')).split(' ')[1]);
    if (got >= sent * k) break;
    if (got === last) {
      if (++still >= 8) break;
    } else {
      still = 0;
    }
    last = got;
    await sleep(20);
  }
  const c1 = cpuNs(target.pid);
  const x1 = ctxSwitches(target.pid);
  const h1 = hostTicks();
  if (probeProc) {
    probeProc.kill('SIGINT');
    await new Promise((res) => (probeProc.exitCode != null ? res() : probeProc.on('exit', res)));
  }
  return {
    usPerPkt: got > 0 ? (c1 - c0) / 1000 / got : NaN,
    delivery: got / (sent * k),
    cpuMs: (c1 - c0) / 1e6,
    volPerIn: (x1.vol - x0.vol) / Math.max(1, sent),
    involPerIn: (x1.invol - x0.invol) / Math.max(1, sent),
    got,
    sent,
    sendSeconds: elapsedUs / 1e6,
    hostBusy: (h1.busy - h0.busy) / Math.max(1, h1.total - h0.total),
  };
}

function perfSummary(file) {
  const run = (args) => {
    try {
      return execFileSync('perf', ['report', '--stdio', '--no-children', '-i', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    } catch (e) {
      return '';
    }
  };
  const rows = (out, n) => out.split('\n').filter((l) => /^\s+[\d.]+%/.test(l)).slice(0, n).map((l) => l.replace(/\s+$/, ''));
  return [
    'by object (self):',
    ...rows(run(['--sort', 'dso', '-g', 'none']), 8),
    'by symbol (self, >= 0.7%):',
    ...rows(run(['--sort', 'dso,symbol', '-g', 'none', '--percent-limit', '0.7']), 40),
  ].join('\n');
}

function statSummary(file, inPkts, outPkts) {
  const out = [`per input packet / per output packet (${inPkts} in, ${outPkts} out):`];
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = l.split(',');
    if (f.length < 3 || !/^\d+$/.test(f[0])) continue;
    const n = Number(f[0]);
    if (n === 0) continue;
    const name = f[2].replace('syscalls:sys_enter_', '').replace('raw_syscalls:sys_enter', 'all syscalls');
    out.push(`  ${name.padEnd(18)} ${String(n).padStart(9)}  ${(n / inPkts).toFixed(2).padStart(7)} /in  ${(n / outPkts).toFixed(3).padStart(7)} /out`);
  }
  return out.join('\n');
}

// ---- worker side ----

const mediaCodecs = [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];
const listenInfo = { protocol: 'udp', ip: '127.0.0.1', sendBufferSize: BUF, recvBufferSize: BUF };

async function workerFanout(worker, sinkPorts, suite, ssrc) {
  const router = await worker.createRouter({ mediaCodecs });
  const input = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true });
  const producer = await input.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
      headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 }],
      encodings: [{ ssrc }],
    },
  });
  for (const port of sinkPorts) {
    const t = await router.createPlainTransport({
      listenInfo,
      rtcpMux: true,
      comedia: false,
      ...(suite ? { enableSrtp: true, srtpCryptoSuite: suite } : {}),
    });
    // The sinks never decrypt: the transport's own key stands in for the remote one.
    await t.connect({ ip: '127.0.0.1', port, ...(suite ? { srtpParameters: t.srtpParameters } : {}) });
    await t.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  }
  return { router, port: input.tuple.localPort, producer };
}

// ---- main ----

const { bins, haveSrtp } = build();
const worker = await mediasoup.createWorker({ workerBin, logLevel: 'error' });
// Measured before and after the runs (best of both): the machine's speed drifts.
const protectNs = haveSrtp ? srtpProtectNs(bins.srtp) : {};
const mergeBest = (more) => {
  for (const [suite, ns] of Object.entries(more)) protectNs[suite] = Math.min(protectNs[suite] ?? Infinity, ns);
};
const sender = startHelper(bins.load, ['send', '--payload', String(payload)]);
const senderPort = Number((await sender.next()).split(' ')[1]);

console.log(`bench-fanout: worker ${workerBin} (pid ${worker.pid}), mediasoup ${mediasoup.version}`);
console.log(
  `Opus-like RTP: ${payload}-byte payload + 12-byte header + 8-byte audio-level extension, sender 127.0.0.1:${senderPort}, ` +
    `${seconds} s per run, ${reps} runs per point (median), SO_RCVBUF ${BUF >> 20} MiB everywhere`,
);
if (!haveSrtp) console.log('build/deps/srtp missing: no SRTP protect cost, no forwarder --srtp');

const results = [];
let ssrcNext = 0x5a5a0001;
for (const k of ks) {
  const rate = Math.min(maxRate, Math.floor(maxOutPps / k));
  const count = Math.round(rate * seconds);
  const sink = startHelper(bins.load, ['sink', String(k)]);
  const sinkPorts = (await sink.next()).split(' ').slice(1).map(Number);

  // Targets: the forwarder (plain, and with libsrtp per SRTP variant) and the worker per variant.
  // The plain forwarder is always measured: it is the baseline of every row.
  const targets = [];
  for (const v of variantNames.includes('plain') ? variantNames : ['plain', ...variantNames]) {
    const suite = VARIANTS[v].suite;
    if (!suite || haveSrtp) {
      const fwd = startHelper(bins.fwd, [...(suite ? ['--srtp', suite] : []), ...sinkPorts.map(String)]);
      const port = Number((await fwd.next()).split(' ')[1]);
      targets.push({ kind: 'fwd', variant: v, helper: fwd, pid: fwd.pid, port, ssrc: ssrcNext++, seq: 1000, ts: 0 });
    }
    if (!suite && moreBaselines) {
      for (const mode of ['one-socket', 'sendmmsg', 'connect']) {
        const fwd = startHelper(bins.fwd, [`--${mode}`, ...sinkPorts.map(String)]);
        const port = Number((await fwd.next()).split(' ')[1]);
        targets.push({ kind: `fwd --${mode}`, variant: v, helper: fwd, pid: fwd.pid, port, ssrc: ssrcNext++, seq: 1000, ts: 0 });
      }
    }
    if (!variantNames.includes(v)) continue;
    const wf = await workerFanout(worker, sinkPorts, suite, ssrcNext);
    targets.push({ kind: 'worker', variant: v, router: wf.router, pid: worker.pid, port: wf.port, ssrc: ssrcNext++, seq: 1000, ts: 0 });
  }
  // Warm-up: comedia learns the sender, the producer's stream validates, every sink hears every target.
  for (const t of targets) {
    const w = await measure({ sender, sink, target: t, k, rate: 2000, count: 100 });
    if (w.delivery < 0.9) console.log(`warning: warm-up K=${k} ${t.kind} ${t.variant}: delivery ${(w.delivery * 100).toFixed(1)}%`);
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const t of targets) {
      const m = await measure({ sender, sink, target: t, k, rate, count });
      results.push({ k, rate, kind: t.kind, variant: t.variant, ...m });
    }
  }
  for (const t of targets) {
    if (profilePoint !== `${k}:${t.variant}`) continue;
    for (const kind of ['stat', 'perf']) {
      const tag = `${t.kind}-${k}-${t.variant}`.replace(/[^A-Za-z0-9]+/g, '-');
      const file = path.join(repoRoot, 'build', 'bench', `${kind}-${tag}.${kind === 'perf' ? 'data' : 'csv'}`);
      const m = await measure({ sender, sink, target: t, k, rate, count, probe: { kind, file } });
      console.log(
        `\n== ${kind}: ${t.kind} K=${k} ${t.variant} (${file}; ${fmt(m.usPerPkt)} us/pkt under the probe; ` +
          `context switches per input packet: ${fmt(m.volPerIn)} voluntary, ${fmt(m.involPerIn)} involuntary)`,
      );
      console.log(kind === 'perf' ? perfSummary(file) : statSummary(file, m.sent, m.got));
    }
  }
  for (const t of targets) {
    if (t.helper) t.helper.close();
    if (t.router) t.router.close();
  }
  sink.close();
  process.stdout.write(`  K=${k} done (${rate} packets/s in, ${rate * k} out)\n`);
}
sender.close();
worker.close();
if (haveSrtp) {
  mergeBest(srtpProtectNs(bins.srtp));
  console.log(
    `SRTP protect cost (scripts/bench-srtp.c, best of 2 x 15 runs of 20,000, before and after, wall clock): ` +
      Object.entries(protectNs)
        .map(([s, ns]) => `${s} ${ns.toFixed(0)} ns`)
        .join(', '),
  );
}
clearTimeout(watchdog);

// ---- table ----

const pick = (k, kind, variant, f) => median(results.filter((r) => r.k === k && r.kind === kind && r.variant === variant).map(f));
const protectFor = { gcm: protectNs.AEAD_AES_128_GCM, cm80: protectNs.AES_CM_128_HMAC_SHA1_80 };
const rows = [];
for (const k of ks) {
  const base = pick(k, 'fwd', 'plain', (r) => r.usPerPkt);
  for (const v of variantNames) {
    const wk = pick(k, 'worker', v, (r) => r.usPerPkt);
    const goalBase = v === 'plain' ? base : base + (protectFor[v] ?? NaN) / 1000;
    const fwdSrtp = v === 'plain' ? NaN : pick(k, 'fwd', v, (r) => r.usPerPkt);
    rows.push([
      String(k),
      VARIANTS[v].label,
      String(results.find((r) => r.k === k)?.rate ?? ''),
      fmt(wk),
      fmt(goalBase),
      fmt(wk / goalBase) + 'x',
      fmt(pick(k, 'worker', v, (r) => r.delivery * 100), 1),
      fmt(pick(k, 'fwd', v === 'plain' || !haveSrtp ? 'plain' : v, (r) => r.delivery * 100), 1),
      fmt(fwdSrtp),
      fmt(wk / fwdSrtp) + (Number.isFinite(fwdSrtp) ? 'x' : ''),
      results
        .filter((r) => r.k === k && r.kind === 'worker' && r.variant === v)
        .map((r) => fmt(r.usPerPkt))
        .join(' '),
      fmt(pick(k, 'worker', v, (r) => r.hostBusy * 100), 0),
    ]);
  }
}
const head = ['K', 'variant', 'in pps', 'worker us/pkt', 'baseline us/pkt', 'ratio', 'deliv %', 'base deliv %', 'fwd+libsrtp us/pkt', 'w/fwd+libsrtp', 'worker runs', 'host busy %'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padStart(widths[i])).join(' | ') + ' |';
console.log('');
console.log(line(head));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
console.log('');
console.log('us/pkt: CPU time (schedstat, all threads, user+system) / RTP packets received by the sinks.');
console.log('baseline: C forwarder (recvmmsg + K sendto from K sockets); with SRTP: forwarder + bench-srtp protect ns.');
console.log('fwd+libsrtp: the forwarder itself protecting each copy with its own libsrtp session (measured).');
console.log('host busy: whole machine (2 cores, shared) during the worker runs, including the sender and sinks.');
console.log('goal: <= 1.3x the kernel baseline without SRTP, <= 1.3x (baseline + SRTP protect cost) with it; the protect');
console.log('cost is shown two ways: the hot-loop figure ("ratio") and as the forwarder pays it in situ ("w/fwd+libsrtp").');
{
  const num = (c) => Number.parseFloat(c);
  const plainRows = rows.filter((r) => r[1] === 'plain');
  const srtpRows = rows.filter((r) => r[1] !== 'plain');
  const max = (rs, i) => Math.max(...rs.map((r) => num(r[i])).filter(Number.isFinite));
  if (plainRows.length) console.log(`max ratio: plain ${fmt(max(plainRows, 5))}x`);
  if (srtpRows.length)
    console.log(`max ratio: SRTP vs forwarder+libsrtp ${fmt(max(srtpRows, 9))}x, SRTP vs forwarder+hot-loop protect ${fmt(max(srtpRows, 5))}x`);
}
if (moreBaselines) {
  console.log('\nother kernel baselines (plain):');
  for (const k of ks)
    for (const kind of ['fwd', 'fwd --one-socket', 'fwd --sendmmsg', 'fwd --connect'])
      console.log(`  K=${String(k).padStart(3)}  ${kind.padEnd(17)} ${fmt(pick(k, kind, 'plain', (r) => r.usPerPkt))} us/pkt  delivery ${fmt(pick(k, kind, 'plain', (r) => r.delivery * 100), 1)} %`);
}
