// Prometheus metrics (prom-client, one registry per app instance).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterNode } from './cluster/node';
import type { RoomRegistry } from './rooms/registry';
import type { WorkerPool } from './workers';
import type { WebhookSender } from './webhooks/sender';
import type { WorkerTotals } from './rooms/quality';

export interface Metrics {
  registry: Registry;
  apiLatency: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(rooms: RoomRegistry, pool: WorkerPool, cluster: ClusterNode | null = null,
  webhooks: WebhookSender | null = null, totals: WorkerTotals | null = null): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sfu_controller_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('sfu_rooms', 'Open rooms', () => rooms.totals().rooms);
  gauge('sfu_participants', 'Participants in all rooms', () => rooms.totals().participants);
  gauge('sfu_transports', 'Open WebRTC transports', () => rooms.totals().transports);
  gauge('sfu_producers', 'Open producers', () => rooms.totals().producers);
  gauge('sfu_consumers', 'Open consumers', () => rooms.totals().consumers);
  gauge('sfu_data_producers', 'Open data producers (data channels)', () => rooms.totals().dataProducers);
  gauge('sfu_data_consumers', 'Open data consumers (data channels)', () => rooms.totals().dataConsumers);
  gauge('sfu_workers', 'Running media workers', () => pool.workers.length);
  new Counter({
    name: 'sfu_worker_restarts_total',
    help: 'Media workers started to replace dead ones',
    registers: [registry],
    collect() { this.reset(); this.inc(pool.restarts); },
  });
  perWorker(registry, rooms, pool, totals);
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

/**
 * Per media worker (label worker = its pool slot, stable across restarts):
 * rooms, transports, producers, consumers; RTP packets and losses in (what
 * producers received) and out (what consumers sent, losses as their receivers
 * report them) from the rooms' quality sampling (RTC_STATS_INTERVAL_MS);
 * CPU time and peak RSS from the worker itself (getResourceUsage).
 */
function perWorker(registry: Registry, rooms: RoomRegistry, pool: WorkerPool, totals: WorkerTotals | null): void {
  const counts = () => {
    const by = new Map<number, { rooms: number; transports: number; producers: number; consumers: number }>();
    for (const w of pool.workers) by.set(Number(w.appData.slot ?? 0), { rooms: 0, transports: 0, producers: 0, consumers: 0 });
    for (const room of rooms.all()) {
      if (room.state === 'closed') continue;
      // A room larger than one worker counts on each worker it has a router on.
      for (const [slot, c] of room.countsBySlot()) {
        const t = by.get(slot) ?? { rooms: 0, transports: 0, producers: 0, consumers: 0 };
        t.rooms += c.rooms;
        t.transports += c.transports;
        t.producers += c.producers;
        t.consumers += c.consumers;
        by.set(slot, t);
      }
    }
    return by;
  };
  const objects = (name: string, help: string, field: 'rooms' | 'transports' | 'producers' | 'consumers') =>
    new Gauge({
      name, help, labelNames: ['worker'], registers: [registry],
      collect() {
        this.reset();
        for (const [slot, c] of counts()) this.set({ worker: String(slot) }, c[field]);
      },
    });
  objects('sfu_worker_rooms', 'Rooms (routers) per media worker', 'rooms');
  objects('sfu_worker_transports', 'WebRTC transports per media worker', 'transports');
  objects('sfu_worker_producers', 'Producers per media worker', 'producers');
  objects('sfu_worker_consumers', 'Consumers per media worker', 'consumers');
  if (totals) {
    const rtp = (name: string, help: string, inField: 'packetsIn' | 'lostIn', outField: 'packetsOut' | 'lostOut') =>
      new Counter({
        name, help, labelNames: ['worker', 'direction'], registers: [registry],
        collect() {
          this.reset();
          for (const [slot, t] of totals.bySlot) {
            this.inc({ worker: String(slot), direction: 'in' }, t[inField]);
            this.inc({ worker: String(slot), direction: 'out' }, t[outField]);
          }
        },
      });
    rtp('sfu_worker_rtp_packets_total', 'RTP packets per media worker: in (received by producers), out (sent by consumers)', 'packetsIn', 'packetsOut');
    rtp('sfu_worker_rtp_packets_lost_total', 'RTP packets lost per media worker: in (towards producers), out (reported by receivers of consumers)', 'lostIn', 'lostOut');
  }
  const usage = async () => Promise.all(pool.workers.map(async (w) => {
    try {
      return { slot: Number(w.appData.slot ?? 0), ru: await w.getResourceUsage() };
    } catch {
      return undefined;
    }
  }));
  new Counter({
    name: 'sfu_worker_cpu_seconds_total', help: 'CPU time (user + system) of each media worker process', labelNames: ['worker'], registers: [registry],
    async collect() {
      this.reset();
      for (const u of await usage()) if (u) this.inc({ worker: String(u.slot) }, (u.ru.ru_utime + u.ru.ru_stime) / 1000);
    },
  });
  new Gauge({
    name: 'sfu_worker_max_rss_bytes', help: 'Peak resident memory of each media worker process', labelNames: ['worker'], registers: [registry],
    async collect() {
      this.reset();
      for (const u of await usage()) if (u) this.set({ worker: String(u.slot) }, u.ru.ru_maxrss * 1024);
    },
  });
}
