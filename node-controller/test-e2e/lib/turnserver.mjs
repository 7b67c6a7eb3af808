// Debian's coturn for the TURN test: `turnserver` on 127.0.0.1, a free port,
// relay ports in a range of its own, the TURN REST API scheme
// (--use-auth-secret --static-auth-secret), loopback peers allowed (the SFU
// is on 127.0.0.1 here: never do that in production), no TLS/DTLS listeners,
// no CLI, its files in a temporary directory. Never a system service;
// scripts/setup.sh installs the package.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TURNSERVER = process.env.TURNSERVER_BIN ?? 'turnserver';

async function freePort() {
  for (;;) {
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    if (port < 40000 || port > 41999) return port; // not in the SFU's RTC range
  }
}

/** -> {port, url, secret, relayMin, relayMax, log(), allocations(), stop()} once it listens. */
export async function startTurnServer({ secret, relayMin = 49400, relayMax = 49499 }) {
  if (spawnSync(TURNSERVER, ['--version']).error) throw new Error(`${TURNSERVER} not found: run "bash scripts/setup.sh" (installs Debian's coturn)`);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-turn-'));
  const args = [
    '-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    `--min-port=${relayMin}`, `--max-port=${relayMax}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=sfu.test',
    '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--fingerprint', '--no-software-attribute',
    `--userdb=${path.join(dir, 'turndb')}`, `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    '--log-file=stdout', '--simple-log', '--verbose',
  ];
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c) => { out += c; if (out.length > 400_000) out = out.slice(-200_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => { exited = `exited (code ${code}, signal ${sig})`; });
  const end = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`turnserver ${exited}:\n${out.slice(-3000)}`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > end) { child.kill('SIGKILL'); throw new Error(`turnserver not listening within 10 s:\n${out.slice(-3000)}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, secret, relayMin, relayMax,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    log: () => out,
    /** Successful allocations so far (coturn's own log). */
    allocations: () => (out.match(/ALLOCATE processed, success/g) ?? []).length,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await new Promise((r) => { if (exited) r(); else child.once('exit', r); setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } r(); }, 3000); });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
