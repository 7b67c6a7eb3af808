// What app.ts decorates the Fastify instance with.
import type { ClusterNode } from './cluster/node';
import type { Config } from './config';
import type { CallEventBus } from './events/bus';
import type { Metrics } from './metrics';
import type { RoomRegistry } from './rooms/registry';
import type { WorkerPool } from './workers';
import type { WebhookSender } from './webhooks/sender';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    pool: WorkerPool;
    rooms: RoomRegistry;
    metrics: Metrics;
    /** Cluster mode (REDIS_URL): this node in the call directory; null in single-node mode. */
    cluster: ClusterNode | null;
    /** Call lifecycle events (in-process, or Redis pub/sub in cluster mode). */
    bus: CallEventBus;
    /** WEBHOOK_URL set: the webhook sender; null otherwise. */
    webhooks: WebhookSender | null;
  }
}

export {};
