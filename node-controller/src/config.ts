// Controller configuration from the environment (README lists every variable).
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
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
  /**
   * A room's router takes new participants while the room has fewer consumers
   * than this on its worker; then they go to a router of the room on another
   * worker (producers piped between them), see rooms/room-routers.ts.
   */
  maxConsumersPerWorker: number;
  /** Cluster mode (REDIS_URL set); undefined: single-node mode, no Redis. */
  cluster?: ClusterConfig;
  /** ICE servers handed to clients by RTC-01 (TURN_URLS); undefined: none. */
  turn?: TurnConfig;
  /** Signed webhooks to the app backend (WEBHOOK_URL); undefined: none. */
  webhook?: WebhookConfig;
  /** HTTPS + WSS (TLS_CERT_FILE + TLS_KEY_FILE); undefined: plain HTTP (or TLS at a reverse proxy). */
  tls?: TlsConfig;
  /** An audio producer without RTP this long is reported (media_silence). */
  silenceThresholdMs: number;
  /** An audio producer without RTP this long ends the call (media_timeout); undefined: never. */
  silenceCloseMs?: number;
  /** Quality statistics: one sample of every producer and consumer this often. */
  statsIntervalMs: number;
  /** ... kept this long (GET /rtc/rooms/:callId/stats, the /ops page). */
  statsWindowS: number;
}

export interface TurnConfig {
  /** stun:/stuns: URLs (no credentials). */
  stunUrls: string[];
  /** turn:/turns: URLs (time-limited credentials from the secret). */
  turnUrls: string[];
  /** coturn's static-auth-secret (use-auth-secret, the TURN REST API scheme). */
  secret?: string;
  /** Lifetime of the credentials handed out, in seconds. */
  ttlS: number;
}

export interface WebhookConfig {
  url: string;
  /** HS256 key of the Authorization JWT (LiveKit's scheme: claim sha256 = base64 SHA-256 of the body). */
  secret: string;
  /** The JWT's issuer (LiveKit: the API key). */
  key: string;
  /** One delivery attempt's timeout. */
  timeoutMs: number;
  /** Attempts per event before it is dropped (logged, counted). */
  maxAttempts: number;
  /** Events waiting at most (beyond: new events are dropped, logged, counted). */
  queueMax: number;
}

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** The certificate's subject and expiry (logged at start). */
  subject: string;
  validTo: Date;
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
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
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
  mediaAddress: string, https: boolean): ClusterConfig | undefined {
  const redisUrl = env.REDIS_URL;
  if (redisUrl === undefined || redisUrl === '') return undefined;
  parseRedisUrl(redisUrl);
  // A wildcard listen address is no address for the other nodes: the host name is.
  const publicHost = WILDCARD_HOSTS.has(host) ? os.hostname() : host;
  const hostPart = publicHost.includes(':') && !publicHost.startsWith('[') ? `[${publicHost}]` : publicHost;
  if (port === 0 && !env.NODE_PUBLIC_URL) {
    throw new Error('cluster mode (REDIS_URL) needs a fixed PORT or a NODE_PUBLIC_URL: the other nodes forward to it');
  }
  const publicUrl = env.NODE_PUBLIC_URL || `${https ? 'https' : 'http'}://${hostPart}:${port}`;
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

const TURN_URL_RE = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/;

/** TURN_URLS (comma-separated stun:/stuns:/turn:/turns: URLs, RFC 7064/7065), TURN_SECRET, TURN_TTL_S. */
function turnConfig(env: NodeJS.ProcessEnv): TurnConfig | undefined {
  const raw = (env.TURN_URLS ?? '').trim();
  const secret = env.TURN_SECRET ?? '';
  if (raw === '') {
    if (secret !== '') throw new Error('TURN_SECRET is set but TURN_URLS is not: give the turn: URLs the secret is for');
    if (env.TURN_TTL_S) throw new Error('TURN_TTL_S is set but TURN_URLS is not');
    return undefined;
  }
  const stunUrls: string[] = [];
  const turnUrls: string[] = [];
  for (const u of raw.split(',').map((x) => x.trim())) {
    const m = TURN_URL_RE.exec(u);
    if (!m) {
      throw new Error(`TURN_URLS: '${u}' is not a stun:, stuns:, turn: or turns: URL like turn:turn.example.com:3478?transport=udp`);
    }
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) throw new Error(`TURN_URLS: port ${m[3]} of '${u}' is out of range`);
    if (m[1].startsWith('stun')) {
      if (m[4]) throw new Error(`TURN_URLS: '${u}': a stun: URL takes no ?transport`);
      stunUrls.push(u);
    } else {
      turnUrls.push(u);
    }
  }
  if (turnUrls.length > 0 && secret === '') {
    throw new Error("TURN_SECRET must be set with turn: URLs (coturn's static-auth-secret, use-auth-secret)");
  }
  if (secret !== '' && secret.length < 16) throw new Error('TURN_SECRET must be at least 16 characters');
  if (turnUrls.length === 0 && secret !== '') throw new Error('TURN_SECRET is set but TURN_URLS has no turn: URL');
  return { stunUrls, turnUrls, secret: secret || undefined, ttlS: int(env, 'TURN_TTL_S', 86_400, 60, 7 * 86_400) };
}

/** WEBHOOK_URL + WEBHOOK_SECRET (both or neither), WEBHOOK_KEY, WEBHOOK_TIMEOUT_MS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_QUEUE_MAX. */
function webhookConfig(env: NodeJS.ProcessEnv): WebhookConfig | undefined {
  const raw = env.WEBHOOK_URL ?? '';
  const secret = env.WEBHOOK_SECRET ?? '';
  if (raw === '') {
    if (secret !== '') throw new Error('WEBHOOK_SECRET is set but WEBHOOK_URL is not');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`WEBHOOK_URL must be an http(s) URL like https://backend.example.com/sfu/webhook, got '${redact(raw)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`WEBHOOK_URL must start with http:// or https://, got '${redact(raw)}'`);
  }
  if (url.hash) throw new Error(`WEBHOOK_URL takes no #fragment: '${redact(raw)}'`);
  if (url.username || url.password) {
    throw new Error(`WEBHOOK_URL must not carry user:password (fetch refuses it; webhooks are signed with WEBHOOK_SECRET): '${redact(raw)}'`);
  }
  if (secret === '') throw new Error('WEBHOOK_SECRET must be set with WEBHOOK_URL: every webhook is signed');
  if (secret.length < 16) throw new Error('WEBHOOK_SECRET must be at least 16 characters');
  const key = env.WEBHOOK_KEY || 'sfu';
  if (!/^[\x21-\x7e]{1,128}$/.test(key)) throw new Error(`WEBHOOK_KEY must be 1-128 printable characters without spaces, got '${key}'`);
  return {
    url: url.toString(),
    secret,
    key,
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 5000, 100, 60_000),
    maxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 12, 1, 100),
    queueMax: int(env, 'WEBHOOK_QUEUE_MAX', 10_000, 1, 1_000_000),
  };
}

function readPem(name: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${name}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** TLS_CERT_FILE + TLS_KEY_FILE (PEM; both or neither): parsed, matched and checked for expiry here, at start. */
export function tlsConfig(env: NodeJS.ProcessEnv, now = new Date()): TlsConfig | undefined {
  const certFile = env.TLS_CERT_FILE ?? '';
  const keyFile = env.TLS_KEY_FILE ?? '';
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '') throw new Error('TLS_CERT_FILE and TLS_KEY_FILE go together: set both (HTTPS) or neither');
  const cert = readPem('TLS_CERT_FILE', certFile);
  const key = readPem('TLS_KEY_FILE', keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`TLS_CERT_FILE: '${certFile}' holds no PEM certificate`);
  }
  let keyObj: KeyObject;
  try {
    keyObj = createPrivateKey(key);
  } catch {
    throw new Error(`TLS_KEY_FILE: '${keyFile}' holds no (unencrypted) PEM private key`);
  }
  if (!x509.checkPrivateKey(keyObj)) throw new Error(`TLS_KEY_FILE: '${keyFile}' is not the key of the certificate in '${certFile}'`);
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() < now.getTime()) throw new Error(`TLS_CERT_FILE: the certificate in '${certFile}' expired on ${validTo.toISOString()}`);
  if (new Date(x509.validFrom).getTime() > now.getTime()) {
    throw new Error(`TLS_CERT_FILE: the certificate in '${certFile}' is not valid before ${new Date(x509.validFrom).toISOString()}`);
  }
  return { certFile, keyFile, cert, key, subject: x509.subject.replace(/\n/g, ', '), validTo };
}

function silenceClose(env: NodeJS.ProcessEnv, thresholdMs: number): number | undefined {
  const raw = env.RTC_SILENCE_CLOSE_MS;
  if (raw === undefined || raw === '') return undefined;
  const v = int(env, 'RTC_SILENCE_CLOSE_MS', 0, 2000, 86_400_000);
  if (v < thresholdMs) {
    throw new Error(`RTC_SILENCE_CLOSE_MS (${v}) must be >= RTC_SILENCE_THRESHOLD_MS (${thresholdMs}): a call ends after its silence was reported`);
  }
  return v;
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
  const tls = tlsConfig(env);
  // At least two audio level observer intervals (rooms/media-monitor.ts): the
  // silence timer never races the notification that would have reset it.
  const silenceThresholdMs = int(env, 'RTC_SILENCE_THRESHOLD_MS', 15_000, 2000, 3_600_000);
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
    maxConsumersPerWorker: int(env, 'RTC_MAX_CONSUMERS_PER_WORKER', 500, 1, 1_000_000),
    cluster: clusterConfig(env, host, port, workers, rtcAnnouncedIp ?? rtcListenIp, tls !== undefined),
    turn: turnConfig(env),
    webhook: webhookConfig(env),
    tls,
    silenceThresholdMs,
    silenceCloseMs: silenceClose(env, silenceThresholdMs),
    statsIntervalMs: int(env, 'RTC_STATS_INTERVAL_MS', 2000, 500, 60_000),
    statsWindowS: int(env, 'RTC_STATS_WINDOW_S', 300, 10, 3600),
    ...overrides,
  };
  if (cfg.rtcMaxPort < cfg.rtcMinPort) throw new Error('RTC_MAX_PORT must be >= RTC_MIN_PORT');
  if (WILDCARD_HOSTS.has(cfg.rtcListenIp) && !cfg.rtcAnnouncedIp) {
    throw new Error(`RTC_LISTEN_IP=${cfg.rtcListenIp} listens on every interface: set RTC_ANNOUNCED_IP to the address clients send media to`);
  }
  if (!cfg.jwtSecret) throw new Error('JWT_SECRET must be set (npm run dev uses a development secret)');
  return cfg;
}
