// Cluster test helpers: controller nodes in this process (real HTTP, own
// worker, inspectable rooms) or as child processes (SIGKILL-able), plain
// fetch requests that keep the response headers (x-sfu-node says which node
// answered).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SECRET, startApp } from './helpers';
import { freePort } from './redis-server';

export const controllerDir = path.resolve(__dirname, '..', '..');

export interface TestNode {
  id: string;
  url: string;
  app: FastifyInstance;
}

/** RTC port range of the i-th node of a test (workers of one host never share ports). */
export function rtcPorts(i: number): Record<string, string> {
  const min = 40000 + (i % 8) * 120;
  return { RTC_MIN_PORT: String(min), RTC_MAX_PORT: String(min + 119) };
}

/**
 * A free TCP port outside the RTC port ranges: the kernel's ephemeral range
 * (32768-60999 here) overlaps 40000-41000, where the nodes' workers bind
 * their transports, so a port free now could be a worker's a moment later.
 */
export async function freeHttpPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 40000 || port > 41999) return port;
  }
}

/** A node in this process, listening on a free port of 127.0.0.1. */
export async function startNode(redisUrl: string, id: string, i: number, env: Record<string, string> = {}): Promise<TestNode> {
  const port = await freeHttpPort();
  const app = await startApp({
    REDIS_URL: redisUrl, NODE_ID: id, HOST: '127.0.0.1', PORT: String(port), CLUSTER_NODE_TTL_MS: '3000',
    ...rtcPorts(i), ...env,
  });
  await app.listen({ host: '127.0.0.1', port });
  return { id, url: `http://127.0.0.1:${port}`, app };
}

export interface Res {
  status: number;
  body: any;
  /** The node that answered (x-sfu-node). */
  node: string | null;
  headers: Headers;
}

export async function http(base: string, method: string, p: string, tok?: string, body?: unknown,
  headers: Record<string, string> = {}): Promise<Res> {
  const h: Record<string, string> = { ...headers };
  if (tok) h.authorization = `Bearer ${tok}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* text */ }
  return { status: res.status, body: parsed, node: res.headers.get('x-sfu-node'), headers: res.headers };
}

export interface NodeProcess {
  id: string;
  url: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
  /** SIGKILL to the node and its workers (its process group). */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** `node dist/src/server.js` as a cluster node (own process group). Resolves once /healthz answers 200 (waitHealthy). */
export async function spawnNode(redisUrl: string, id: string, i: number,
  opts: { env?: Record<string, string>; port?: number; waitHealthy?: boolean } = {}): Promise<NodeProcess> {
  const port = opts.port ?? await freeHttpPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl, NODE_ID: id, HOST: '127.0.0.1', PORT: String(port),
    JWT_SECRET: SECRET, RTC_WORKERS: '1', LOG_LEVEL: 'info', CLUSTER_NODE_TTL_MS: '3000',
    RTC_DISCONNECT_GRACE_MS: '60000', RTC_EMPTY_ROOM_TIMEOUT_MS: '60000',
    ...rtcPorts(i), ...opts.env,
  };
  delete env.RTC_DEV_ROUTES;
  const child = spawn(process.execPath, ['dist/src/server.js'], { cwd: controllerDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => { out += c; if (out.length > 200_000) out = out.slice(-100_000); });
  child.stderr!.on('data', (c) => { out += c; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => { done = true; });
  const url = `http://127.0.0.1:${port}`;
  const node: NodeProcess = {
    id, url, port, child, exited,
    log: () => out,
    async kill() {
      if (done) return;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      await exited;
    },
    async stop() {
      if (done) return;
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { return; }
      const t = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
  if (opts.waitHealthy === false) return node;
  const end = Date.now() + 30_000;
  for (;;) {
    if (done) throw new Error(`node ${id} exited:\n${out.slice(-3000)}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return node;
    } catch { /* not yet */ }
    if (Date.now() > end) {
      await node.kill();
      throw new Error(`node ${id} not healthy within 30 s:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
