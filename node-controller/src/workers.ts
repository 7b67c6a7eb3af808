// A pool of media workers (mediasoup.createWorker with our binary). Each new
// room gets a router on the least-loaded live worker. A worker that dies is
// an event, never a reason to exit: listeners close its rooms, and the slot
// is refilled with exponential backoff.
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config';
import { ApiError } from './errors';

export type Worker = types.Worker;

interface Slot {
  index: number;
  worker?: Worker;
  routers: number;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

export interface WorkerPoolEvents {
  workerdied: [worker: Worker, error: Error];
  workerstarted: [worker: Worker];
}

const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 30_000;
/** A worker that lived this long resets its slot's backoff. */
const STABLE_MS = 60_000;

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly slots: Slot[] = [];
  private closed = false;
  /** Workers started to replace dead ones. */
  restarts = 0;

  constructor(private readonly cfg: Config, private readonly log: FastifyBaseLogger) {
    super();
  }

  /** Starts every worker; throws if one cannot start (the process should not come up half-way). */
  async start(): Promise<void> {
    for (let i = 0; i < this.cfg.workers; i++) {
      const slot: Slot = { index: i, routers: 0, startedAt: 0, failures: 0 };
      this.slots.push(slot);
    }
    try {
      await Promise.all(this.slots.map((s) => this.spawn(s)));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The live workers (for dumps and metrics). */
  get workers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker && !s.worker.closed ? [s.worker] : []));
  }

  /** The least-loaded live worker (fewest routers); 503 if none is running. */
  pick(): Worker {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (!s.worker || s.worker.closed) continue;
      if (!best || s.routers < best.routers) best = s;
    }
    if (!best?.worker) throw new ApiError('SERVICE_UNAVAILABLE', 'no media worker is running');
    return best.worker;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      clearTimeout(s.timer);
      s.worker?.close();
      s.worker = undefined;
    }
  }

  private async spawn(slot: Slot, restart = false): Promise<void> {
    const worker = await mediasoup.createWorker({
      workerBin: this.cfg.workerBin,
      logLevel: this.cfg.workerLogLevel,
      rtcMinPort: this.cfg.rtcMinPort,
      rtcMaxPort: this.cfg.rtcMaxPort,
      appData: { slot: slot.index },
    });
    if (this.closed) {
      worker.close();
      return;
    }
    if (restart) this.restarts++;
    slot.worker = worker;
    slot.routers = 0;
    slot.startedAt = Date.now();
    worker.observer.on('newrouter', (router) => {
      slot.routers++;
      router.observer.once('close', () => { slot.routers--; });
    });
    worker.on('died', (error) => this.onDied(slot, worker, error));
    this.log.info({ pid: worker.pid, slot: slot.index }, 'media worker started');
    this.emit('workerstarted', worker);
  }

  private onDied(slot: Slot, worker: Worker, error: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    this.log.error({ pid: worker.pid, slot: slot.index, err: error }, 'media worker died');
    this.emit('workerdied', worker, error);
    if (Date.now() - slot.startedAt >= STABLE_MS) slot.failures = 0;
    this.scheduleRespawn(slot);
  }

  private scheduleRespawn(slot: Slot): void {
    if (this.closed) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** slot.failures);
    slot.failures++;
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.spawn(slot, true).catch(
        (err) => {
          this.log.error({ err, slot: slot.index, retryInMs: delay }, 'media worker restart failed');
          this.scheduleRespawn(slot);
        },
      );
    }, delay);
    slot.timer.unref();
  }
}
