// A pool of media workers (mediasoup.createWorker with our binary). Each new
// room gets a router on the least-loaded live worker (fewest routers); a room
// that outgrows its worker (RTC_MAX_CONSUMERS_PER_WORKER, rooms/room-routers.ts)
// asks for another one (fewest consumers). A worker that dies is an event,
// never a reason to exit: listeners close its rooms, and the slot is refilled
// with exponential backoff.
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
  /** Consumers on the worker (every router's, pipe consumers included). */
  consumers: number;
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
  /**
   * The worker binary answers PipeTransport requests (probed at start with
   * more than one worker): rooms may span workers (router.pipeToRouter).
   * False: every room stays on one worker, whatever its size.
   */
  pipeSupported = false;

  constructor(private readonly cfg: Config, private readonly log: FastifyBaseLogger) {
    super();
  }

  /** Starts every worker; throws if one cannot start (the process should not come up half-way). */
  async start(): Promise<void> {
    for (let i = 0; i < this.cfg.workers; i++) {
      const slot: Slot = { index: i, routers: 0, consumers: 0, startedAt: 0, failures: 0 };
      this.slots.push(slot);
    }
    try {
      await Promise.all(this.slots.map((s) => this.spawn(s)));
      if (this.slots.length > 1) this.pipeSupported = await this.probePipes(this.slots[0].worker!);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Whether the worker binary implements PipeTransport: a throw-away router
   * and pipe transport. Our C worker answers "method not implemented" until
   * it does; mediasoup's own worker has them.
   */
  private async probePipes(worker: Worker): Promise<boolean> {
    const router = await worker.createRouter({ mediaCodecs: [] });
    try {
      const pipe = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSctp: false });
      pipe.close();
      this.log.info('media workers support PipeTransport: a room may span several workers');
      return true;
    } catch (err) {
      // "method not implemented" from our worker until it has them; any other failure: the same, logged as such.
      const msg = (err as Error).message;
      const why = /not implemented/i.test(msg) ? 'the media worker has no PipeTransport' : 'the PipeTransport probe failed';
      this.log.warn({ err: msg }, `${why}: every room stays on one worker (RTC_MAX_CONSUMERS_PER_WORKER unused)`);
      return false;
    } finally {
      router.close();
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

  /**
   * For a room that outgrew its workers: the live worker with the fewest
   * consumers (then routers) outside `exclude` (the workers that already hold
   * one of its routers); undefined if there is none.
   */
  pickOther(exclude: ReadonlySet<Worker>): Worker | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (!s.worker || s.worker.closed || exclude.has(s.worker)) continue;
      if (!best || s.consumers < best.consumers || (s.consumers === best.consumers && s.routers < best.routers)) best = s;
    }
    return best?.worker;
  }

  /** Consumers per live worker (its pool slot -> count). */
  consumersBySlot(): Map<number, number> {
    return new Map(this.slots.flatMap((s) => (s.worker && !s.worker.closed ? [[s.index, s.consumers] as [number, number]] : [])));
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
    slot.consumers = 0;
    slot.startedAt = Date.now();
    worker.observer.on('newrouter', (router) => {
      slot.routers++;
      router.observer.once('close', () => { if (slot.worker === worker) slot.routers--; });
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newconsumer', (consumer) => {
          slot.consumers++;
          consumer.observer.once('close', () => { if (slot.worker === worker) slot.consumers--; });
        });
      });
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
