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

function logFormat(raw: string | undefined): Config['logFormat'] {
  if (raw === undefined || raw === '' || raw === 'json') return 'json';
  if (raw === 'pretty') return 'pretty';
  throw new Error(`LOG_FORMAT must be json or pretty, got '${raw}'`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const cfg: Config = {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    jwtSecret: env.JWT_SECRET ?? '',
    logLevel: env.LOG_LEVEL || 'info',
    logFormat: logFormat(env.LOG_FORMAT),
    devRoutes: flag(env, 'RTC_DEV_ROUTES'),
    workers: int(env, 'RTC_WORKERS', Math.max(1, os.availableParallelism?.() ?? os.cpus().length), 1, 256),
    workerBin: path.resolve(env.RTC_WORKER_BIN || defaultWorkerBin()),
    workerLogLevel: (env.RTC_WORKER_LOG_LEVEL as Config['workerLogLevel']) || 'warn',
    rtcMinPort: int(env, 'RTC_MIN_PORT', 40000, 1, 65535),
    rtcMaxPort: int(env, 'RTC_MAX_PORT', 41000, 1, 65535),
    rtcListenIp: env.RTC_LISTEN_IP || '127.0.0.1',
    rtcAnnouncedIp: env.RTC_ANNOUNCED_IP || undefined,
    disconnectGraceMs: int(env, 'RTC_DISCONNECT_GRACE_MS', 15000),
    emptyRoomTimeoutMs: int(env, 'RTC_EMPTY_ROOM_TIMEOUT_MS', 30000),
    transportRecoveryMs: int(env, 'RTC_TRANSPORT_RECOVERY_MS', 10000),
    ...overrides,
  };
  if (cfg.rtcMaxPort < cfg.rtcMinPort) throw new Error('RTC_MAX_PORT must be >= RTC_MIN_PORT');
  if (!cfg.jwtSecret) throw new Error('JWT_SECRET must be set (npm run dev uses a development secret)');
  return cfg;
}
