// Redis connections of a cluster node (ioredis). Policy, the same for every
// connection:
//   - start-up waits up to REDIS_CONNECT_TIMEOUT_MS for the first "ready",
//     then fails with the URL (password hidden) and the last error;
//   - a connection lost later is retried for ever (200 ms, growing to 2 s);
//   - meanwhile commands fail at once (no offline queue): callers answer 503
//     or skip a heartbeat instead of piling work up; each command also has a
//     2 s timeout, for a Redis that accepts connections but does not answer.
// The subscriber connection keeps an offline queue: its (re)subscriptions wait
// for the connection, and ioredis resubscribes after a reconnect.
import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { redact } from '../config';

export const COMMAND_TIMEOUT_MS = 2000;

export function createRedis(url: string, log: FastifyBaseLogger, name: string, opts: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: 2000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...opts,
  });
  let down = false;
  let lastError = '';
  // Without an 'error' listener ioredis would crash the process.
  redis.on('error', (err: Error) => {
    lastError = err.message;
    if (!down) log.warn({ redis: redact(url), connection: name, err: err.message }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ redis: redact(url), connection: name }, 'redis connection back');
    down = false;
  });
  redis.on('end', () => { down = true; });
  Object.defineProperty(redis, 'sfuLastError', { get: () => lastError });
  return redis;
}

/** Connects (lazyConnect) and waits for "ready" at most timeoutMs; throws a clear error. */
export async function connectRedis(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  const ready = new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  // The first attempt may fail; the retry strategy keeps trying meanwhile.
  redis.connect().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const r = await Promise.race([ready, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    const last = (redis as unknown as { sfuLastError: string }).sfuLastError || redis.status;
    redis.disconnect();
    throw new Error(`cluster mode: Redis at ${redact(url)} not reachable within ${timeoutMs} ms (REDIS_CONNECT_TIMEOUT_MS): ${last}`);
  }
}
