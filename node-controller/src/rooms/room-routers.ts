// The routers of one room (rooms larger than one worker, issue 11 item 5).
//
// A room starts with its home router (the audio level observer lives there).
// Each participant is placed on one router of the room when it asks for its
// first transport (RTC-02) and stays there until it leaves: the first router
// of the room, in creation order, that has fewer than
// RTC_MAX_CONSUMERS_PER_WORKER consumers (the participants' and the pipe
// consumers: what the worker forwards); if none has, a new router on the
// least loaded worker of the node that holds none of the room's routers;
// if every worker holds one, the room's router with the fewest consumers.
// The limit is on admission: participants already on a router keep consuming
// there, so a router can go past it.
//
// Producers reach the other routers with router.pipeToRouter (same producer
// id on both sides, one PipeTransport pair per pair of routers, which
// mediasoup creates and caches): on demand when a participant on another
// router consumes one (RTC-05), and at once for audio produced away from
// home (the observer hears every audio producer; home participants consume
// it anyway). mediasoup ties each pipe to its source: the source producer's
// close (RTC-04 close, leave, transport closed) closes the pipe consumer,
// which closes the piped producer, whose consumers close (consumer_closed);
// pause and resume follow the same way. An extra router closes when its last
// participant leaves (its pipe transports close with it, and their peers on
// the other routers with them); all of them close with the room.
//
// A worker binary without PipeTransport (WorkerPool.pipeSupported false):
// every participant goes to the home router, as if the limit were infinite.
import type { types } from 'mediasoup';
import type { FastifyBaseLogger } from 'fastify';
import { mediaCodecs } from './codecs';

export interface RoomRouter {
  readonly router: types.Router;
  readonly worker: types.Worker;
  /** The worker's pool slot (metrics). */
  readonly slot: number;
  readonly home: boolean;
  /** Participants placed here. */
  readonly members: Set<string>;
  /** Consumers on this router now (participants' and pipe consumers). */
  consumers: number;
}

export interface RouterHost {
  /** Consumers a router of a room takes before new participants go elsewhere. */
  limit: number;
  /** The least loaded live worker outside `exclude`, if any (WorkerPool.pickOther). */
  pickOther?: (exclude: ReadonlySet<types.Worker>) => types.Worker | undefined;
  /** Pipes work with this worker binary (WorkerPool.pipeSupported). */
  pipeSupported?: () => boolean;
}

export interface RoomRoutersEvents {
  /** An extra router's worker died: its participants must go. */
  extraDied: (rr: RoomRouter) => void;
  /** The home router's worker died: the room must close. */
  homeDied: () => void;
}

export class RoomRouters {
  private readonly list: RoomRouter[] = [];
  private readonly byUser = new Map<string, RoomRouter>();
  /** `${producerId} ${routerId}` -> the pipe of that producer to that router (pending or made). */
  private readonly pipes = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly callId: string,
    private readonly host: RouterHost,
    private readonly log: FastifyBaseLogger,
    private readonly on: RoomRoutersEvents,
  ) {}

  get home(): RoomRouter | undefined {
    return this.list[0];
  }

  /** The routers not closed, home first. */
  get live(): RoomRouter[] {
    return this.list.filter((r) => !r.router.closed);
  }

  /** Where userId was placed; undefined if it has no transport yet (then: home). */
  of(userId: string): RoomRouter | undefined {
    const rr = this.byUser.get(userId);
    return rr && !rr.router.closed ? rr : undefined;
  }

  /** The router userId's objects live on (home until placed). */
  routerFor(userId: string): RoomRouter | undefined {
    return this.of(userId) ?? this.home;
  }

  /** Creates the home router, or an extra one. */
  async add(worker: types.Worker, home: boolean): Promise<RoomRouter> {
    const router = await worker.createRouter({ mediaCodecs, appData: { callId: this.callId, home } });
    const rr: RoomRouter = { router, worker, slot: Number(worker.appData.slot ?? 0), home, members: new Set(), consumers: 0 };
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (consumer) => {
        rr.consumers++;
        consumer.observer.once('close', () => { rr.consumers--; });
      });
    });
    router.on('workerclose', () => {
      if (home) this.on.homeDied();
      else this.on.extraDied(rr);
    });
    if (this.closed) {
      router.close();
      return rr;
    }
    this.list.push(rr);
    return rr;
  }

  /** Places userId (see the header); it stays on that router until release(). */
  async place(userId: string): Promise<RoomRouter> {
    const had = this.byUser.get(userId);
    if (had && !had.router.closed) return had;
    if (had) this.release(userId);
    const rr = await this.choose(userId);
    if (rr.router.closed) throw new Error('router closed');
    rr.members.add(userId);
    this.byUser.set(userId, rr);
    return rr;
  }

  private async choose(userId: string): Promise<RoomRouter> {
    const live = this.live;
    if (live.length === 0) throw new Error('room has no router');
    const { limit } = this.host;
    if (!this.host.pipeSupported?.()) return live[0];
    const open = live.find((r) => r.consumers < limit);
    if (open) return open;
    const worker = this.host.pickOther?.(new Set(live.map((r) => r.worker)));
    if (!worker) return live.reduce((a, b) => (b.consumers < a.consumers ? b : a));
    const rr = await this.add(worker, false);
    this.log.info({ userId, routerId: rr.router.id, workerPid: worker.pid, slot: rr.slot, limit,
      consumers: live.map((r) => r.consumers) }, 'room spans another worker');
    return rr;
  }

  /** userId left: an extra router with nobody left closes. */
  release(userId: string): void {
    const rr = this.byUser.get(userId);
    if (!rr) return;
    this.byUser.delete(userId);
    rr.members.delete(userId);
    if (rr.home || rr.members.size > 0 || rr.router.closed) return;
    this.log.info({ routerId: rr.router.id, slot: rr.slot }, 'extra router of the room closed: its last participant left');
    this.remove(rr);
    rr.router.close();
  }

  /** An extra router whose worker died: forget it and its members (the room removes them). */
  forget(rr: RoomRouter): string[] {
    const users = [...rr.members];
    for (const u of users) if (this.byUser.get(u) === rr) this.byUser.delete(u);
    rr.members.clear();
    this.remove(rr);
    return users;
  }

  /**
   * Makes producerId, produced on `from`, consumable on `to` (the same id
   * there). Once per producer and router; concurrent callers share the pipe.
   */
  async pipe(producerId: string, from: RoomRouter, to: RoomRouter): Promise<void> {
    if (from === to) return;
    const key = `${producerId} ${to.router.id}`;
    let pending = this.pipes.get(key);
    if (!pending) {
      const forget = () => { if (this.pipes.get(key) === pending) this.pipes.delete(key); };
      // enableSctp: mediasoup keeps one PipeTransport pair per pair of
      // routers, made by the first pipe: SCTP on it lets data producers follow.
      pending = from.router.pipeToRouter({ producerId, router: to.router, enableSctp: true })
        .then(({ pipeProducer }) => {
          if (!pipeProducer) return;
          if (pipeProducer.closed) forget();
          else pipeProducer.observer.once('close', forget);
        });
      pending.catch(forget);
      this.pipes.set(key, pending);
    }
    await pending;
  }

  /** pipe() for a data producer (the pipe transport pair's SCTP association carries it). */
  async pipeData(dataProducerId: string, from: RoomRouter, to: RoomRouter): Promise<void> {
    if (from === to) return;
    const key = `data ${dataProducerId} ${to.router.id}`;
    let pending = this.pipes.get(key);
    if (!pending) {
      const forget = () => { if (this.pipes.get(key) === pending) this.pipes.delete(key); };
      pending = from.router.pipeToRouter({ dataProducerId, router: to.router, enableSctp: true })
        .then(({ pipeDataProducer }) => {
          if (!pipeDataProducer) return;
          if (pipeDataProducer.closed) forget();
          else pipeDataProducer.observer.once('close', forget);
        });
      pending.catch(forget);
      this.pipes.set(key, pending);
    }
    await pending;
  }

  /** Pipes (made or pending) for tests and logs. */
  get pipeCount(): number {
    return this.pipes.size;
  }

  /** Closes every router (the room closed). */
  closeAll(): void {
    this.closed = true;
    for (const rr of this.list) if (!rr.router.closed) rr.router.close();
    this.byUser.clear();
    this.pipes.clear();
  }

  private remove(rr: RoomRouter): void {
    const i = this.list.indexOf(rr);
    if (i > 0) this.list.splice(i, 1);
  }
}
