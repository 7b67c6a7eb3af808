// Prometheus metrics (prom-client, one registry per app instance).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterNode } from './cluster/node';
import type { RoomRegistry } from './rooms/registry';
import type { WorkerPool } from './workers';
import type { WebhookSender } from './webhooks/sender';

export interface Metrics {
  registry: Registry;
  apiLatency: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(rooms: RoomRegistry, pool: WorkerPool, cluster: ClusterNode | null = null,
  webhooks: WebhookSender | null = null): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sfu_controller_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('sfu_rooms', 'Open rooms', () => rooms.totals().rooms);
  gauge('sfu_participants', 'Participants in all rooms', () => rooms.totals().participants);
  gauge('sfu_transports', 'Open WebRTC transports', () => rooms.totals().transports);
  gauge('sfu_producers', 'Open producers', () => rooms.totals().producers);
  gauge('sfu_consumers', 'Open consumers', () => rooms.totals().consumers);
  gauge('sfu_workers', 'Running media workers', () => pool.workers.length);
  new Counter({
    name: 'sfu_worker_restarts_total',
    help: 'Media workers started to replace dead ones',
    registers: [registry],
    collect() { this.reset(); this.inc(pool.restarts); },
  });
  if (cluster) {
    gauge('sfu_cluster_redis_up', 'The last heartbeat reached Redis (1) or not (0)', () => (cluster.redisUp ? 1 : 0));
    gauge('sfu_cluster_nodes', 'Live nodes at the last sweep', () => cluster.liveNodes);
    const counter = (name: string, help: string, read: () => number, labels?: () => Record<string, number>) =>
      new Counter({
        name, help, registers: [registry], labelNames: labels ? ['kind'] : [],
        collect() {
          this.reset();
          if (labels) for (const [kind, n] of Object.entries(labels())) this.inc({ kind }, n);
          else this.inc(read());
        },
      });
    counter('sfu_cluster_forwarded_total', 'Requests forwarded to the node owning their call', () => 0,
      () => ({ http: cluster.stats.forwardedHttp, ws: cluster.stats.forwardedWs }));
    counter('sfu_cluster_nodes_swept_total', 'Dead nodes this node swept', () => cluster.stats.nodesSwept);
    counter('sfu_cluster_calls_lost_total', 'Calls of dead nodes this node marked lost', () => cluster.stats.callsLost);
  }
  if (webhooks) {
    gauge('sfu_webhook_queue', 'Webhook events not delivered yet (queued, in flight, waiting for a retry)', () => webhooks.queued);
    new Counter({
      name: 'sfu_webhook_events_total',
      help: 'Webhook events by outcome: delivered, retried (a failed attempt that is retried), failed (given up), dropped (queue full)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [result, n] of Object.entries(webhooks.stats)) this.inc({ result }, n);
      },
    });
  }
  const apiLatency = new Histogram({
    name: 'sfu_api_request_duration_seconds',
    help: 'REST API latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, apiLatency };
}
