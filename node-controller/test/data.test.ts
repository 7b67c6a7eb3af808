// Data channels: POST /rtc/data-producers and /rtc/data-consumers against a
// real worker (every error code, the events, cleanup counts), and messages
// from one participant's data producer to another's data consumer through
// the worker over SCTP: each side is werift-sctp (an independent SCTP stack)
// over UDP to a PlainTransport with SCTP attached as the participant's
// transport (what mediasoup's own test-werift-sctp does), the data producer
// and consumer made through the routes as a browser's would be.
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { SCTP, WEBRTC_PPID, createUdpTransport } from 'werift-sctp';
import {
  api, fakeDtls, join, openEvents, serviceToken, startApp, until, userToken, workerObjects, type EventClient, type Peer,
} from './helpers';

let app: FastifyInstance;
let base: string;
before(async () => {
  app = await startApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

const sctpCapabilities = { numStreams: { OS: 1024, MIS: 1024 } };

async function sctpTransport(peer: Peer, direction: 'send' | 'recv'): Promise<any> {
  const r = await api(app, 'POST', '/rtc/transports', peer.tok, { callId: peer.callId, direction, sctpCapabilities });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.transport;
}

async function dataProducer(peer: Peer, transportId: string, streamId: number, label = 'chat'): Promise<string> {
  const r = await api(app, 'POST', '/rtc/data-producers', peer.tok,
    { callId: peer.callId, transportId, sctpStreamParameters: { streamId, ordered: true }, label, protocol: 'text' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.dataProducerId;
}

describe('POST /rtc/data-producers, POST /rtc/data-consumers', () => {
  const callId = 'data-1';
  let alice: Peer;
  let bob: Peer;
  let bobEvents: EventClient;
  let aliceEvents: EventClient;
  let send: any;
  let recv: any;
  let dataProducerId: string;

  before(async () => {
    alice = await join(app, callId, 'alice');
    bob = await join(app, callId, 'bob');
    aliceEvents = await openEvents(base, callId, alice.tok);
    bobEvents = await openEvents(base, callId, bob.tok);
    await until(() => app.rooms.get(callId)!.events.has('bob'), 2000, 'bob online');
  });
  after(() => { aliceEvents.ws.close(); bobEvents.ws.close(); });

  test('RTC-02 answers sctpParameters (with or without sctpCapabilities)', async () => {
    send = await sctpTransport(alice, 'send');
    const r = await api(app, 'POST', '/rtc/transports', bob.tok, { callId, direction: 'recv' });
    recv = r.body.transport;
    for (const t of [send, recv]) {
      assert.equal(t.sctpParameters.port, 5000);
      assert.equal(t.sctpParameters.maxMessageSize, 262144);
      assert.ok(t.sctpParameters.OS > 0 && t.sctpParameters.MIS > 0);
    }
  });

  test('201 {dataProducerId}; the others hear new_data_producer (not the producer itself)', async () => {
    dataProducerId = await dataProducer(alice, send.id, 1);
    const e = await bobEvents.waitFor((x) => x.type === 'new_data_producer');
    assert.deepEqual(e, { type: 'new_data_producer', dataProducerId, userId: 'alice', label: 'chat', protocol: 'text' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(aliceEvents.events.some((x) => x.type === 'new_data_producer'), false);
    const room = await api(app, 'GET', `/rtc/rooms/${callId}`, serviceToken());
    const a = room.body.participants.find((p: any) => p.userId === 'alice');
    assert.deepEqual(a.dataProducers, [{ id: dataProducerId, label: 'chat', protocol: 'text' }]);
  });

  test('data producer errors: bad bodies 400, unknown ids 404, another call or participant 403, no SCTP or recv transport 400, stream in use 422', async () => {
    const post = (tok: string, body: unknown) => api(app, 'POST', '/rtc/data-producers', tok, body);
    const ok = { callId, transportId: send.id, sctpStreamParameters: { streamId: 2 } };
    for (const [body, field] of [
      [{ callId, transportId: send.id }, /sctpStreamParameters/],
      [{ ...ok, sctpStreamParameters: { streamId: 65535 } }, /streamId/],
      [{ ...ok, sctpStreamParameters: { streamId: -1 } }, /streamId/],
      [{ ...ok, sctpStreamParameters: { streamId: 'x' } }, /streamId/],
      [{ ...ok, sctpStreamParameters: { streamId: 2, ordered: 'yes' } }, /ordered/],
      [{ ...ok, sctpStreamParameters: { streamId: 2, maxRetransmits: 1, maxPacketLifeTime: 100 } }, /exclusive/],
      [{ ...ok, label: 'x'.repeat(1025) }, /label/],
      [{ ...ok, transportId: '' }, /transportId/],
      [{ ...ok, callId: 'bad call id' }, /callId/],
    ] as const) {
      const r = await post(alice.tok, body);
      assert.equal(r.status, 400, JSON.stringify([body, r.body]));
      assert.equal(r.body.error, 'INVALID_REQUEST');
      assert.match(r.body.message, field);
    }
    const unknown = await post(alice.tok, { ...ok, transportId: 'nope' });
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'TRANSPORT_NOT_FOUND']);
    const noRoom = await post(userToken('data-none', 'alice'), { ...ok, callId: 'data-none' });
    assert.deepEqual([noRoom.status, noRoom.body.error], [404, 'ROOM_NOT_FOUND']);
    const otherCall = await post(userToken('data-other', 'alice'), ok);
    assert.deepEqual([otherCall.status, otherCall.body.error], [403, 'FORBIDDEN']);
    const service = await post(serviceToken(), ok);
    assert.deepEqual([service.status, service.body.error], [403, 'FORBIDDEN']);
    const unauth = await api(app, 'POST', '/rtc/data-producers', undefined, ok);
    assert.equal(unauth.status, 401);
    const someoneElses = await post(bob.tok, ok);
    assert.deepEqual([someoneElses.status, someoneElses.body.error], [403, 'FORBIDDEN']);
    const onRecv = await post(bob.tok, { ...ok, transportId: recv.id });
    assert.deepEqual([onRecv.status, onRecv.body.error], [400, 'INVALID_REQUEST']);
    assert.match(onRecv.body.message, /not a send transport/);
    // A transport without SCTP (RTC-02's always have it: a PlainTransport without it stands in).
    const carol = await join(app, callId, 'carol');
    const room = app.rooms.get(callId)!;
    const plain = await room.router!.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, appData: { userId: 'carol' } });
    room.participants.get('carol')!.addTransport({ transport: plain as unknown as types.WebRtcTransport, direction: 'send', connected: false });
    const noSctp = await post(carol.tok, { ...ok, transportId: plain.id });
    assert.deepEqual([noSctp.status, noSctp.body.error], [400, 'INVALID_REQUEST']);
    assert.match(noSctp.body.message, /no SCTP/);
    // Stream 1 is alice's chat already: the worker refuses it.
    const taken = await post(alice.tok, { ...ok, sctpStreamParameters: { streamId: 1 } });
    assert.deepEqual([taken.status, taken.body.error], [422, 'UNSUPPORTED_SCTP_PARAMETERS'], JSON.stringify(taken.body));
    await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, carol.tok);
    assert.equal(app.rooms.get(callId)!.participants.get('alice')!.dataProducers.size, 1);
  });

  test('data consumer: 201 with its own stream; errors 400/403/404', async () => {
    const post = (tok: string, body: unknown) => api(app, 'POST', '/rtc/data-consumers', tok, body);
    const ok = { callId, transportId: recv.id, dataProducerId };
    for (const [body, field] of [
      [{ callId, transportId: recv.id }, /dataProducerId/],
      [{ ...ok, dataProducerId: '' }, /dataProducerId/],
      [{ callId, dataProducerId }, /transportId/],
    ] as const) {
      const r = await post(bob.tok, body);
      assert.equal(r.status, 400, JSON.stringify([body, r.body]));
      assert.match(r.body.message, field);
    }
    const unknown = await post(bob.tok, { ...ok, dataProducerId: 'nope' });
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'DATA_PRODUCER_NOT_FOUND']);
    const unknownT = await post(bob.tok, { ...ok, transportId: 'nope' });
    assert.deepEqual([unknownT.status, unknownT.body.error], [404, 'TRANSPORT_NOT_FOUND']);
    const otherCall = await post(userToken('data-other', 'bob'), ok);
    assert.deepEqual([otherCall.status, otherCall.body.error], [403, 'FORBIDDEN']);
    const someoneElses = await post(alice.tok, ok);
    assert.deepEqual([someoneElses.status, someoneElses.body.error], [403, 'FORBIDDEN']);
    const onSend = await post(alice.tok, { ...ok, transportId: send.id });
    assert.deepEqual([onSend.status, onSend.body.error], [400, 'INVALID_REQUEST']);
    assert.match(onSend.body.message, /not a recv transport/);

    const r = await post(bob.tok, ok);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.dataProducerId, dataProducerId);
    assert.equal(r.body.label, 'chat');
    assert.equal(r.body.protocol, 'text');
    assert.equal(r.body.userId, 'alice');
    assert.equal(typeof r.body.sctpStreamParameters.streamId, 'number');
    assert.equal(r.body.sctpStreamParameters.ordered, true);
    const room = await api(app, 'GET', `/rtc/rooms/${callId}`, serviceToken());
    assert.equal(room.body.participants.find((p: any) => p.userId === 'bob').dataConsumers, 1);
    const calls = await api(app, 'GET', '/rtc/calls', serviceToken());
    const c = calls.body.calls.find((x: any) => x.callId === callId);
    assert.deepEqual([c.dataProducers, c.dataConsumers], [1, 1]);
  });

  test('closing the data producer closes its data consumers: data_producer_closed to all, data_consumer_closed to the owner', async () => {
    const otherDel = await api(app, 'DELETE', `/rtc/data-producers/${dataProducerId}`, bob.tok);
    assert.deepEqual([otherDel.status, otherDel.body.error], [403, 'FORBIDDEN']);
    const missing = await api(app, 'DELETE', '/rtc/data-consumers/nope', bob.tok);
    assert.deepEqual([missing.status, missing.body.error], [404, 'DATA_CONSUMER_NOT_FOUND']);
    const del = await api(app, 'DELETE', `/rtc/data-producers/${dataProducerId}`, alice.tok);
    assert.deepEqual(del, { status: 200, body: { closed: true } });
    const closed = await bobEvents.waitFor((x) => x.type === 'data_producer_closed');
    assert.deepEqual(closed, { type: 'data_producer_closed', dataProducerId, userId: 'alice' });
    const cc = await bobEvents.waitFor((x) => x.type === 'data_consumer_closed');
    assert.equal(cc.dataProducerId, dataProducerId);
    await until(() => app.rooms.get(callId)!.participants.get('bob')!.dataConsumers.size === 0, 2000, 'data consumer gone');
    const again = await api(app, 'DELETE', `/rtc/data-producers/${dataProducerId}`, alice.tok);
    assert.deepEqual([again.status, again.body.error], [404, 'DATA_PRODUCER_NOT_FOUND']);
  });

  test('a reconnect (RTC-02 again after RTC-03) closes the old transport\'s data producers; peers are told', async () => {
    const id2 = await dataProducer(alice, send.id, 3);
    const c = await api(app, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: recv.id, dataProducerId: id2 });
    assert.equal(c.status, 201);
    const conn = await api(app, 'POST', `/rtc/transports/${send.id}/connect`, alice.tok, { dtlsParameters: fakeDtls() });
    assert.equal(conn.status, 200);
    const again = await api(app, 'POST', '/rtc/transports', alice.tok, { callId, direction: 'send', sctpCapabilities });
    assert.equal(again.body.reused, false);
    await bobEvents.waitFor((x) => x.type === 'data_producer_closed' && x.dataProducerId === id2);
    await bobEvents.waitFor((x) => x.type === 'data_consumer_closed' && x.dataProducerId === id2);
    const p = app.rooms.get(callId)!.participants;
    assert.equal(p.get('alice')!.dataProducers.size, 0);
    assert.equal(p.get('bob')!.dataConsumers.size, 0);
    send = again.body.transport;
  });

  test('RTC-07 counts data producers and data consumers; nothing left in the worker', async () => {
    const a = await dataProducer(alice, send.id, 1);
    const b = await dataProducer(bob, (await sctpTransport(bob, 'send')).id, 1);
    const recvA = await sctpTransport(alice, 'recv');
    assert.equal((await api(app, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: recv.id, dataProducerId: a })).status, 201);
    assert.equal((await api(app, 'POST', '/rtc/data-consumers', alice.tok, { callId, transportId: recvA.id, dataProducerId: b })).status, 201);
    const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.deepEqual(r.body, { cleaned: true, released: { transports: 4, producers: 0, consumers: 0, dataProducers: 2, dataConsumers: 2 } });
    const objs = await workerObjects(app);
    assert.equal(objs.handlers, 0, JSON.stringify(objs));
  });
});

test('leave releases the leaver\'s data objects (counted) and closes the peers\' data consumers of them', async () => {
  const callId = 'data-2';
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const send = await sctpTransport(alice, 'send');
  const recv = await sctpTransport(bob, 'recv');
  const id = await dataProducer(alice, send.id, 7);
  assert.equal((await api(app, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: recv.id, dataProducerId: id })).status, 201);
  const left = await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, alice.tok);
  assert.deepEqual(left.body, { left: true, released: { transports: 1, producers: 0, consumers: 0, dataProducers: 1, dataConsumers: 0 } });
  await until(() => app.rooms.get(callId)!.participants.get('bob')!.dataConsumers.size === 0, 2000, "bob's data consumer closed");
  const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
  assert.deepEqual(r.body.released, { transports: 1, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 });
});

/** A participant's transport as a PlainTransport with SCTP, and werift-sctp connected to it over UDP. */
async function sctpPeer(callId: string, userId: string, direction: 'send' | 'recv', on: FastifyInstance = app) {
  const room = on.rooms.get(callId)!;
  // The participant's router (placed by RTC-02), else the home one.
  const router = room.routers.routerFor(userId)!.router;
  const plain = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true, enableSctp: true, appData: { userId, direction },
  });
  room.participants.get(userId)!.addTransport({ transport: plain as unknown as types.WebRtcTransport, direction, connected: true });
  const socket = dgram.createSocket('udp4');
  const sctp = SCTP.client(createUdpTransport(socket, { port: plain.tuple.localPort, address: plain.tuple.localAddress }));
  const connected = new Promise<void>((resolve, reject) => {
    if (plain.sctpState === 'connected') resolve();
    plain.on('sctpstatechange', (s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed') reject(new Error(`SCTP ${s}`));
    });
  });
  await Promise.race([
    Promise.all([sctp.start(5000), sctp.stateChanged.connected.asPromise(), connected]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('SCTP connection timeout')), 5000)),
  ]);
  return { plain, sctp, stop: async () => { await sctp.stop(); sctp.transport.close(); } };
}

test("a message on A's data producer reaches B's data consumer through the worker (text and binary, in order)", async () => {
  const callId = 'data-3';
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const a = await sctpPeer(callId, 'alice', 'send');
  const b = await sctpPeer(callId, 'bob', 'recv');
  try {
    const dataProducerId = await dataProducer(alice, a.plain.id, 1);
    const c = await api(app, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: b.plain.id, dataProducerId });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const streamId = c.body.sctpStreamParameters.streamId;
    const got: Array<{ sid: number; ppid: number; data: string }> = [];
    b.sctp.onReceive.subscribe((sid, ppid, data) => { got.push({ sid, ppid, data: data.toString('utf8') }); });
    const sent = ['hello bob', 'second 😀', '{"type":"chat","text":"third"}'];
    for (const m of sent) await a.sctp.send(1, WEBRTC_PPID.STRING, Buffer.from(m));
    await a.sctp.send(1, WEBRTC_PPID.BINARY, Buffer.from([1, 2, 3]));
    await until(() => got.length === 4, 5000, `4 messages at bob (got ${got.length})`);
    assert.deepEqual(got.slice(0, 3), sent.map((data) => ({ sid: streamId, ppid: WEBRTC_PPID.STRING, data })));
    assert.equal(got[3].ppid, WEBRTC_PPID.BINARY);
    assert.equal(got[3].sid, streamId);
    const dc = app.rooms.get(callId)!.participants.get('bob')!.dataConsumers.get(c.body.id)!;
    const stats = await dc.getStats();
    assert.equal(stats[0].messagesSent, 4);
    // The operators' view counts them too.
    const rs = await api(app, 'GET', `/rtc/rooms/${callId}/stats`, serviceToken());
    assert.equal(rs.status, 200, JSON.stringify(rs.body));
    const bytes = Buffer.byteLength(sent.join('')) + 3;
    const of = (u: string) => rs.body.participants.find((x: any) => x.userId === u).dataChannels;
    assert.deepEqual(of('alice'), [{ id: dataProducerId, direction: 'send', dataProducerId, label: 'chat', protocol: 'text', messages: 4, bytes }]);
    assert.deepEqual(of('bob'), [{ id: c.body.id, direction: 'recv', dataProducerId, fromUserId: 'alice', label: 'chat', protocol: 'text',
      messages: 4, bytes, bufferedAmount: 0 }]);
  } finally {
    await a.stop();
    await b.stop();
  }
  const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
  assert.deepEqual(r.body.released, { transports: 2, producers: 0, consumers: 0, dataProducers: 1, dataConsumers: 1 });
});

test('a room on two workers: a data producer is piped to the consumer\'s router (SCTP over the pipe) and its messages arrive', async (t) => {
  const app2 = await startApp({ RTC_WORKERS: '2', RTC_MAX_CONSUMERS_PER_WORKER: '1' });
  t.after(() => app2.close());
  if (!app2.pool.pipeSupported) { t.skip('the worker binary has no PipeTransport'); return; }
  const callId = 'data-mw';
  const alice = await join(app2, callId, 'alice');
  const bob = await join(app2, callId, 'bob');
  const room = app2.rooms.get(callId)!;
  // Alice on the home router; then the home router counts as full (the
  // limit is on consumers), so bob's RTC-02 puts him on the other worker.
  assert.equal((await api(app2, 'POST', '/rtc/transports', alice.tok, { callId, direction: 'send', sctpCapabilities })).status, 201);
  room.routers.home!.consumers = 1;
  assert.equal((await api(app2, 'POST', '/rtc/transports', bob.tok, { callId, direction: 'recv', sctpCapabilities })).status, 201);
  room.routers.home!.consumers = 0;
  const ra = room.routers.of('alice')!;
  const rb = room.routers.of('bob')!;
  assert.notEqual(ra.slot, rb.slot, 'alice and bob on different workers');
  const a = await sctpPeer(callId, 'alice', 'send', app2);
  const b = await sctpPeer(callId, 'bob', 'recv', app2);
  try {
    const r = await api(app2, 'POST', '/rtc/data-producers', alice.tok,
      { callId, transportId: a.plain.id, sctpStreamParameters: { streamId: 1, ordered: true }, label: 'chat' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const c = await api(app2, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: b.plain.id, dataProducerId: r.body.dataProducerId });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const got: string[] = [];
    b.sctp.onReceive.subscribe((_sid, _ppid, data) => { got.push(data.toString('utf8')); });
    // The pipe's SCTP association may still be connecting: send until the first arrives.
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) {
      await a.sctp.send(1, WEBRTC_PPID.STRING, Buffer.from('ping'));
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(got.length > 0, 'a message crossed the pipe');
    const before = got.length;
    for (const m of ['one', 'two', 'three']) await a.sctp.send(1, WEBRTC_PPID.STRING, Buffer.from(m));
    await until(() => got.length >= before + 3, 5000, 'three more messages');
    assert.deepEqual(got.slice(before, before + 3), ['one', 'two', 'three']);
    // Alice's data producer closing closes bob's data consumer of its pipe.
    assert.equal((await api(app2, 'DELETE', `/rtc/data-producers/${r.body.dataProducerId}`, alice.tok)).status, 200);
    await until(() => room.participants.get('bob')!.dataConsumers.size === 0, 3000, "bob's data consumer closed");
  } finally {
    await a.stop();
    await b.stop();
  }
});

test("a lost event socket (grace) and a dead worker close the data objects too", async (t) => {
  const app3 = await startApp({ RTC_DISCONNECT_GRACE_MS: '200' });
  t.after(() => app3.close());
  const base3 = await app3.listen({ host: '127.0.0.1', port: 0 });
  const callId = 'data-lost';
  const alice = await join(app3, callId, 'alice');
  const bob = await join(app3, callId, 'bob');
  const evA = await openEvents(base3, callId, alice.tok);
  const evB = await openEvents(base3, callId, bob.tok);
  await until(() => app3.rooms.get(callId)!.events.count === 2, 3000, 'both online');
  const tr = async (peer: Peer, direction: string) =>
    (await api(app3, 'POST', '/rtc/transports', peer.tok, { callId, direction, sctpCapabilities })).body.transport.id;
  const mk = async (peer: Peer, transportId: string) => (await api(app3, 'POST', '/rtc/data-producers', peer.tok,
    { callId, transportId, sctpStreamParameters: { streamId: 1 }, label: 'chat' })).body.dataProducerId;
  const aId = await mk(alice, await tr(alice, 'send'));
  const bId = await mk(bob, await tr(bob, 'send'));
  const recvB = await tr(bob, 'recv');
  assert.equal((await api(app3, 'POST', '/rtc/data-consumers', bob.tok, { callId, transportId: recvB, dataProducerId: aId })).status, 201);
  const room = app3.rooms.get(callId)!;
  const aliceDp = room.participants.get('alice')!.dataProducers.get(aId)!;
  // Alice's socket drops for good: after the grace she leaves, her data producer and bob's consumer of it close.
  evA.ws.close();
  const left = await evB.waitFor((e) => e.type === 'participant_left' && e.userId === 'alice', 3000);
  assert.equal(left.reason, 'disconnected');
  assert.ok(evB.events.some((e) => e.type === 'data_producer_closed' && e.dataProducerId === aId));
  assert.equal(aliceDp.closed, true);
  await until(() => room.participants.get('bob')!.dataConsumers.size === 0, 2000, "bob's data consumer closed");
  // The worker dies: the room closes with bob's data producer.
  const bobDp = room.participants.get('bob')!.dataProducers.get(bId)!;
  process.kill(app3.pool.workers[0].pid, 'SIGKILL');
  const closed = await evB.waitFor((e) => e.type === 'room_closed', 3000);
  assert.equal(closed.reason, 'worker_died');
  assert.equal(bobDp.closed, true);
  assert.equal(app3.rooms.get(callId), undefined);
});
