// Prometheus metrics (prom-client, one registry per app instance).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoomRegistry } from './rooms/registry';
import type { WorkerPool } from './workers';

export interface Metrics {
  registry: Registry;
  apiLatency: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(rooms: RoomRegistry, pool: WorkerPool): Metrics {
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
  const apiLatency = new Histogram({
    name: 'sfu_api_request_duration_seconds',
    help: 'REST API latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, apiLatency };
}
