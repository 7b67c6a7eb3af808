// Controller configuration from the environment (README lists every variable).
import os from 'node:os';
import path from 'node:path';

export interface Config {
  host: string;
  port: number;
  jwtSecret: string;
  logLevel: string;
  /** 'json' (pino's lines, the default) or 'pretty' (pino-pretty, for a console). */
  logFormat: 'json' | 'pretty';
  /** Registers the development routes (POST /dev/token, GET /dev/workers/dump). */
  devRoutes: boolean;
  /** How many media workers to run. */
  workers: number;
  /** Path of a mediasoup-compatible worker binary. */
  workerBin: string;
  workerLogLevel: 'debug' | 'warn' | 'error' | 'none';
  rtcMinPort: number;
  rtcMaxPort: number;
  rtcListenIp: string;
  rtcAnnouncedIp?: string;
  /** A participant whose event socket dropped is cleaned up after this long. */
  disconnectGraceMs: number;
  /** A room without participants closes after this long. */
  emptyRoomTimeoutMs: number;
  /** A transport whose ICE is disconnected this long is closed. */
  transportRecoveryMs: number;
  /** Cluster mode (REDIS_URL set); undefined: single-node mode, no Redis. */
  cluster?: ClusterConfig;
}

export interface ClusterConfig {
  /** redis:// or rediss:// URL of the shared call directory. */
  redisUrl: string;
  /** This node's id in the directory (default host:port). */
  nodeId: string;
  /** Where the other nodes forward requests for calls this node owns (default http://HOST:PORT). */
  publicUrl: string;
  /** The address clients send media to (RTC_ANNOUNCED_IP, else RTC_LISTEN_IP). */
  mediaAddress: string;
  /** A node whose heartbeat is this old is dead (its calls are lost). */
  nodeTtlMs: number;
  /** Heartbeat (and dead-node sweep) period: a fifth of the TTL. */
  heartbeatMs: number;
  /** Calls this node takes at most (new calls go elsewhere or get 503). */
  capacity: number;
  /** How long start-up waits for Redis before failing. */
  redisConnectTimeoutMs: number;
}

/** The repo's build/sfu-worker, relative to this package (src/ or dist/src/). */
function defaultWorkerBin(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const parent = path.dirname(dir);
    if (path.basename(dir) === 'node-controller') return path.join(parent, 'build', 'sfu-worker');
    dir = parent;
  }
  return path.resolve(__dirname, '..', '..', '..', 'build', 'sfu-worker');
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new Error(`${name} must be 1 or 0, got '${env[name]}'`);
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return n;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);
const NODE_ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

/** A redis:// or rediss:// URL with a host, an optional port and an optional numeric db; throws a clear error. */
export function parseRedisUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`REDIS_URL must be a URL like redis://127.0.0.1:6379/0, got '${redact(raw)}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got '${redact(raw)}'`);
  }
  if (!url.hostname) throw new Error(`REDIS_URL has no host: '${redact(raw)}'`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) {
    throw new Error(`REDIS_URL's path must be a database number (redis://host:port/0), got '/${db}'`);
  }
  if (url.search || url.hash) throw new Error(`REDIS_URL takes no query or fragment: '${redact(raw)}'`);
  return url;
}

/** The URL without its password (for logs and errors). */
export function redact(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/([^@/]*)@/, '//***@');
  }
}

function clusterConfig(env: NodeJS.ProcessEnv, host: string, port: number, workers: number,
  mediaAddress: string): ClusterConfig | undefined {
  const redisUrl = env.REDIS_URL;
  if (redisUrl === undefined || redisUrl === '') return undefined;
  parseRedisUrl(redisUrl);
  // A wildcard listen address is no address for the other nodes: the host name is.
  const publicHost = WILDCARD_HOSTS.has(host) ? os.hostname() : host;
  const hostPart = publicHost.includes(':') && !publicHost.startsWith('[') ? `[${publicHost}]` : publicHost;
  if (port === 0 && !env.NODE_PUBLIC_URL) {
    throw new Error('cluster mode (REDIS_URL) needs a fixed PORT or a NODE_PUBLIC_URL: the other nodes forward to it');
  }
  const publicUrl = env.NODE_PUBLIC_URL || `http://${hostPart}:${port}`;
  let parsed: URL;
  try {
    parsed = new URL(publicUrl);
  } catch {
    throw new Error(`NODE_PUBLIC_URL must be an http(s) URL like http://10.0.0.5:3000, got '${publicUrl}'`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || (parsed.pathname !== '/' && parsed.pathname !== '')
    || parsed.search || parsed.hash) {
    throw new Error(`NODE_PUBLIC_URL must be an http(s) origin without a path, like http://10.0.0.5:3000, got '${publicUrl}'`);
  }
  const nodeId = env.NODE_ID || `${publicHost}:${port}`;
  if (!NODE_ID_RE.test(nodeId)) throw new Error(`NODE_ID must match ${NODE_ID_RE}, got '${nodeId}'`);
  const nodeTtlMs = int(env, 'CLUSTER_NODE_TTL_MS', 5000, 1000, 600_000);
  return {
    redisUrl,
    nodeId,
    publicUrl: parsed.origin,
    mediaAddress,
    nodeTtlMs,
    heartbeatMs: Math.max(200, Math.floor(nodeTtlMs / 5)),
    capacity: int(env, 'CLUSTER_NODE_CAPACITY', 100 * workers, 1, 1_000_000),
    redisConnectTimeoutMs: int(env, 'REDIS_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
  };
}

function logFormat(raw: string | undefined): Config['logFormat'] {
  if (raw === undefined || raw === '' || raw === 'json') return 'json';
  if (raw === 'pretty') return 'pretty';
  throw new Error(`LOG_FORMAT must be json or pretty, got '${raw}'`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const host = env.HOST || '127.0.0.1';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const workers = int(env, 'RTC_WORKERS', Math.max(1, os.availableParallelism?.() ?? os.cpus().length), 1, 256);
  const rtcListenIp = env.RTC_LISTEN_IP || '127.0.0.1';
  const rtcAnnouncedIp = env.RTC_ANNOUNCED_IP || undefined;
  const cfg: Config = {
    host,
    port,
    jwtSecret: env.JWT_SECRET ?? '',
    logLevel: env.LOG_LEVEL || 'info',
    logFormat: logFormat(env.LOG_FORMAT),
    devRoutes: flag(env, 'RTC_DEV_ROUTES'),
    workers,
    workerBin: path.resolve(env.RTC_WORKER_BIN || defaultWorkerBin()),
    workerLogLevel: (env.RTC_WORKER_LOG_LEVEL as Config['workerLogLevel']) || 'warn',
    rtcMinPort: int(env, 'RTC_MIN_PORT', 40000, 1, 65535),
    rtcMaxPort: int(env, 'RTC_MAX_PORT', 41000, 1, 65535),
    rtcListenIp,
    rtcAnnouncedIp,
    disconnectGraceMs: int(env, 'RTC_DISCONNECT_GRACE_MS', 15000),
    emptyRoomTimeoutMs: int(env, 'RTC_EMPTY_ROOM_TIMEOUT_MS', 30000),
    transportRecoveryMs: int(env, 'RTC_TRANSPORT_RECOVERY_MS', 10000),
    cluster: clusterConfig(env, host, port, workers, rtcAnnouncedIp ?? rtcListenIp),
    ...overrides,
  };
  if (cfg.rtcMaxPort < cfg.rtcMinPort) throw new Error('RTC_MAX_PORT must be >= RTC_MIN_PORT');
  if (!cfg.jwtSecret) throw new Error('JWT_SECRET must be set (npm run dev uses a development secret)');
  return cfg;
}
