// Rooms larger than one worker (issue 11 item 5): RTC_WORKERS=2 and a tiny
// RTC_MAX_CONSUMERS_PER_WORKER, so that participants of one room land on
// routers of both workers and producers are piped between them
// (router.pipeToRouter). Real RTP: every participant sends Opus-shaped RTP
// into a plain transport on its own router and receives through a plain
// transport towards a local socket, so "everyone receives everyone" is
// counted in packets per consumer SSRC.
//
// The worker binary is RTC_WORKER_BIN when set (mediasoup's own worker:
// RTC_WORKER_BIN=../build/mediasoup-worker/mediasoup-worker npm test), else
// build/sfu-worker. A binary that answers PipeTransport requests with "not
// implemented" (our worker until PipeTransport lands) keeps every room on one
// worker: the tests that need pipes are skipped with that message, and one
// test checks the fallback instead.
import dgram from 'node:dgram';
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { loadConfig } from '../src/config';
import {
  api, fakeDtls, join, openEvents, opusParameters, serviceToken, SECRET, sleep, startApp, transport, until, workerObjects,
  type EventClient, type Peer,
} from './helpers';
import { produceOpus, RtpSender } from './media-helpers';

const LIMIT = 2;
const workerEnv = (): Record<string, string> => (process.env.RTC_WORKER_BIN ? { RTC_WORKER_BIN: process.env.RTC_WORKER_BIN } : {});
const NO_PIPES = 'the worker binary answers PipeTransport requests with "not implemented": rooms stay on one worker '
  + '(run with RTC_WORKER_BIN=../build/mediasoup-worker/mediasoup-worker, or once PipeTransport lands in ours)';

/** One participant with real RTP both ways, on the router the room placed it on. */
interface Member {
  peer: Peer;
  userId: string;
  slot: number;
  send: types.PlainTransport;
  recv: types.PlainTransport;
  producerId: string;
  sender: RtpSender;
  sock: dgram.Socket;
  /** RTP packets received per SSRC. */
  got: Map<number, number>;
  /** producerId -> {consumerId, ssrc} of what it consumes. */
  consuming: Map<string, { id: string; ssrc: number }>;
  ev?: EventClient;
}

async function member(app: FastifyInstance, callId: string, userId: string, ev?: { base: string }): Promise<Member> {
  const peer = await join(app, callId, userId);
  let events: EventClient | undefined;
  if (ev) {
    events = await openEvents(ev.base, callId, peer.tok);
    await until(() => app.rooms.get(callId)!.events.has(userId), 3000, `${userId} online`);
  }
  // RTC-02 places the participant on a router of the room.
  await transport(app, peer, 'send');
  const room = app.rooms.get(callId)!;
  const rr = room.routers.of(userId)!;
  assert.ok(rr, `${userId} placed`);
  const p = room.participants.get(userId)!;
  const send = await rr.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true, appData: { userId } });
  p.addTransport({ transport: send as unknown as types.WebRtcTransport, direction: 'send', connected: true });
  const sock = dgram.createSocket('udp4');
  const got = new Map<number, number>();
  sock.on('message', (b) => {
    if (b.length < 12 || (b[1] >= 200 && b[1] <= 207)) return; // RTCP
    const ssrc = b.readUInt32BE(8);
    got.set(ssrc, (got.get(ssrc) ?? 0) + 1);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const recv = await rr.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false, appData: { userId } });
  await recv.connect({ ip: '127.0.0.1', port: sock.address().port });
  p.addTransport({ transport: recv as unknown as types.WebRtcTransport, direction: 'recv', connected: true });
  const { ssrc, producerId } = await produceOpus(app, peer, send.id);
  const sender = new RtpSender(send, ssrc);
  sender.start();
  return { peer, userId, slot: rr.slot, send, recv, producerId, sender, sock, got, consuming: new Map(), ev: events };
}

/** RTC-05 + resume: `who` receives `from`'s producer. */
async function consume(app: FastifyInstance, who: Member, from: Member): Promise<void> {
  const r = await api(app, 'POST', '/rtc/consumers', who.peer.tok, {
    callId: who.peer.callId, transportId: who.recv.id, producerId: from.producerId, rtpCapabilities: who.peer.rtpCapabilities,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal((await api(app, 'POST', `/rtc/consumers/${r.body.id}/resume`, who.peer.tok)).status, 200);
  who.consuming.set(from.producerId, { id: r.body.id, ssrc: r.body.rtpParameters.encodings[0].ssrc });
}

/** Every member receives RTP of every producer it consumes (at least `n` packets each, counted from now). */
async function everyoneHears(members: Member[], n = 25, ms = 5000): Promise<void> {
  const base = members.map((m) => new Map([...m.consuming.values()].map((c) => [c.ssrc, m.got.get(c.ssrc) ?? 0])));
  await until(() => members.every((m, i) => [...m.consuming.values()].every((c) => (m.got.get(c.ssrc) ?? 0) - base[i].get(c.ssrc)! >= n)),
    ms, `everyone receiving: ${members.map((m) => `${m.userId} ${JSON.stringify([...m.got])}`).join('; ')}`);
}

/** `gone`'s producer is no longer consumed by the others. */
function forget(members: Member[], gone: Member): void {
  for (const m of members) m.consuming.delete(gone.producerId);
}

function stop(members: Member[]): void {
  for (const m of members) {
    m.sender.close();
    m.sock.close();
    m.ev?.ws.close();
  }
}

/** transports / producers / consumers in one router (pipe objects included). */
async function routerObjects(router: types.Router) {
  const d = await router.dump();
  return { transports: d.transportIds.length, producers: d.mapProducerIdConsumerIds.length, consumers: d.mapConsumerIdProducerId.length,
    producerIds: d.mapProducerIdConsumerIds.map((x) => x.key) };
}

describe('RTC_MAX_CONSUMERS_PER_WORKER', () => {
  test('default 500; bad values are a start-up error naming the variable', () => {
    assert.equal(loadConfig({ JWT_SECRET: SECRET }).maxConsumersPerWorker, 500);
    assert.equal(loadConfig({ JWT_SECRET: SECRET, RTC_MAX_CONSUMERS_PER_WORKER: '2' }).maxConsumersPerWorker, 2);
    for (const bad of ['0', '-1', 'abc', '1.5', '1e3', '0x10', '1000001', ' 12x']) {
      assert.throws(() => loadConfig({ JWT_SECRET: SECRET, RTC_MAX_CONSUMERS_PER_WORKER: bad }),
        (err: Error) => err.message.startsWith('RTC_MAX_CONSUMERS_PER_WORKER must be an integer in [1, 1000000]'), bad);
    }
  });
});

describe('a room on two workers', () => {
  let app: FastifyInstance;
  let pipes = false;
  before(async () => {
    app = await startApp({ RTC_WORKERS: '2', RTC_MAX_CONSUMERS_PER_WORKER: String(LIMIT), ...workerEnv() });
    pipes = app.pool.pipeSupported;
  });
  after(() => app.close());
  const needPipes = (t: TestContext): boolean => {
    if (!pipes) t.skip(NO_PIPES);
    return pipes;
  };

  test('without PipeTransport in the worker binary every participant stays on the home router', async (t) => {
    if (pipes) {
      t.skip('the worker binary has PipeTransport');
      return;
    }
    const callId = 'mw-nopipe';
    const ms: Member[] = [];
    for (const u of ['alice', 'bob', 'carol']) {
      ms.push(await member(app, callId, u));
      for (const a of ms) for (const b of ms) if (a !== b && !a.consuming.has(b.producerId)) await consume(app, a, b);
    }
    assert.deepEqual(ms.map((m) => m.slot), [ms[0].slot, ms[0].slot, ms[0].slot]);
    assert.equal(app.rooms.get(callId)!.routers.live.length, 1);
    await everyoneHears(ms);
    stop(ms);
    const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.deepEqual(r.body, { cleaned: true, released: { transports: 9, producers: 3, consumers: 6, dataProducers: 0, dataConsumers: 0 } });
  });

  test('participants past the limit go to the other worker; everyone receives everyone; counts exact; leave and cleanup release every pipe', async (t) => {
    if (!needPipes(t)) return;
    const callId = 'mw-1';
    const svc = serviceToken();
    const a = await member(app, callId, 'alice');
    const b = await member(app, callId, 'bob');
    await consume(app, a, b);
    await consume(app, b, a);
    const room = app.rooms.get(callId)!;
    const home = room.routers.home!;
    assert.equal(home.consumers, LIMIT);
    // carol: the home router is at the limit -> a router on the other worker
    const c = await member(app, callId, 'carol');
    assert.equal(a.slot, b.slot);
    assert.notEqual(c.slot, a.slot);
    const extra = room.routers.of('carol')!;
    assert.notEqual(extra.worker, home.worker);
    // her audio is piped home at once (the level observer is there)
    assert.ok((await routerObjects(home.router)).producerIds.includes(c.producerId));
    for (const [x, y] of [[c, a], [c, b], [a, c], [b, c]] as const) await consume(app, x, y);
    // dave: both routers past the limit, no third worker: the one with fewer consumers (the extra: 2 + 1 pipe; home: 4 + 2 pipes)
    assert.deepEqual([home.consumers, extra.consumers], [6, 3]);
    const d = await member(app, callId, 'dave');
    assert.equal(d.slot, c.slot);
    for (const [x, y] of [[d, a], [d, b], [d, c], [a, d], [b, d], [c, d]] as const) await consume(app, x, y);
    const ms = [a, b, c, d];
    await everyoneHears(ms);

    // What the participants own is what the API counts (pipe objects are the room's, not theirs).
    const desc = await api(app, 'GET', `/rtc/rooms/${callId}`, svc);
    assert.equal(desc.status, 200);
    assert.deepEqual(desc.body.participants.map((p: any) => [p.userId, p.worker, p.transports, p.producers.length, p.consumers]),
      ms.map((m) => [m.userId, m.slot, 3, 1, 3]));
    const calls = await api(app, 'GET', '/rtc/calls', svc);
    const call = calls.body.calls.find((x: any) => x.callId === callId);
    assert.deepEqual([call.participants, call.producers, call.consumers], [ms.map((m) => m.userId), 4, 12]);
    // Each router: its participants' 6 transports + 1 pipe transport; its 2 producers + 2 piped in;
    // its participants' 6 consumers + 2 pipe consumers (its producers piped out).
    for (const rr of [home, extra]) {
      const o = await routerObjects(rr.router);
      assert.deepEqual([o.transports, o.producers, o.consumers], [7, 4, 8], `slot ${rr.slot}`);
    }
    assert.deepEqual([...app.pool.consumersBySlot()].sort(), [[home.slot, 8], [extra.slot, 8]].sort());
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const rr of [home, extra]) {
      assert.match(metrics, new RegExp(`^sfu_worker_consumers\\{worker="${rr.slot}"\\} 6$`, 'm'));
      assert.match(metrics, new RegExp(`^sfu_worker_rooms\\{worker="${rr.slot}"\\} 1$`, 'm'));
    }

    // Pause and resume of a producer reach the consumers of its pipes on the other router.
    const aliceOfCarol = room.participants.get('alice')!.consumers.get(a.consuming.get(c.producerId)!.id)!;
    assert.equal((await api(app, 'POST', `/rtc/producers/${c.producerId}/pause`, c.peer.tok)).status, 200);
    await until(() => aliceOfCarol.producerPaused, 3000, 'pause piped');
    assert.equal((await api(app, 'POST', `/rtc/producers/${c.producerId}/resume`, c.peer.tok)).status, 200);
    await until(() => !aliceOfCarol.producerPaused, 3000, 'resume piped');
    await everyoneHears(ms);

    // carol leaves: her producer's pipe home closes, the others' consumers of it close.
    const left = await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, c.peer.tok);
    assert.deepEqual(left.body, { left: true, released: { transports: 3, producers: 1, consumers: 3, dataProducers: 0, dataConsumers: 0 } });
    await until(() => [a, b, d].every((m) => room.participants.get(m.userId)!.consumers.size === 2), 3000, "carol's consumers closed");
    await until(async () => !(await routerObjects(home.router)).producerIds.includes(c.producerId), 3000, 'pipe of carol closed');
    assert.equal(extra.router.closed, false, 'dave is still there');
    forget(ms, c);
    await everyoneHears([a, b, d]);
    // dave leaves: the extra router has nobody left and closes, its pipe transports with it (on both workers).
    await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, d.peer.tok);
    await until(() => extra.router.closed, 2000, 'extra router closed');
    await until(async () => (await routerObjects(home.router)).transports === 6, 3000, 'pipe transport gone from home');
    const ho = await routerObjects(home.router);
    assert.deepEqual([ho.transports, ho.producers, ho.consumers], [6, 2, 2]);
    assert.equal((await extra.worker.dump()).routerIds.length, 0);
    assert.deepEqual(room.routers.live.map((r) => r.slot), [home.slot]);
    forget(ms, d);
    await everyoneHears([a, b]);

    stop(ms);
    const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, svc);
    assert.deepEqual(r.body, { cleaned: true, released: { transports: 6, producers: 2, consumers: 2, dataProducers: 0, dataConsumers: 0 } });
    assert.deepEqual(await workerObjects(app), { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
  });

  test('RTC-07 of a room on two workers counts every participant object once and closes both routers', async (t) => {
    if (!needPipes(t)) return;
    const callId = 'mw-2';
    const a = await member(app, callId, 'alice');
    const b = await member(app, callId, 'bob');
    await consume(app, a, b);
    await consume(app, b, a);
    const c = await member(app, callId, 'carol');
    for (const [x, y] of [[c, a], [c, b], [a, c], [b, c]] as const) await consume(app, x, y);
    assert.notEqual(c.slot, a.slot);
    await everyoneHears([a, b, c]);
    const room = app.rooms.get(callId)!;
    const routers = room.routers.live.map((r) => r.router);
    stop([a, b, c]);
    const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.deepEqual(r.body, { cleaned: true, released: { transports: 9, producers: 3, consumers: 6, dataProducers: 0, dataConsumers: 0 } });
    assert.ok(routers.every((x) => x.closed));
    assert.deepEqual(await workerObjects(app), { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
  });

  test('the extra worker dies: its participants get room_closed, the others go on; a rejoin lands on the respawned worker; the home worker dies: the room closes', async (t) => {
    if (!needPipes(t)) return;
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const callId = 'mw-3';
    const a = await member(app, callId, 'alice', { base });
    const b = await member(app, callId, 'bob', { base });
    await consume(app, a, b);
    await consume(app, b, a);
    const c = await member(app, callId, 'carol', { base });
    for (const [x, y] of [[c, a], [c, b], [a, c], [b, c]] as const) await consume(app, x, y);
    await everyoneHears([a, b, c]);
    const room = app.rooms.get(callId)!;
    const home = room.routers.home!;
    const extra = room.routers.of('carol')!;
    const extraPid = extra.worker.pid;
    // The level observer (home) hears carol's audio through its pipe: her volume reaches every socket.
    for (const m of [a, b, c]) {
      await m.ev!.waitFor((e) => e.type === 'volumes' && e.volumes.some((v: any) => v.producerId === c.producerId && v.userId === 'carol'), 5000);
    }

    process.kill(extraPid, 'SIGKILL');
    assert.deepEqual(await c.ev!.waitFor((e) => e.type === 'room_closed', 3000), { type: 'room_closed', callId, reason: 'worker_died' });
    await c.ev!.closed;
    assert.deepEqual(await a.ev!.waitFor((e) => e.type === 'participant_left'), { type: 'participant_left', userId: 'carol', reason: 'worker_died' });
    await a.ev!.waitFor((e) => e.type === 'producer_closed' && e.producerId === c.producerId);
    assert.equal(room.open, true);
    assert.deepEqual([...room.participants.keys()], ['alice', 'bob']);
    await until(() => [a, b].every((m) => room.participants.get(m.userId)!.consumers.size === 1), 3000, "consumers of carol's producer closed");
    await until(async () => (await routerObjects(home.router)).transports === 6, 3000, 'pipe transport gone from home');
    assert.equal(a.ev!.events.some((e) => e.type === 'room_closed'), false);
    forget([a, b], c);
    await everyoneHears([a, b]);
    c.sender.close();
    c.sock.close();

    // carol again, once the worker is back: the home router is still at its limit -> the respawned worker.
    await until(() => app.pool.workers.length === 2 && !app.pool.workers.some((w) => w.pid === extraPid), 5000, 'replacement worker');
    const c2 = await member(app, callId, 'carol', { base });
    assert.equal(c2.slot, extra.slot);
    assert.notEqual(room.routers.of('carol')!.worker.pid, extraPid);
    for (const [x, y] of [[c2, a], [c2, b], [a, c2], [b, c2]] as const) await consume(app, x, y);
    await everyoneHears([a, b, c2]);
    const extra2 = room.routers.of('carol')!;

    // The home worker dies: the room closes for everyone, the extra router with it.
    const homePid = home.worker.pid;
    process.kill(homePid, 'SIGKILL');
    for (const m of [a, b, c2]) {
      assert.deepEqual(await m.ev!.waitFor((e) => e.type === 'room_closed', 3000), { type: 'room_closed', callId, reason: 'worker_died' });
    }
    assert.equal(app.rooms.get(callId), undefined);
    assert.equal(extra2.router.closed, true);
    assert.equal((await extra2.worker.dump()).routerIds.length, 0);
    stop([a, b, c2]);
    await until(() => app.pool.workers.length === 2 && !app.pool.workers.some((w) => w.pid === homePid), 5000, 'replacement worker');
  });
});

describe('a room on two workers: lost socket and reconnect', () => {
  let app: FastifyInstance;
  let base: string;
  let pipes = false;
  before(async () => {
    app = await startApp({ RTC_WORKERS: '2', RTC_MAX_CONSUMERS_PER_WORKER: String(LIMIT), RTC_DISCONNECT_GRACE_MS: '300', ...workerEnv() });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    pipes = app.pool.pipeSupported;
  });
  after(() => app.close());

  test('a reconnect (RTC-02 after connect) on the extra router closes its piped producer; a lost socket releases the extra router', async (t) => {
    if (!pipes) {
      t.skip(NO_PIPES);
      return;
    }
    const callId = 'mw-4';
    const a = await member(app, callId, 'alice', { base });
    const b = await member(app, callId, 'bob', { base });
    await consume(app, a, b);
    await consume(app, b, a);
    // carol on the extra router with a real RTC-02..04: send transport, connect, produce
    const carol = await join(app, callId, 'carol');
    const cev = await openEvents(base, callId, carol.tok);
    const room = app.rooms.get(callId)!;
    await until(() => room.events.has('carol'), 3000, 'carol online');
    const send = await transport(app, carol, 'send');
    const extra = room.routers.of('carol')!;
    assert.notEqual(extra.slot, room.routers.home!.slot);
    assert.equal((await api(app, 'POST', `/rtc/transports/${send}/connect`, carol.tok, { dtlsParameters: fakeDtls() })).status, 200);
    const pr = await api(app, 'POST', '/rtc/producers', carol.tok, { callId, transportId: send, kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(pr.status, 201);
    const carolProducer = pr.body.producerId as string;
    const cons = await api(app, 'POST', '/rtc/consumers', a.peer.tok,
      { callId, transportId: a.recv.id, producerId: carolProducer, rtpCapabilities: a.peer.rtpCapabilities });
    assert.equal(cons.status, 201);
    const home = room.routers.home!;
    assert.ok((await routerObjects(home.router)).producerIds.includes(carolProducer));

    // Reconnect: the old transport, its producer and that producer's pipe go; the new transport is on the same router.
    const again = await api(app, 'POST', '/rtc/transports', carol.tok, { callId, direction: 'send' });
    assert.equal(again.status, 201);
    assert.equal(again.body.reused, false);
    await a.ev!.waitFor((e) => e.type === 'consumer_closed' && e.consumerId === cons.body.id);
    await until(async () => !(await routerObjects(home.router)).producerIds.includes(carolProducer), 3000, 'piped producer closed');
    assert.ok((await extra.router.dump()).transportIds.includes(again.body.transport.id));
    assert.equal(room.routers.of('carol'), extra);

    // carol's socket drops for good: after the grace period she is cleaned up, and the extra router with her.
    cev.ws.terminate();
    assert.deepEqual(await a.ev!.waitFor((e) => e.type === 'participant_left'), { type: 'participant_left', userId: 'carol', reason: 'disconnected' });
    await until(() => extra.router.closed, 2000, 'extra router closed');
    await until(async () => (await routerObjects(home.router)).transports === 6, 3000, 'pipe transport gone from home');
    assert.equal((await extra.worker.dump()).routerIds.length, 0);
    await everyoneHears([a, b]);
    stop([a, b]);
    await sleep(50);
    await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.deepEqual(await workerObjects(app), { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
  });
});

describe('a room past its limit goes to the least loaded other worker', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp({ RTC_WORKERS: '3', RTC_MAX_CONSUMERS_PER_WORKER: String(LIMIT), ...workerEnv() });
  });
  after(() => app.close());

  /** REST only: RTC-01, a send transport and an Opus producer (no RTP), a recv transport. */
  async function restMember(callId: string, userId: string) {
    const peer = await join(app, callId, userId);
    const send = await transport(app, peer, 'send');
    const pr = await api(app, 'POST', '/rtc/producers', peer.tok, { callId, transportId: send, kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(pr.status, 201);
    return { peer, producerId: pr.body.producerId as string, recv: await transport(app, peer, 'recv') };
  }
  async function restConsume(who: Awaited<ReturnType<typeof restMember>>, from: Awaited<ReturnType<typeof restMember>>) {
    const r = await api(app, 'POST', '/rtc/consumers', who.peer.tok,
      { callId: who.peer.callId, transportId: who.recv, producerId: from.producerId, rtpCapabilities: who.peer.rtpCapabilities });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }

  test('three workers: the overflow goes to the worker with the fewest consumers', async (t) => {
    if (!app.pool.pipeSupported) {
      t.skip(NO_PIPES);
      return;
    }
    // call 1 on one worker, call 2 (4 consumers) on another: call 1's overflow goes to the third.
    const a = await restMember('mw-5a', 'alice');
    const b = await restMember('mw-5a', 'bob');
    await restConsume(a, b);
    await restConsume(b, a);
    const x = await restMember('mw-5b', 'xavier');
    const y = await restMember('mw-5b', 'yves');
    const z = await restMember('mw-5b', 'zoe');
    for (const [p, q] of [[x, y], [y, x], [z, x], [z, y]] as const) await restConsume(p, q);
    const r1 = app.rooms.get('mw-5a')!;
    const r2 = app.rooms.get('mw-5b')!;
    const slot1 = r1.routers.home!.slot;
    const slot2 = r2.routers.home!.slot;
    assert.notEqual(slot1, slot2);
    assert.equal(r2.routers.live.length, 1, 'call 2 stays on one worker: each participant found its router under the limit');
    // call 3 (one participant, no consumer) on the third worker: the two other workers have one router each,
    // the one of call 2 with 4 consumers, this one with none.
    await join(app, 'mw-5c', 'walter');
    const slot3 = app.rooms.get('mw-5c')!.routers.home!.slot;
    assert.deepEqual([slot1, slot2, slot3].sort(), [0, 1, 2]);
    const c = await restMember('mw-5a', 'carol');
    assert.equal(r1.routers.of('carol')!.slot, slot3, 'the least loaded (by consumers) of the other workers');
    await restConsume(c, a);
    await restConsume(a, c);
    for (const id of ['mw-5a', 'mw-5b', 'mw-5c']) {
      assert.equal((await api(app, 'DELETE', `/rtc/rooms/${id}/cleanup`, serviceToken())).status, 200);
    }
    assert.deepEqual(await workerObjects(app), { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
  });
});
