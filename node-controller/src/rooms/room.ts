// One call's room: its routers (a home router, and routers on other workers
// of this node once it outgrows one: room-routers.ts), its participants,
// their event sockets, the audio level observer and call_connected detection.
//
// Lifecycle: opening (router being created) -> open -> closing (cleanup
// running) -> closed. Every operation goes through run(), one at a time;
// once the room is not open, queued operations fail with ROOM_NOT_FOUND.
// Media operations themselves live in media.ts.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config';
import { ApiError } from '../errors';
import { OpQueue } from './op-queue';
import { RoomEvents, type EventSocket, type RoomEvent } from './room-events';
import { Participant, noneReleased, type Released } from './participant';
import { CallConnected } from './call-connected';
import { CallClock } from './call-clock';
import { MediaMonitor, OBSERVER_INTERVAL_MS, type ResumedInfo, type SilenceInfo } from './media-monitor';
import { RoomRouters, type RoomRouter } from './room-routers';
import { QualityStats, type WorkerTotals } from './quality';

export type RoomState = 'opening' | 'open' | 'closing' | 'closed';
export type RoomCloseReason = 'cleanup' | 'worker_died' | 'empty' | 'shutdown' | 'error' | 'node_lost' | 'media_timeout';

/** The participants' `volumes` event: the loudest few at or above this level (dBov). */
const SPEAKING_THRESHOLD_DBOV = -70;
const SPEAKING_MAX_ENTRIES = 10;

export interface RoomDeps {
  cfg: Config;
  log: FastifyBaseLogger;
  pickWorker: () => types.Worker;
  /** For a room that outgrew its worker: another one (WorkerPool.pickOther); unset: rooms stay on one worker. */
  pickOtherWorker?: (exclude: ReadonlySet<types.Worker>) => types.Worker | undefined;
  /** The worker binary has PipeTransport (WorkerPool.pipeSupported). */
  pipeSupported?: () => boolean;
  /** Per-worker packet and loss counters (/metrics), fed by the rooms' quality statistics. */
  totals?: WorkerTotals;
}

/** What the room tells its registry's listeners (lifecycle events, the cluster directory). */
export interface RoomEventsMap {
  open: [];
  joined: [userId: string];
  left: [userId: string, reason: string];
  connected: [at: Date];
  /** An audio producer had no RTP for RTC_SILENCE_THRESHOLD_MS. */
  silence: [info: SilenceInfo];
  /** ... and RTP again. */
  resumed: [info: ResumedInfo];
  close: [reason: RoomCloseReason];
}

export class Room extends EventEmitter<RoomEventsMap> {
  state: RoomState = 'opening';
  /** Unique per room: a call that lost its room and got a new one has a new id. */
  readonly id = randomUUID();
  /** The home router and, for a room larger than one worker, its extra routers. */
  readonly routers: RoomRouters;
  readonly participants = new Map<string, Participant>();
  readonly events = new RoomEvents();
  readonly callConnected: CallConnected;
  /** Media silence per audio producer (RTC_SILENCE_THRESHOLD_MS / RTC_SILENCE_CLOSE_MS). */
  readonly monitor: MediaMonitor;
  /** The billable time: from call_connected, while two participants have media. */
  readonly clock = new CallClock();
  /** Set when the room closed: its reason, the billable milliseconds and who was still in. */
  ended?: { reason: RoomCloseReason; at: Date; connectedDurationMs: number; participants: string[] };
  /** The worker that holds the home router. */
  workerSlot?: number;
  /** Quality statistics per stream (GET /rtc/rooms/:callId/stats, /ops). */
  readonly quality: QualityStats;
  readonly createdAt = new Date();
  readonly log: FastifyBaseLogger;
  private observer?: types.AudioLevelObserver;
  /** The participants' speaking indicator last said `silence`. */
  private speakingSilent = false;
  private readonly queue = new OpQueue();
  private emptyTimer?: NodeJS.Timeout;
  private initError?: unknown;

  constructor(readonly callId: string, readonly deps: RoomDeps) {
    super();
    this.log = deps.log.child({ callId });
    this.routers = new RoomRouters(callId, {
      limit: deps.cfg.maxConsumersPerWorker, pickOther: deps.pickOtherWorker, pipeSupported: deps.pipeSupported,
    }, this.log, {
      homeDied: () => this.close('worker_died'),
      extraDied: (rr) => { this.run(() => this.dropRouter(rr)).catch(() => undefined); },
    });
    this.callConnected = new CallConnected(
      () => this.participants.values(),
      (at) => {
        this.clock.start(at.getTime());
        this.events.broadcast({ type: 'call_connected', callId, at: at.toISOString() });
        this.emit('connected', at);
      },
    );
    this.quality = new QualityStats(() => this.participants.values(), {
      intervalMs: deps.cfg.statsIntervalMs, windowS: deps.cfg.statsWindowS, slot: (userId) => this.routers.routerFor(userId)?.slot, totals: deps.totals,
    });
    this.monitor = new MediaMonitor({ thresholdMs: deps.cfg.silenceThresholdMs, closeMs: deps.cfg.silenceCloseMs });
    this.monitor.on('change', (at) => this.updateClock(at));
    this.monitor.on('silence', (info) => {
      this.log.warn({ ...info, lastRtpAt: iso(info.lastRtpAt) }, 'media silence: no RTP from this producer');
      this.broadcast({ type: 'media_silence', callId, producerId: info.producerId, userId: info.userId, kind: info.kind,
        lastRtpAt: iso(info.lastRtpAt), silentSince: new Date(info.silentSince).toISOString() });
      this.emit('silence', info);
    });
    this.monitor.on('resumed', (info) => {
      this.log.info(info, 'media resumed');
      this.broadcast({ type: 'media_resumed', callId, producerId: info.producerId, userId: info.userId, kind: info.kind, silentMs: info.silentMs });
      this.emit('resumed', info);
    });
    this.monitor.on('timeout', (info) => {
      this.run(() => {
        this.log.warn({ ...info, lastRtpAt: iso(info.lastRtpAt), closeMs: this.cfg.silenceCloseMs }, 'media timeout: ending the call');
        this.close('media_timeout');
      }).catch(() => undefined);
    });
    this.queue.run(() => this.init()).catch(() => undefined);
  }

  get cfg(): Config {
    return this.deps.cfg;
  }

  /** The home router (the room's first; the only one of a room within one worker). */
  get router(): types.Router | undefined {
    return this.routers.home?.router;
  }

  /** The router of userId (placed on its first transport, see room-routers.ts). Call inside run(). */
  async place(userId: string): Promise<RoomRouter> {
    return this.routers.place(userId);
  }

  get open(): boolean {
    return this.state === 'open';
  }

  /** Runs op after every earlier operation on this room. */
  run<T>(op: () => Promise<T> | T): Promise<T> {
    return this.queue.run(() => {
      this.assertOpen();
      return op();
    });
  }

  /** Adds userId (no-op if present); tells the others. Call inside run(). */
  join(userId: string): Participant {
    let p = this.participants.get(userId);
    if (p) return p;
    p = new Participant(userId);
    this.participants.set(userId, p);
    clearTimeout(this.emptyTimer);
    this.emptyTimer = undefined;
    // A participant without an event socket is on the clock from the start.
    if (!this.events.has(userId)) this.startGrace(p);
    this.log.info({ userId }, 'participant joined');
    this.broadcast({ type: 'participant_joined', userId }, userId);
    this.emit('joined', userId);
    this.callConnected.check();
    return p;
  }

  /** Closes only userId's resources and removes it. Call inside run(). */
  leave(userId: string, reason: string): Released | undefined {
    const p = this.participants.get(userId);
    if (!p) return undefined;
    const released = p.closeAll();
    this.participants.delete(userId);
    this.routers.release(userId);
    this.events.close(1000, reason, userId);
    this.log.info({ userId, reason, released }, 'participant left');
    this.broadcast({ type: 'participant_left', userId, reason });
    this.emit('left', userId, reason);
    if (this.participants.size === 0) this.startEmptyTimer();
    this.callConnected.check();
    return released;
  }

  /** An event socket of userId opened (joins the room). Call inside run(). */
  attachSocket(userId: string, socket: EventSocket): Participant {
    this.events.add(userId, socket);
    // A socket that opens after the call connected still learns it (once per socket).
    if (this.callConnected.connected && this.callConnected.at) {
      try {
        socket.send(JSON.stringify({ type: 'call_connected', callId: this.callId, at: this.callConnected.at.toISOString() }));
      } catch { /* closing */ }
    }
    const p = this.join(userId);
    p.stopGrace();
    return p;
  }

  /** An event socket closed: with none left, the grace period starts. */
  detachSocket(userId: string, socket: EventSocket): void {
    const none = this.events.remove(userId, socket);
    const p = this.participants.get(userId);
    if (none && p && this.open) this.startGrace(p);
  }

  /**
   * RTC-07: closes every consumer (data consumers too), then producer (and
   * data producer), then transport, then the router, and counts what it
   * really closed. Call inside run().
   */
  cleanup(): Released {
    this.finishClock();
    this.state = 'closing';
    const released = noneReleased();
    const ps = [...this.participants.values()];
    for (const p of ps) p.closeConsumers(released);
    for (const p of ps) p.closeProducers(released);
    for (const p of ps) p.closeTransports(released);
    this.log.info({ released }, 'room cleaned up');
    this.close('cleanup');
    return released;
  }

  /** Closes the room (idempotent): tells every socket room_closed, closes the router. */
  close(reason: RoomCloseReason): void {
    if (this.state === 'closed') return;
    const connectedDurationMs = this.finishClock();
    this.ended = { reason, at: new Date(), connectedDurationMs, participants: [...this.participants.keys()] };
    this.state = 'closed';
    clearTimeout(this.emptyTimer);
    this.callConnected.stop();
    this.monitor.stop();
    this.quality.stop();
    for (const p of this.participants.values()) p.stopGrace();
    this.events.broadcast({ type: 'room_closed', callId: this.callId, reason });
    this.events.close(1000, reason);
    this.participants.clear();
    this.routers.closeAll();
    this.log.info({ reason }, 'room closed');
    this.emit('close', reason);
  }

  /** Broadcasts only while the room is open (not during cleanup/close). */
  broadcast(event: RoomEvent, except?: string): void {
    if (this.open) this.events.broadcast(event, except);
  }

  sendTo(userId: string, event: RoomEvent): void {
    if (this.open) this.events.sendTo(userId, event);
  }

  /** The clock runs while at least two participants have media; `at`: when that changed. */
  private updateClock(at: number): void {
    if (this.state === 'closed') return;
    let n = 0;
    for (const userId of this.monitor.usersWithMedia()) if (this.participants.has(userId)) n++;
    this.clock.set(n >= 2, at);
  }

  /**
   * Stops the clock for a room that ends now: at the moment the second-to-last
   * participant's media ended (now, or its last RTP if it had stopped before).
   * -> the billable milliseconds.
   */
  private finishClock(): number {
    const now = Date.now();
    const ends: number[] = [];
    for (const userId of this.monitor.usersWithMedia()) {
      if (!this.participants.has(userId)) continue;
      const end = this.monitor.mediaEnd(userId, now);
      if (end !== undefined) ends.push(end);
    }
    ends.sort((a, b) => b - a);
    return this.clock.end(ends.length >= 2 ? ends[1] : now);
  }

  /**
   * Adds a producer to the silence monitor and, if audio, to the level
   * observer (best effort; audio produced on an extra router is piped home
   * first, the observer being there).
   */
  async observeAudio(producer: types.Producer): Promise<void> {
    const userId = String(producer.appData.userId ?? '');
    this.monitor.track(producer, userId);
    if (producer.kind !== 'audio' || !this.observer || this.observer.closed) return;
    const observer = this.observer;
    try {
      const from = this.routers.routerFor(userId);
      const home = this.routers.home;
      if (from && home && from !== home) await this.routers.pipe(producer.id, from, home);
      if (producer.closed || observer.closed) return;
      await observer.addProducer({ producerId: producer.id });
    } catch (err) {
      if (!producer.closed) this.log.warn({ err, producerId: producer.id }, 'audio level observer: addProducer failed');
    }
  }

  /**
   * An extra router's worker died: its participants' media is gone. They
   * get room_closed "worker_died" (for them the room is over: RTC-01 again
   * puts them on a live router of this room), the others participant_left
   * with that reason. Call inside run().
   */
  private dropRouter(rr: RoomRouter): void {
    const users = this.routers.forget(rr);
    this.log.warn({ slot: rr.slot, routerId: rr.router.id, users }, "an extra router's worker died: its participants leave");
    for (const userId of users) {
      this.sendTo(userId, { type: 'room_closed', callId: this.callId, reason: 'worker_died' });
      this.leave(userId, 'worker_died');
    }
  }

  /** Participants' objects and routers per worker slot (metrics). */
  countsBySlot(): Map<number, { rooms: number; transports: number; producers: number; consumers: number }> {
    const by = new Map<number, { rooms: number; transports: number; producers: number; consumers: number }>();
    const at = (slot: number) => {
      let c = by.get(slot);
      if (!c) by.set(slot, (c = { rooms: 0, transports: 0, producers: 0, consumers: 0 }));
      return c;
    };
    for (const rr of this.routers.live) at(rr.slot).rooms++;
    for (const p of this.participants.values()) {
      const rr = this.routers.routerFor(p.userId);
      if (!rr) continue;
      const c = at(rr.slot);
      c.transports += p.transports.size;
      c.producers += p.producers.size;
      c.consumers += p.consumers.size;
    }
    return by;
  }

  counts(): { participants: number; transports: number; producers: number; consumers: number; dataProducers: number; dataConsumers: number } {
    const c = { participants: this.participants.size, transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };
    for (const p of this.participants.values()) {
      c.transports += p.transports.size;
      c.producers += p.producers.size;
      c.consumers += p.consumers.size;
      c.dataProducers += p.dataProducers.size;
      c.dataConsumers += p.dataConsumers.size;
    }
    return c;
  }

  private assertOpen(): void {
    if (this.open) return;
    if (this.initError !== undefined) {
      // The cause is in the log (init() logged it); clients get no internals.
      if (this.initError instanceof ApiError) throw this.initError;
      throw new ApiError('SERVICE_UNAVAILABLE', 'room could not be created');
    }
    throw new ApiError('ROOM_NOT_FOUND', `no room for call ${this.callId}`);
  }

  private async init(): Promise<void> {
    try {
      const worker = this.deps.pickWorker();
      const { router } = await this.routers.add(worker, true);
      if (this.state !== 'opening') { router.close(); return; }
      // One observer serves both the silence monitor and the participants'
      // speaking indicator: at -127 dBov every producer with audio packets in
      // an interval is listed (the monitor's "RTP arrived"); the `volumes`
      // event keeps the loudest few at -70 dBov or more, `silence` when none.
      const observer = await router.createAudioLevelObserver({ maxEntries: 256, threshold: -127, interval: OBSERVER_INTERVAL_MS });
      this.observer = observer;
      observer.on('volumes', (volumes) => {
        this.monitor.onVolumes(volumes.map((v) => v.producer.id));
        this.speaking(volumes.filter((v) => v.volume >= SPEAKING_THRESHOLD_DBOV).slice(0, SPEAKING_MAX_ENTRIES));
      });
      observer.on('silence', () => this.speaking([]));
      this.workerSlot = Number(worker.appData.slot ?? 0);
      if (this.state !== 'opening') return;
      this.state = 'open';
      this.log.info({ workerPid: worker.pid, routerId: router.id }, 'room opened');
      this.emit('open');
      this.quality.start();
      this.startEmptyTimer();
    } catch (err) {
      this.initError = err;
      this.log.error({ err }, 'room could not be created');
      this.close('error');
    }
  }

  private speaking(volumes: Array<{ producer: types.Producer; volume: number }>): void {
    if (volumes.length > 0) {
      this.speakingSilent = false;
      this.broadcast({
        type: 'volumes',
        volumes: volumes.map((v) => ({ producerId: v.producer.id, userId: String(v.producer.appData.userId ?? ''), volume: v.volume })),
      });
    } else if (!this.speakingSilent) {
      this.speakingSilent = true;
      this.broadcast({ type: 'silence' });
    }
  }

  private startGrace(p: Participant): void {
    p.stopGrace();
    p.graceTimer = setTimeout(() => {
      p.graceTimer = undefined;
      this.run(() => {
        if (this.participants.get(p.userId) === p && !this.events.has(p.userId)) this.leave(p.userId, 'disconnected');
      }).catch(() => undefined);
    }, this.cfg.disconnectGraceMs);
    p.graceTimer.unref();
  }

  private startEmptyTimer(): void {
    clearTimeout(this.emptyTimer);
    if (this.participants.size > 0 || !this.open) return;
    this.emptyTimer = setTimeout(() => {
      this.emptyTimer = undefined;
      this.run(() => {
        if (this.participants.size === 0) this.close('empty');
      }).catch(() => undefined);
    }, this.cfg.emptyRoomTimeoutMs);
    this.emptyTimer.unref();
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
