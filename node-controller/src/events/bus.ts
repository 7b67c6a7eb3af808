// Call lifecycle events for listeners that are not participants (the service
// backend's GET /rtc/calls/events). The owner of a call publishes; in single-
// node mode the bus is in-process, in cluster mode it is Redis pub/sub (one
// channel per call, P events:<callId>), so a listener on any node hears every
// call. Events: call_assigned (cluster), room_opened, participant_joined,
// participant_left, call_connected, room_closed, call_lost (cluster: the
// owner's heartbeat expired). `ts` is milliseconds since the epoch.
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export interface CallEvent {
  type: string;
  callId: string;
  /** The node that owns (owned) the call; cluster mode only. */
  node?: string;
  ts: number;
  [field: string]: unknown;
}

export type CallEventListener = (event: CallEvent) => void;

export interface Subscription {
  /** Resolves once events published from now on reach the listener. */
  ready: Promise<void>;
  close(): void;
}

export interface CallEventBus {
  publish(event: CallEvent): void;
  /** Listens to one call, or to every call (null). */
  subscribe(callId: string | null, listener: CallEventListener): Subscription;
  close(): Promise<void>;
}

const ALL = '*';

/** Listeners by call id ('*': every call). */
class Listeners {
  private readonly byCall = new Map<string, Set<CallEventListener>>();

  /** -> true if it is the first listener of key. */
  add(key: string, l: CallEventListener): boolean {
    let set = this.byCall.get(key);
    const first = !set;
    if (!set) this.byCall.set(key, (set = new Set()));
    set.add(l);
    return first;
  }

  /** -> true if it was the last listener of key. */
  remove(key: string, l: CallEventListener): boolean {
    const set = this.byCall.get(key);
    if (!set?.delete(l)) return false;
    if (set.size > 0) return false;
    this.byCall.delete(key);
    return true;
  }

  emit(key: string, e: CallEvent, log: FastifyBaseLogger): void {
    for (const l of [...(this.byCall.get(key) ?? [])]) {
      try { l(e); } catch (err) { log.warn({ err }, 'call event listener failed'); }
    }
  }
}

export class LocalBus implements CallEventBus {
  private readonly listeners = new Listeners();

  constructor(private readonly log: FastifyBaseLogger) {}

  publish(event: CallEvent): void {
    // Asynchronous like the Redis bus: a listener never runs inside a room operation.
    setImmediate(() => {
      this.listeners.emit(event.callId, event, this.log);
      this.listeners.emit(ALL, event, this.log);
    });
  }

  subscribe(callId: string | null, listener: CallEventListener): Subscription {
    const key = callId ?? ALL;
    this.listeners.add(key, listener);
    return { ready: Promise.resolve(), close: () => { this.listeners.remove(key, listener); } };
  }

  async close(): Promise<void> { /* nothing held */ }
}

/**
 * Redis pub/sub: publishes on the command connection, listens on its own
 * subscriber connection (SUBSCRIBE per call with listeners, PSUBSCRIBE
 * P events:* while someone listens to every call). A publish while Redis is
 * down is dropped (logged); ioredis resubscribes after a reconnect.
 */
export class RedisBus implements CallEventBus {
  private readonly listeners = new Listeners();
  /** The SUBSCRIBE of each key with listeners (later listeners wait for it too). */
  private readonly pending = new Map<string, Promise<void>>();
  dropped = 0;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly log: FastifyBaseLogger,
  ) {
    sub.on('message', (channel: string, message: string) => this.dispatch(channel, message, false));
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => this.dispatch(channel, message, true));
  }

  private channel(callId: string): string {
    return `${this.prefix}events:${callId}`;
  }

  private dispatch(channel: string, message: string, pattern: boolean): void {
    const base = `${this.prefix}events:`;
    if (!channel.startsWith(base)) return;
    let e: CallEvent;
    try {
      e = JSON.parse(message) as CallEvent;
    } catch {
      this.log.warn({ channel }, 'call event bus: message is not JSON');
      return;
    }
    if (typeof e?.type !== 'string') return;
    e.callId = channel.slice(base.length);
    this.listeners.emit(pattern ? ALL : e.callId, e, this.log);
  }

  publish(event: CallEvent): void {
    this.pub.publish(this.channel(event.callId), JSON.stringify(event)).catch((err: Error) => {
      this.dropped++;
      this.log.debug({ err: err.message, type: event.type, callId: event.callId }, 'call event not published (redis)');
    });
  }

  subscribe(callId: string | null, listener: CallEventListener): Subscription {
    const key = callId ?? ALL;
    let ready: Promise<void>;
    if (this.listeners.add(key, listener)) {
      const p = callId === null ? this.sub.psubscribe(`${this.prefix}events:*`) : this.sub.subscribe(this.channel(callId));
      ready = p.then(() => undefined, (err: Error) => {
        this.log.warn({ err: err.message, callId }, 'call event bus: subscribe failed');
        throw err;
      });
      this.pending.set(key, ready);
    } else {
      ready = this.pending.get(key) ?? Promise.resolve();
    }
    ready.catch(() => undefined);
    let closed = false;
    return {
      ready,
      close: () => {
        if (closed) return;
        closed = true;
        if (!this.listeners.remove(key, listener)) return;
        this.pending.delete(key);
        const p = callId === null ? this.sub.punsubscribe(`${this.prefix}events:*`) : this.sub.unsubscribe(this.channel(callId));
        p.catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.sub.removeAllListeners('message');
    this.sub.removeAllListeners('pmessage');
  }
}
