// Debian's redis-server for the cluster tests: on loopback, on a free port,
// in a temporary directory, no persistence; stopped (and the directory
// removed) by stop(). Never a system service. scripts/setup.sh installs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  /** Starts it again on the same port (empty: no persistence), after stop({keepDir}) or kill(). */
  start(): Promise<void>;
  /** SIGKILL: Redis gone abruptly. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export async function startRedis(): Promise<RedisServer> {
  if (spawnSync(REDIS_SERVER, ['--version']).error) {
    throw new Error(`${REDIS_SERVER} not found: run "bash scripts/setup.sh" (installs Debian's redis-server)`);
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-redis-'));
  let child: ChildProcess | undefined;
  let out = '';
  const start = async () => {
    child = spawn(REDIS_SERVER, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--logfile', '',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = child;
    c.stdout!.on('data', (d) => { out += d; });
    c.stderr!.on('data', (d) => { out += d; });
    const end = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server exited (${c.exitCode}):\n${out.slice(-2000)}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.write('PING\r\n');
          s.once('data', (d) => { s.destroy(); resolve(String(d).startsWith('+PONG')); });
        });
        s.once('error', () => resolve(false));
      });
      if (up) return;
      if (Date.now() > end) throw new Error(`redis-server not up on ${port} within 10 s:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: () => halt('SIGKILL'),
    async stop() {
      await halt('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log: () => out,
  };
}
