// Delivers webhooks to WEBHOOK_URL without ever blocking media or REST work:
// send() only serializes the event and queues it; deliveries run on their
// own, one at a time per call (a call's events arrive in order), several
// calls at once. A delivery that fails (network error, timeout, any non-2xx)
// is retried with exponential backoff (0.5 s doubling up to 60 s, +-20 %
// jitter, or the receiver's Retry-After within 0.25-60 s), the same body bytes and
// id each time, up to WEBHOOK_MAX_ATTEMPTS attempts; then it is dropped
// (logged, counted) and the call's next event goes. The queue is in memory:
// at most WEBHOOK_QUEUE_MAX events (beyond, new events are dropped, logged,
// counted); on shutdown drain() gives deliveries a few seconds to finish.
// Receivers deduplicate by `id` (a delivery whose answer was lost is sent again).
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebhookConfig } from '../config';
import { webhookSigner } from './signer';

export type WebhookEventName =
  | 'call_started' | 'participant_joined' | 'participant_left' | 'call_connected'
  | 'media_silence' | 'media_resumed' | 'call_ended';

export interface WebhookEvent {
  event: WebhookEventName;
  callId: string;
  /** When it happened. */
  at: Date | number;
  [field: string]: unknown;
}

interface Delivery {
  id: string;
  callId: string;
  event: WebhookEventName;
  body: string;
  attempts: number;
  queuedAt: number;
}

export interface WebhookStats {
  delivered: number;
  /** Failed attempts that were retried. */
  retried: number;
  /** Events given up after WEBHOOK_MAX_ATTEMPTS. */
  failed: number;
  /** Events refused because the queue was full. */
  dropped: number;
}

export interface SenderOptions {
  /** Delay before attempt n + 1 after n failures (tests shorten it). */
  backoff?: (failures: number) => number;
  /** Calls delivered at once. */
  concurrency?: number;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;
/** A Retry-After shorter than this is taken as this (no hot loop against a receiver that says 0). */
const RETRY_AFTER_MIN_MS = 250;

export function defaultBackoff(failures: number): number {
  const d = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return Math.round(d * (0.8 + Math.random() * 0.4));
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  const ms = Number.isFinite(s) && s >= 0 ? s * 1000 : Date.parse(h) - Date.now();
  if (Number.isNaN(ms)) return undefined;
  return Math.min(BACKOFF_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

export class WebhookSender {
  readonly stats: WebhookStats = { delivered: 0, retried: 0, failed: 0, dropped: 0 };
  private readonly queues = new Map<string, Delivery[]>();
  /** Calls whose head delivery is in flight or waiting for its retry. */
  private readonly busy = new Set<string>();
  /** Calls with events waiting for a delivery slot. */
  private readonly ready: string[] = [];
  /** Retries waiting for their backoff, and what each runs. */
  private readonly retries = new Map<NodeJS.Timeout, () => void>();
  private readonly inflight = new Set<AbortController>();
  private readonly sign: (body: string) => string;
  private readonly backoff: (failures: number) => number;
  private readonly concurrency: number;
  private active = 0;
  private size = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly cfg: WebhookConfig, private readonly log: FastifyBaseLogger, opts: SenderOptions = {}) {
    this.sign = webhookSigner(cfg.secret, cfg.key);
    this.backoff = opts.backoff ?? defaultBackoff;
    this.concurrency = opts.concurrency ?? 8;
  }

  /** Events not delivered yet (queued, in flight or waiting for a retry). */
  get queued(): number {
    return this.size;
  }

  /** Queues an event; its body `{id, event, callId, at, ...}` is fixed now. -> its id (undefined if dropped). */
  send(e: WebhookEvent): string | undefined {
    if (this.closed) return undefined;
    if (this.size >= this.cfg.queueMax) {
      this.stats.dropped++;
      this.log.error({ event: e.event, callId: e.callId, queueMax: this.cfg.queueMax }, 'webhook queue full: event dropped');
      return undefined;
    }
    const id = randomUUID();
    const { event, callId, at, ...fields } = e;
    const body = JSON.stringify({ id, event, callId, at: new Date(at).toISOString(), ...fields });
    let q = this.queues.get(callId);
    if (!q) this.queues.set(callId, (q = []));
    q.push({ id, callId, event, body, attempts: 0, queuedAt: Date.now() });
    this.size++;
    if (!this.busy.has(callId) && q.length === 1) this.ready.push(callId);
    this.pump();
    return id;
  }

  /** Resolves when every queued event was delivered or given up, or after timeoutMs. -> events left. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.size === 0) return 0;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => { clearTimeout(t); resolve(); });
      // Retries waiting for their backoff go now: the process is about to stop.
      for (const [timer, retry] of [...this.retries]) {
        clearTimeout(timer);
        this.retries.delete(timer);
        retry();
      }
    });
    return this.size;
  }

  /** Stops: pending deliveries are abandoned (logged). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.retries.keys()) clearTimeout(t);
    this.retries.clear();
    for (const c of this.inflight) c.abort();
    if (this.size > 0) this.log.warn({ undelivered: this.size }, 'webhooks: undelivered events at shutdown');
  }

  private pump(): void {
    while (!this.closed && this.active < this.concurrency && this.ready.length > 0) {
      const callId = this.ready.shift()!;
      if (this.busy.has(callId)) continue;
      this.busy.add(callId);
      this.active++;
      void this.deliverHead(callId);
    }
  }

  private async deliverHead(callId: string): Promise<void> {
    const d = this.queues.get(callId)?.[0];
    if (!d) return this.release(callId);
    d.attempts++;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), this.cfg.timeoutMs);
    this.inflight.add(ctrl);
    let ok = false;
    let why = '';
    let wait: number | undefined;
    try {
      const res = await fetch(this.cfg.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/webhook+json',
          authorization: this.sign(d.body),
          'user-agent': 'sfu-controller-webhook/1',
          'x-sfu-webhook-id': d.id,
          'x-sfu-webhook-attempt': String(d.attempts),
        },
        body: d.body,
        signal: ctrl.signal,
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      ok = res.status >= 200 && res.status < 300;
      if (!ok) {
        why = `HTTP ${res.status}`;
        wait = retryAfterMs(res.headers.get('retry-after'));
      }
    } catch (err) {
      why = ctrl.signal.aborted ? (this.closed ? 'shutdown' : `timeout after ${this.cfg.timeoutMs} ms`) : ((err as Error).cause as Error)?.message ?? (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ctrl);
    }
    if (this.closed) return;
    if (ok) {
      this.stats.delivered++;
      this.log.debug({ id: d.id, event: d.event, callId, attempts: d.attempts }, 'webhook delivered');
      this.shift(callId);
      return this.release(callId);
    }
    if (d.attempts >= this.cfg.maxAttempts) {
      this.stats.failed++;
      this.log.error({ id: d.id, event: d.event, callId, attempts: d.attempts, why }, 'webhook given up');
      this.shift(callId);
      return this.release(callId);
    }
    this.stats.retried++;
    const delay = wait ?? this.backoff(d.attempts);
    this.log.warn({ id: d.id, event: d.event, callId, attempt: d.attempts, why, retryInMs: delay }, 'webhook delivery failed; retrying');
    // The call stays busy (its later events wait: order), the slot is free for other calls.
    this.active--;
    const retry = () => {
      if (this.closed) return;
      this.busy.delete(callId);
      this.ready.unshift(callId);
      this.pump();
    };
    const t = setTimeout(() => { this.retries.delete(t); retry(); }, delay);
    this.retries.set(t, retry);
    this.pump();
  }

  private shift(callId: string): void {
    const q = this.queues.get(callId);
    q?.shift();
    this.size--;
    if (q && q.length === 0) this.queues.delete(callId);
  }

  /** The call's delivery slot is free (its head was delivered or given up). */
  private release(callId: string): void {
    this.active--;
    this.busy.delete(callId);
    if (this.queues.has(callId)) this.ready.push(callId);
    if (this.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
    this.pump();
  }
}
