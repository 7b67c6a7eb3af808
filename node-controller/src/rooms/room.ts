// One call's room: a router on one worker, its participants, their event
// sockets, the audio level observer and call_connected detection.
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
import { mediaCodecs } from './codecs';

export type RoomState = 'opening' | 'open' | 'closing' | 'closed';
export type RoomCloseReason = 'cleanup' | 'worker_died' | 'empty' | 'shutdown' | 'error' | 'node_lost';

export interface RoomDeps {
  cfg: Config;
  log: FastifyBaseLogger;
  pickWorker: () => types.Worker;
}

/** What the room tells its registry's listeners (lifecycle events, the cluster directory). */
export interface RoomEventsMap {
  open: [];
  joined: [userId: string];
  left: [userId: string, reason: string];
  connected: [at: Date];
  close: [reason: RoomCloseReason];
}

export class Room extends EventEmitter<RoomEventsMap> {
  state: RoomState = 'opening';
  /** Unique per room: a call that lost its room and got a new one has a new id. */
  readonly id = randomUUID();
  router?: types.Router;
  readonly participants = new Map<string, Participant>();
  readonly events = new RoomEvents();
  readonly callConnected: CallConnected;
  readonly createdAt = new Date();
  readonly log: FastifyBaseLogger;
  private observer?: types.AudioLevelObserver;
  private readonly queue = new OpQueue();
  private emptyTimer?: NodeJS.Timeout;
  private initError?: unknown;

  constructor(readonly callId: string, readonly deps: RoomDeps) {
    super();
    this.log = deps.log.child({ callId });
    this.callConnected = new CallConnected(
      () => this.participants.values(),
      (at) => {
        this.events.broadcast({ type: 'call_connected', callId, at: at.toISOString() });
        this.emit('connected', at);
      },
    );
    this.queue.run(() => this.init()).catch(() => undefined);
  }

  get cfg(): Config {
    return this.deps.cfg;
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
   * RTC-07: closes every consumer, then producer, then transport, then the
   * router, and counts what it really closed. Call inside run().
   */
  cleanup(): Released {
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
    this.state = 'closed';
    clearTimeout(this.emptyTimer);
    this.callConnected.stop();
    for (const p of this.participants.values()) p.stopGrace();
    this.events.broadcast({ type: 'room_closed', callId: this.callId, reason });
    this.events.close(1000, reason);
    this.participants.clear();
    if (this.router && !this.router.closed) this.router.close();
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

  /** Adds an audio producer to the level observer (best effort). */
  observeAudio(producer: types.Producer): void {
    if (producer.kind !== 'audio' || !this.observer || this.observer.closed) return;
    this.observer.addProducer({ producerId: producer.id }).catch((err) => {
      this.log.warn({ err, producerId: producer.id }, 'audio level observer: addProducer failed');
    });
  }

  counts(): { participants: number; transports: number; producers: number; consumers: number } {
    const c = { participants: this.participants.size, transports: 0, producers: 0, consumers: 0 };
    for (const p of this.participants.values()) {
      c.transports += p.transports.size;
      c.producers += p.producers.size;
      c.consumers += p.consumers.size;
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
      const router = await worker.createRouter({ mediaCodecs, appData: { callId: this.callId } });
      this.router = router;
      router.on('workerclose', () => this.close('worker_died'));
      if (this.state !== 'opening') { router.close(); return; }
      const observer = await router.createAudioLevelObserver({ maxEntries: 10, threshold: -70, interval: 1000 });
      this.observer = observer;
      observer.on('volumes', (volumes) => this.broadcast({
        type: 'volumes',
        volumes: volumes.map((v) => ({
          producerId: v.producer.id,
          userId: String(v.producer.appData.userId ?? ''),
          volume: v.volume,
        })),
      }));
      observer.on('silence', () => this.broadcast({ type: 'silence' }));
      if (this.state !== 'opening') return;
      this.state = 'open';
      this.log.info({ workerPid: worker.pid, routerId: router.id }, 'room opened');
      this.emit('open');
      this.startEmptyTimer();
    } catch (err) {
      this.initError = err;
      this.log.error({ err }, 'room could not be created');
      this.close('error');
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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
