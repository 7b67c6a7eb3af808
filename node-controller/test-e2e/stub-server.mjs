#!/usr/bin/env node
// A STAND-IN for the node-controller, only so the demo page and the browser
// end-to-end test can be developed before the real controller lands. It
// implements just the routes the page and the test use, with the shapes of
// ISSUE4 items 3/4, on node:http + the mediasoup library (one worker), with
// none of the controller's validation, metrics or robustness. Not shipped.
//
//   node test-e2e/stub-server.mjs     (env: HOST, PORT, JWT_SECRET, RTC_WORKER_BIN,
//                                     RTC_LISTEN_IP, RTC_ANNOUNCED_IP, RTC_MIN_PORT, RTC_MAX_PORT,
//                                     RTC_DISCONNECT_GRACE_MS, RTC_EMPTY_ROOM_TIMEOUT_MS, DEMO_DIST)
//
// Routes: GET / and /demo.js (demo/dist), GET /healthz, POST /dev/token,
// GET /dev/workers/dump, the RTC-01..07 routes, GET /rtc/rooms/:callId,
// GET /rtc/events (WebSocket).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { verifyJwt, signJwt } from './lib/jwt.mjs';
import { acceptWebSocket, rejectUpgrade } from './lib/ws-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const controllerDir = path.resolve(here, '..');
const repoRoot = path.resolve(controllerDir, '..');
const mediasoup = createRequire(path.join(controllerDir, 'package.json'))('mediasoup');

const env = process.env;
const HOST = env.HOST ?? '127.0.0.1';
const PORT = Number(env.PORT ?? 3000);
const JWT_SECRET = env.JWT_SECRET ?? 'dev-secret';
const GRACE_MS = Number(env.RTC_DISCONNECT_GRACE_MS ?? 15000);
const EMPTY_ROOM_MS = Number(env.RTC_EMPTY_ROOM_TIMEOUT_MS ?? 30000);
const LISTEN_IP = env.RTC_LISTEN_IP ?? '127.0.0.1';
const DEMO_DIST = env.DEMO_DIST ?? path.join(controllerDir, 'demo', 'dist');
const DEV = env.NODE_ENV !== 'production';
const workerBin = env.RTC_WORKER_BIN ?? path.join(repoRoot, 'build', 'sfu-worker');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];
const listen = (protocol) => ({
  protocol, ip: LISTEN_IP, announcedAddress: env.RTC_ANNOUNCED_IP || undefined,
  portRange: { min: Number(env.RTC_MIN_PORT ?? 40000), max: Number(env.RTC_MAX_PORT ?? 41000) },
});

const log = (...a) => { if (env.LOG_LEVEL !== 'silent') console.error(new Date().toISOString().slice(11, 23), ...a); };

const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
worker.on('died', (e) => { log('worker died', e.message); process.exit(1); });

class HttpError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** callId -> room {callId, router, participants: Map userId -> participant, connected, queue, emptyTimer} */
const rooms = new Map();
/** transport/producer/consumer id -> {room, p, kind: 'transport'|'producer'|'consumer'} */
const owners = new Map();

function broadcast(room, msg, exceptUserId) {
  for (const p of room.participants.values()) {
    if (p.userId === exceptUserId) continue;
    for (const ws of p.sockets) ws.send(msg);
  }
}
function tell(p, msg) { for (const ws of p.sockets) ws.send(msg); }

/** Runs fn with the room's operations serialized. */
function serialize(room, fn) {
  const run = room.queue.then(fn, fn);
  room.queue = run.catch(() => {});
  return run;
}

async function getOrCreateRoom(callId) {
  let room = rooms.get(callId);
  if (room) return room;
  room = { callId, router: null, participants: new Map(), connected: false, queue: Promise.resolve(), emptyTimer: null };
  rooms.set(callId, room);
  room.ready = worker.createRouter({ mediaCodecs, appData: { callId } }).then((r) => { room.router = r; });
  try {
    await room.ready;
  } catch (e) {
    rooms.delete(callId);
    throw e;
  }
  return room;
}

function findRoom(callId) {
  const room = rooms.get(callId);
  if (!room) throw new HttpError(404, 'ROOM_NOT_FOUND', `no room for call ${callId}`);
  return room;
}

function join(room, userId) {
  let p = room.participants.get(userId);
  if (p) return p;
  clearTimeout(room.emptyTimer);
  p = { userId, transports: new Map(), producers: new Map(), consumers: new Map(), sockets: new Set(), graceTimer: null };
  room.participants.set(userId, p);
  broadcast(room, { type: 'participant_joined', userId }, userId);
  return p;
}

function checkCallConnected(room) {
  if (room.connected) return;
  const producing = [...room.participants.values()].filter((p) => p.producers.size > 0);
  if (producing.length < 2) return;
  if (!producing.every((p) => [...p.producers.values()].some((x) => x.flowing))) return;
  room.connected = true;
  broadcast(room, { type: 'call_connected', callId: room.callId, at: new Date().toISOString() });
}

function closeConsumer(room, p, id, counts) {
  const c = p.consumers.get(id);
  if (!c) return;
  p.consumers.delete(id);
  owners.delete(id);
  if (!c.closed) { c.close(); if (counts) counts.consumers++; }
}

function closeProducer(room, p, id, counts) {
  const x = p.producers.get(id);
  if (!x) return;
  p.producers.delete(id);
  owners.delete(id);
  x.producer.close(); // the worker closes its consumers ('producerclose')
  if (counts) counts.producers++;
  broadcast(room, { type: 'producer_closed', producerId: id, userId: p.userId }, p.userId);
}

function closeTransport(room, p, id, counts) {
  const t = p.transports.get(id);
  if (!t) return;
  for (const [cid, c] of p.consumers) if (c.appData.transportId === id) closeConsumer(room, p, cid, counts);
  for (const [pid, x] of p.producers) if (x.transportId === id) closeProducer(room, p, pid, counts);
  p.transports.delete(id);
  owners.delete(id);
  t.transport.close();
  if (counts) counts.transports++;
}

/** Closes everything of p (consumers, producers, transports), removes it, tells the others. */
function removeParticipant(room, p, reason) {
  const counts = { transports: 0, producers: 0, consumers: 0 };
  clearTimeout(p.graceTimer);
  for (const id of [...p.consumers.keys()]) closeConsumer(room, p, id, counts);
  for (const id of [...p.producers.keys()]) closeProducer(room, p, id, counts);
  for (const id of [...p.transports.keys()]) closeTransport(room, p, id, counts);
  room.participants.delete(p.userId);
  for (const ws of p.sockets) ws.close(1000, 'left');
  broadcast(room, { type: 'participant_left', userId: p.userId, reason });
  if (room.participants.size === 0) {
    room.emptyTimer = setTimeout(() => serialize(room, () => closeRoom(room, 'empty')), EMPTY_ROOM_MS);
  }
  return counts;
}

function closeRoom(room, reason) {
  if (rooms.get(room.callId) !== room) return null;
  const counts = { transports: 0, producers: 0, consumers: 0 };
  clearTimeout(room.emptyTimer);
  const ps = [...room.participants.values()];
  for (const p of ps) for (const id of [...p.consumers.keys()]) closeConsumer(room, p, id, counts);
  for (const p of ps) for (const id of [...p.producers.keys()]) { const x = p.producers.get(id); p.producers.delete(id); owners.delete(id); x.producer.close(); counts.producers++; }
  for (const p of ps) for (const id of [...p.transports.keys()]) closeTransport(room, p, id, counts);
  broadcast(room, { type: 'room_closed', reason });
  for (const p of ps) { clearTimeout(p.graceTimer); for (const ws of p.sockets) ws.close(1000, 'room closed'); }
  room.participants.clear();
  room.router?.close();
  rooms.delete(room.callId);
  log(`room ${room.callId} closed (${reason})`, JSON.stringify(counts));
  return counts;
}

// ---------------------------------------------------------------- auth
function auth(req, url) {
  const h = req.headers.authorization;
  const token = h && /^Bearer /i.test(h) ? h.slice(7) : url.searchParams.get('token');
  if (!token) throw new HttpError(401, 'UNAUTHORIZED', 'missing token');
  try {
    return verifyJwt(token, JWT_SECRET);
  } catch (e) {
    throw new HttpError(401, 'UNAUTHORIZED', e.message);
  }
}
function mayJoin(claims, callId) {
  if (claims.callId !== callId) throw new HttpError(403, 'FORBIDDEN', `token is not for call ${callId}`);
}
function mayRead(claims, callId) {
  if (claims.role !== 'service') mayJoin(claims, callId);
}
function own(id, kind, claims) {
  const o = owners.get(id);
  if (!o || o.kind !== kind) throw new HttpError(404, `${kind.toUpperCase()}_NOT_FOUND`, `no ${kind} ${id}`);
  if (o.p.userId !== claims.sub || o.room.callId !== claims.callId) throw new HttpError(403, 'FORBIDDEN', `not your ${kind}`);
  return o;
}
function need(body, field, type = 'string') {
  if (!body || typeof body[field] !== type) throw new HttpError(400, 'INVALID_REQUEST', `body.${field} must be a ${type}`);
  return body[field];
}

// ---------------------------------------------------------------- routes
const routes = [];
const route = (method, pattern, fn) => routes.push({ method, re: new RegExp(`^${pattern}$`), fn });

route('GET', '/healthz', async () => [200, { ok: true }]);

route('POST', '/dev/token', async ({ body }) => {
  if (!DEV) throw new HttpError(404, 'NOT_FOUND', 'dev only');
  const claims = { sub: need(body, 'userId') };
  if (body.role === 'service') claims.role = 'service';
  else claims.callId = need(body, 'callId');
  return [200, { token: signJwt(claims, JWT_SECRET) }];
});

route('GET', '/dev/workers/dump', async ({ claims }) => {
  if (!DEV) throw new HttpError(404, 'NOT_FOUND', 'dev only');
  if (claims().role !== 'service') throw new HttpError(403, 'FORBIDDEN', 'service token required');
  return [200, { workers: [{ pid: worker.pid, dump: await worker.dump() }] }];
});

route('GET', '/rtc/capabilities', async ({ url, claims }) => {
  const c = claims();
  const callId = url.searchParams.get('callId');
  if (!callId) throw new HttpError(400, 'INVALID_REQUEST', 'querystring.callId is required');
  mayJoin(c, callId);
  const room = await getOrCreateRoom(callId);
  await serialize(room, () => join(room, c.sub));
  return [200, { routerRtpCapabilities: room.router.rtpCapabilities }];
});

route('POST', '/rtc/transports', async ({ body, claims }) => {
  const c = claims();
  const callId = need(body, 'callId');
  const direction = need(body, 'direction');
  if (direction !== 'send' && direction !== 'recv') throw new HttpError(400, 'INVALID_REQUEST', 'body.direction must be send or recv');
  mayJoin(c, callId);
  const room = findRoom(callId);
  return serialize(room, async () => {
    const p = join(room, c.sub);
    for (const t of p.transports.values()) {
      if (t.direction !== direction) continue;
      if (!t.connected) return [201, { transport: describeTransport(t.transport), reused: true }];
      closeTransport(room, p, t.transport.id); // a reconnect: the old one and all on it go
    }
    const transport = await room.router.createWebRtcTransport({
      listenInfos: [listen('udp'), listen('tcp')], enableUdp: true, enableTcp: true, preferUdp: true,
      appData: { userId: c.sub, direction },
    });
    const t = { transport, direction, connected: false };
    p.transports.set(transport.id, t);
    owners.set(transport.id, { room, p, kind: 'transport' });
    transport.on('dtlsstatechange', (s) => {
      if (s === 'failed' || s === 'closed') serialize(room, () => closeTransport(room, p, transport.id));
    });
    return [201, { transport: describeTransport(transport), reused: false }];
  });
});
const describeTransport = (t) => ({ id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters });

route('POST', '/rtc/transports/([^/]+)/connect', async ({ m, body, claims }) => {
  const o = own(m[1], 'transport', claims());
  const dtlsParameters = need(body, 'dtlsParameters', 'object');
  return serialize(o.room, async () => {
    const t = o.p.transports.get(m[1]);
    if (!t) throw new HttpError(404, 'TRANSPORT_NOT_FOUND', 'transport closed');
    await t.transport.connect({ dtlsParameters });
    t.connected = true;
    return [200, { connected: true }];
  });
});

route('POST', '/rtc/producers', async ({ body, claims }) => {
  const c = claims();
  const callId = need(body, 'callId');
  const transportId = need(body, 'transportId');
  const kind = need(body, 'kind');
  const rtpParameters = need(body, 'rtpParameters', 'object');
  mayJoin(c, callId);
  const room = findRoom(callId);
  const o = own(transportId, 'transport', c);
  return serialize(room, async () => {
    let producer;
    try {
      producer = await o.p.transports.get(transportId).transport.produce({ kind, rtpParameters, appData: body.appData ?? {} });
    } catch (e) {
      throw new HttpError(422, 'UNSUPPORTED_RTP_PARAMETERS', e.message);
    }
    const x = { producer, kind, transportId, flowing: false };
    o.p.producers.set(producer.id, x);
    owners.set(producer.id, { room, p: o.p, kind: 'producer' });
    producer.once('score', () => { x.flowing = true; checkCallConnected(room); }); // first RTP packet
    broadcast(room, { type: 'new_producer', producerId: producer.id, userId: c.sub, kind }, c.sub);
    return [201, { producerId: producer.id }];
  });
});

route('POST', '/rtc/consumers', async ({ body, claims }) => {
  const c = claims();
  const callId = need(body, 'callId');
  const transportId = need(body, 'transportId');
  const producerId = need(body, 'producerId');
  const rtpCapabilities = need(body, 'rtpCapabilities', 'object');
  mayJoin(c, callId);
  const room = findRoom(callId);
  const o = own(transportId, 'transport', c);
  return serialize(room, async () => {
    const po = owners.get(producerId);
    if (!po || po.kind !== 'producer' || po.room !== room) throw new HttpError(404, 'PRODUCER_NOT_FOUND', `no producer ${producerId}`);
    if (!room.router.canConsume({ producerId, rtpCapabilities })) throw new HttpError(422, 'CANNOT_CONSUME', 'cannot consume');
    const consumer = await o.p.transports.get(transportId).transport.consume({
      producerId, rtpCapabilities, paused: true, appData: { transportId },
    });
    o.p.consumers.set(consumer.id, consumer);
    owners.set(consumer.id, { room, p: o.p, kind: 'consumer' });
    consumer.on('producerclose', () => {
      o.p.consumers.delete(consumer.id);
      owners.delete(consumer.id);
      tell(o.p, { type: 'consumer_closed', consumerId: consumer.id, producerId });
    });
    return [201, {
      id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters,
      type: consumer.type, producerPaused: consumer.producerPaused,
    }];
  });
});

route('POST', '/rtc/consumers/([^/]+)/resume', async ({ m, claims }) => {
  const o = own(m[1], 'consumer', claims());
  return serialize(o.room, async () => {
    await o.p.consumers.get(m[1])?.resume();
    return [200, { resumed: true }];
  });
});

route('GET', '/rtc/rooms/([^/]+)', async ({ m, claims }) => {
  const callId = decodeURIComponent(m[1]);
  mayRead(claims(), callId);
  const room = findRoom(callId);
  return [200, {
    callId,
    connected: room.connected,
    participants: [...room.participants.values()].map((p) => ({
      userId: p.userId,
      producers: [...p.producers.values()].map((x) => ({ producerId: x.producer.id, kind: x.kind, paused: x.producer.paused })),
      transports: p.transports.size,
      consumers: p.consumers.size,
    })),
  }];
});

route('DELETE', '/rtc/rooms/([^/]+)/participants/me', async ({ m, claims }) => {
  const c = claims();
  const callId = decodeURIComponent(m[1]);
  mayJoin(c, callId);
  const room = findRoom(callId);
  return serialize(room, () => {
    const p = room.participants.get(c.sub);
    if (!p) throw new HttpError(404, 'PARTICIPANT_NOT_FOUND', 'not in this room');
    return [200, { left: true, released: removeParticipant(room, p, 'left') }];
  });
});

route('DELETE', '/rtc/rooms/([^/]+)/cleanup', async ({ m, claims }) => {
  const c = claims();
  const callId = decodeURIComponent(m[1]);
  mayRead(c, callId);
  const room = findRoom(callId);
  return serialize(room, () => {
    const released = closeRoom(room, 'cleanup');
    if (!released) throw new HttpError(404, 'ROOM_NOT_FOUND', `no room for call ${callId}`);
    return [200, { cleaned: true, released }];
  });
});

// ---------------------------------------------------------------- static demo page
const staticFiles = { '/': ['index.html', 'text/html; charset=utf-8'], '/demo.js': ['demo.js', 'text/javascript; charset=utf-8'] };

// ---------------------------------------------------------------- server
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (status, data, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(type === 'application/json' ? JSON.stringify(data) : data);
  };
  try {
    const file = req.method === 'GET' && staticFiles[url.pathname];
    if (file) return send(200, fs.readFileSync(path.join(DEMO_DIST, file[0])), file[1]);
    const r = routes.find((x) => x.method === req.method && x.re.test(url.pathname));
    if (!r) throw new HttpError(404, 'NOT_FOUND', `${req.method} ${url.pathname}`);
    const chunks = [];
    for await (const ch of req) chunks.push(ch);
    let body = {};
    if (chunks.length) {
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { throw new HttpError(400, 'INVALID_REQUEST', 'body is not JSON'); }
    }
    const [status, data] = await r.fn({ m: r.re.exec(url.pathname), url, body, claims: () => auth(req, url) });
    send(status, data);
  } catch (e) {
    const status = e.status ?? 500;
    if (status >= 500) log(`${req.method} ${url.pathname}`, e.stack);
    send(status, { error: e.code ?? 'INTERNAL', message: e.message });
  }
});

server.on('upgrade', (req, socket) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/rtc/events') return rejectUpgrade(socket, 404, 'Not Found');
  let c;
  let room;
  const callId = url.searchParams.get('callId');
  try {
    c = auth(req, url);
    mayJoin(c, callId);
    room = findRoom(callId);
  } catch (e) {
    return rejectUpgrade(socket, e.status ?? 400, e.code ?? 'Bad Request');
  }
  const ws = acceptWebSocket(req, socket);
  if (!ws) return;
  serialize(room, () => {
    if (rooms.get(callId) !== room) { ws.close(4404, 'room closed'); return; }
    const p = join(room, c.sub);
    clearTimeout(p.graceTimer);
    p.sockets.add(ws);
    ws.on('close', () => {
      p.sockets.delete(ws);
      if (p.sockets.size > 0 || room.participants.get(p.userId) !== p) return;
      p.graceTimer = setTimeout(() => serialize(room, () => {
        if (room.participants.get(p.userId) === p && p.sockets.size === 0) removeParticipant(room, p, 'disconnected');
      }), GRACE_MS);
    });
  });
});

server.listen(PORT, HOST, () => log(`stub controller on http://${HOST}:${server.address().port}/ (worker ${workerBin})`));

const shutdown = () => {
  for (const room of [...rooms.values()]) closeRoom(room, 'shutdown');
  server.closeAllConnections?.();
  server.close();
  worker.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
