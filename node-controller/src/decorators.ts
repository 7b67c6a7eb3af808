// What app.ts decorates the Fastify instance with.
import type { Config } from './config';
import type { Metrics } from './metrics';
import type { RoomRegistry } from './rooms/registry';
import type { WorkerPool } from './workers';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    pool: WorkerPool;
    rooms: RoomRegistry;
    metrics: Metrics;
  }
}

export {};
