// Test helpers: an app on real workers (build/sfu-worker, RTC_WORKERS=1),
// tokens, inject shortcuts, sample RTP parameters, worker dumps.
import crypto from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { types } from 'mediasoup';
import WebSocket from 'ws';
import { build } from '../src/app';
import { loadConfig, type Config } from '../src/config';

export const SECRET = 'test-secret';

export async function startApp(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = loadConfig({
    JWT_SECRET: SECRET,
    RTC_WORKERS: '1',
    RTC_DISCONNECT_GRACE_MS: '60000',
    RTC_EMPTY_ROOM_TIMEOUT_MS: '60000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  }, overrides);
  const app = await build({ config });
  await app.ready();
  return app;
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

export function token(claims: Record<string, unknown>, opts: { secret?: string; ttl?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iat: now, exp: now + (opts.ttl ?? 3600), ...claims };
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const sig = crypto.createHmac('sha256', opts.secret ?? SECRET).update(input).digest();
  return `${input}.${b64url(sig)}`;
}

export const userToken = (callId: string, sub: string) => token({ sub, callId });
export const serviceToken = () => token({ sub: 'backend', role: 'service' });

export interface Res {
  status: number;
  body: any;
}

export async function api(app: FastifyInstance, method: InjectOptions['method'], url: string, tok?: string,
  body?: unknown): Promise<Res> {
  const res = await app.inject({
    method,
    url,
    headers: tok ? { authorization: `Bearer ${tok}` } : {},
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  let parsed: unknown = res.body;
  try { parsed = res.json(); } catch { /* not JSON */ }
  return { status: res.statusCode, body: parsed };
}

/** A participant: joins (RTC-01) and keeps its token. */
export async function join(app: FastifyInstance, callId: string, userId: string) {
  const tok = userToken(callId, userId);
  const caps = await api(app, 'GET', `/rtc/capabilities?callId=${callId}`, tok);
  if (caps.status !== 200) throw new Error(`join ${userId}: ${caps.status} ${JSON.stringify(caps.body)}`);
  return { tok, userId, callId, rtpCapabilities: caps.body.routerRtpCapabilities as types.RtpCapabilities };
}

export type Peer = Awaited<ReturnType<typeof join>>;

export async function transport(app: FastifyInstance, peer: Peer, direction: 'send' | 'recv'): Promise<string> {
  const r = await api(app, 'POST', '/rtc/transports', peer.tok, { callId: peer.callId, direction });
  if (r.status !== 201) throw new Error(`transport: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.transport.id;
}

let ssrc = 10000;
export function opusParameters(): types.RtpParameters {
  const s = ssrc++;
  return {
    mid: String(s),
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc: s }],
    rtcp: { cname: `c${s}`, reducedSize: true },
  };
}

export async function produce(app: FastifyInstance, peer: Peer, transportId: string): Promise<string> {
  const r = await api(app, 'POST', '/rtc/producers', peer.tok,
    { callId: peer.callId, transportId, kind: 'audio', rtpParameters: opusParameters() });
  if (r.status !== 201) throw new Error(`produce: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.producerId;
}

export const fakeDtls = () => ({
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: crypto.randomBytes(32).toString('hex').toUpperCase().match(/../g)!.join(':') }],
});

/** Every object left in every worker: routers, and per router its transports/producers/consumers. */
export async function workerObjects(app: FastifyInstance) {
  const out = { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 };
  for (const w of app.pool.workers) {
    const d = await w.dump();
    out.routers += d.routerIds.length;
    // Every live object in the worker (the worker's own handler aside).
    out.handlers += d.channelMessageHandlers.channelRequestHandlers.filter((h) => h !== String(w.pid)).length;
  }
  for (const room of app.rooms.all()) {
    if (!room.router || room.router.closed) continue;
    const d = await room.router.dump();
    out.transports += d.transportIds.length;
    out.producers += d.mapProducerIdConsumerIds.length;
    out.consumers += d.mapConsumerIdProducerId.length;
    out.observers += d.rtpObserverIds.length;
  }
  return out;
}

export interface EventClient {
  ws: WebSocket;
  events: any[];
  waitFor(pred: (e: any) => boolean, ms?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens the event socket (token in the query unless header is set). */
export function openEvents(base: string, callId: string, tok: string, opts: { header?: boolean } = {}): Promise<EventClient> {
  const url = `${base.replace('http', 'ws')}/rtc/events?callId=${encodeURIComponent(callId)}${opts.header ? '' : `&token=${tok}`}`;
  const ws = new WebSocket(url, opts.header ? { headers: { authorization: `Bearer ${tok}` } } : {});
  const events: any[] = [];
  const waiters: Array<{ pred: (e: any) => boolean; resolve: (e: any) => void }> = [];
  ws.on('message', (data) => {
    const e = JSON.parse(String(data));
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const client: EventClient = {
    ws,
    events,
    closed,
    waitFor(pred, ms = 3000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`event not received in ${ms} ms; got ${JSON.stringify(events)}`)), ms);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Waits until the room has userId online (the socket attach runs in the room queue). */
export async function until(pred: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
