// Every REST endpoint against a real worker: happy paths and every error code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import {
  api, fakeDtls, join, opusParameters, produce, transport, startApp, userToken, workerObjects, type Peer,
} from './helpers';

let app: FastifyInstance;
before(async () => { app = await startApp(); });
after(() => app.close());

describe('RTC-01 GET /rtc/capabilities', () => {
  test('creates the room on first use and joins the caller', async () => {
    const alice = await join(app, 'cap-1', 'alice');
    assert.ok(alice.rtpCapabilities.codecs!.some((c) => c.mimeType === 'audio/opus'));
    const room = await api(app, 'GET', '/rtc/rooms/cap-1', alice.tok);
    assert.equal(room.status, 200);
    assert.deepEqual(room.body.participants.map((p: any) => p.userId), ['alice']);
    assert.equal(room.body.connected, false);
  });
  test('400 INVALID_REQUEST naming the field', async () => {
    const res = await api(app, 'GET', '/rtc/capabilities', userToken('x', 'alice'));
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'INVALID_REQUEST');
    assert.match(res.body.message, /callId/);
  });
});

describe('RTC-02/03 transports', () => {
  let alice: Peer;
  before(async () => { alice = await join(app, 'tr-1', 'alice'); });

  test('201 with ICE/DTLS parameters; the same direction again is reused until connected', async () => {
    const a = await api(app, 'POST', '/rtc/transports', alice.tok, { callId: 'tr-1', direction: 'send' });
    assert.equal(a.status, 201);
    assert.equal(a.body.reused, false);
    const t = a.body.transport;
    assert.ok(t.id && t.iceParameters.usernameFragment && t.iceCandidates.length > 0 && t.dtlsParameters.fingerprints.length > 0);
    assert.ok(t.iceCandidates.every((c: any) => c.port >= 40000 && c.port <= 41000));
    assert.equal(t.sctpParameters.maxMessageSize, 262144, 'every participant transport carries data channels');
    const b = await api(app, 'POST', '/rtc/transports', alice.tok, { callId: 'tr-1', direction: 'send' });
    assert.equal(b.status, 201);
    assert.equal(b.body.reused, true);
    assert.equal(b.body.transport.id, t.id);
    const r = await api(app, 'POST', '/rtc/transports', alice.tok, { callId: 'tr-1', direction: 'recv' });
    assert.equal(r.body.reused, false);
    assert.notEqual(r.body.transport.id, t.id);
  });

  test('sctpCapabilities (older mediasoup-client) are accepted', async () => {
    const bob = await join(app, 'tr-1', 'bob-sctp');
    const a = await api(app, 'POST', '/rtc/transports', bob.tok,
      { callId: 'tr-1', direction: 'send', sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } } });
    assert.equal(a.status, 201);
    assert.ok(a.body.transport.sctpParameters);
  });

  test('RTC-03 connect; asking again after connecting replaces the transport and tells the peers', async () => {
    const bob = await join(app, 'tr-2', 'bob');
    const carol = await join(app, 'tr-2', 'carol');
    const send = await transport(app, bob, 'send');
    const c = await api(app, 'POST', `/rtc/transports/${send}/connect`, bob.tok, { dtlsParameters: fakeDtls() });
    assert.equal(c.status, 200);
    assert.deepEqual(c.body, { connected: true });
    const producerId = await produce(app, bob, send);
    const carolRecv = await transport(app, carol, 'recv');
    const cons = await api(app, 'POST', '/rtc/consumers', carol.tok,
      { callId: 'tr-2', transportId: carolRecv, producerId, rtpCapabilities: carol.rtpCapabilities });
    assert.equal(cons.status, 201);
    const again = await api(app, 'POST', '/rtc/transports', bob.tok, { callId: 'tr-2', direction: 'send' });
    assert.equal(again.status, 201);
    assert.equal(again.body.reused, false);
    assert.notEqual(again.body.transport.id, send);
    const room = app.rooms.get('tr-2')!;
    assert.equal(room.participants.get('bob')!.transports.has(send), false);
    assert.equal(room.participants.get('bob')!.producers.size, 0);
    // carol's consumer of the old producer closes when the worker reports it
    for (let i = 0; i < 50 && room.participants.get('carol')!.consumers.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(room.participants.get('carol')!.consumers.size, 0);
    const objs = await workerObjects(app);
    assert.ok(objs.transports >= 2);
  });

  test('404 ROOM_NOT_FOUND, 404 TRANSPORT_NOT_FOUND, 403 on another participant\'s transport, 400s', async () => {
    const tok = userToken('no-room', 'alice');
    let r = await api(app, 'POST', '/rtc/transports', tok, { callId: 'no-room', direction: 'send' });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'ROOM_NOT_FOUND');
    r = await api(app, 'POST', '/rtc/transports/nope/connect', alice.tok, { dtlsParameters: fakeDtls() });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'TRANSPORT_NOT_FOUND');
    const mallory = await join(app, 'tr-1', 'mallory');
    const aliceSend = app.rooms.get('tr-1')!.participants.get('alice')!.transportFor('send')!.transport.id;
    r = await api(app, 'POST', `/rtc/transports/${aliceSend}/connect`, mallory.tok, { dtlsParameters: fakeDtls() });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'FORBIDDEN');
    r = await api(app, 'POST', '/rtc/transports', alice.tok, { callId: 'tr-1', direction: 'up' });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /direction/);
    r = await api(app, 'POST', '/rtc/transports', alice.tok, { direction: 'send' });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /callId/);
    r = await api(app, 'POST', `/rtc/transports/${aliceSend}/connect`, alice.tok, { dtlsParameters: { role: 'client' } });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /fingerprints/);
    r = await api(app, 'POST', `/rtc/transports/${aliceSend}/connect`, alice.tok, {});
    assert.equal(r.status, 400);
    assert.match(r.body.message, /dtlsParameters/);
  });
});

describe('RTC-04/05 producers and consumers', () => {
  let alice: Peer, bob: Peer, aliceSend: string, bobRecv: string, producerId: string;
  before(async () => {
    alice = await join(app, 'pc-1', 'alice');
    bob = await join(app, 'pc-1', 'bob');
    aliceSend = await transport(app, alice, 'send');
    bobRecv = await transport(app, bob, 'recv');
  });

  test('201 {producerId}; 404 ROOM_NOT_FOUND / TRANSPORT_NOT_FOUND; 422 UNSUPPORTED_RTP_PARAMETERS; 400', async () => {
    producerId = await produce(app, alice, aliceSend);
    assert.ok(producerId);
    let r = await api(app, 'POST', '/rtc/producers', userToken('gone', 'alice'),
      { callId: 'gone', transportId: aliceSend, kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'ROOM_NOT_FOUND');
    r = await api(app, 'POST', '/rtc/producers', alice.tok,
      { callId: 'pc-1', transportId: 'nope', kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'TRANSPORT_NOT_FOUND');
    const bad = opusParameters();
    bad.codecs[0].mimeType = 'audio/nonsense';
    r = await api(app, 'POST', '/rtc/producers', alice.tok,
      { callId: 'pc-1', transportId: aliceSend, kind: 'audio', rtpParameters: bad });
    assert.equal(r.status, 422);
    assert.equal(r.body.error, 'UNSUPPORTED_RTP_PARAMETERS');
    r = await api(app, 'POST', '/rtc/producers', alice.tok,
      { callId: 'pc-1', transportId: aliceSend, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus' }] } });
    assert.equal(r.status, 422);
    r = await api(app, 'POST', '/rtc/producers', alice.tok,
      { callId: 'pc-1', transportId: aliceSend, kind: 'smell', rtpParameters: opusParameters() });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /kind/);
    r = await api(app, 'POST', '/rtc/producers', alice.tok, { callId: 'pc-1', transportId: aliceSend, kind: 'audio' });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /rtpParameters/);
    r = await api(app, 'POST', '/rtc/producers', bob.tok,
      { callId: 'pc-1', transportId: aliceSend, kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'FORBIDDEN');
  });

  test('201 consumer created paused; 404 PRODUCER_NOT_FOUND; 422 CANNOT_CONSUME', async () => {
    const r = await api(app, 'POST', '/rtc/consumers', bob.tok,
      { callId: 'pc-1', transportId: bobRecv, producerId, rtpCapabilities: bob.rtpCapabilities });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.producerId, producerId);
    assert.equal(r.body.kind, 'audio');
    assert.equal(r.body.type, 'simple');
    assert.equal(r.body.producerPaused, false);
    assert.ok(r.body.rtpParameters.codecs.length > 0);
    const consumer = app.rooms.get('pc-1')!.participants.get('bob')!.consumers.get(r.body.id)!;
    assert.equal(consumer.paused, true);

    let e = await api(app, 'POST', '/rtc/consumers', bob.tok,
      { callId: 'pc-1', transportId: bobRecv, producerId: 'nope', rtpCapabilities: bob.rtpCapabilities });
    assert.equal(e.status, 404);
    assert.equal(e.body.error, 'PRODUCER_NOT_FOUND');
    e = await api(app, 'POST', '/rtc/consumers', bob.tok, {
      callId: 'pc-1', transportId: bobRecv, producerId,
      rtpCapabilities: { codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96 }] },
    });
    assert.equal(e.status, 422);
    assert.equal(e.body.error, 'CANNOT_CONSUME');
    e = await api(app, 'POST', '/rtc/consumers', bob.tok,
      { callId: 'pc-1', transportId: 'nope', producerId, rtpCapabilities: bob.rtpCapabilities });
    assert.equal(e.status, 404);
    assert.equal(e.body.error, 'TRANSPORT_NOT_FOUND');
    e = await api(app, 'POST', '/rtc/consumers', bob.tok, { callId: 'pc-1', transportId: bobRecv, producerId });
    assert.equal(e.status, 400);
    assert.match(e.body.message, /rtpCapabilities/);
    e = await api(app, 'POST', '/rtc/consumers', userToken('gone', 'bob'),
      { callId: 'gone', transportId: bobRecv, producerId, rtpCapabilities: bob.rtpCapabilities });
    assert.equal(e.status, 404);
    assert.equal(e.body.error, 'ROOM_NOT_FOUND');

    // resume / pause the consumer (own only)
    for (const verb of ['resume', 'pause', 'resume']) {
      const x = await api(app, 'POST', `/rtc/consumers/${r.body.id}/${verb}`, bob.tok);
      assert.equal(x.status, 200);
      assert.equal(consumer.paused, verb === 'pause');
    }
    let x = await api(app, 'POST', `/rtc/consumers/${r.body.id}/pause`, alice.tok);
    assert.equal(x.status, 403);
    assert.equal(x.body.error, 'FORBIDDEN');
    x = await api(app, 'POST', '/rtc/consumers/nope/resume', bob.tok);
    assert.equal(x.status, 404);
    assert.equal(x.body.error, 'CONSUMER_NOT_FOUND');
    x = await api(app, 'DELETE', `/rtc/consumers/${r.body.id}`, alice.tok);
    assert.equal(x.status, 403);
    x = await api(app, 'DELETE', `/rtc/consumers/${r.body.id}`, bob.tok);
    assert.equal(x.status, 200);
    assert.equal(consumer.closed, true);
    x = await api(app, 'DELETE', `/rtc/consumers/${r.body.id}`, bob.tok);
    assert.equal(x.status, 404);
    assert.equal(x.body.error, 'CONSUMER_NOT_FOUND');
  });

  test('producer pause / resume / close: own only', async () => {
    const producer = app.rooms.get('pc-1')!.participants.get('alice')!.producers.get(producerId)!;
    let x = await api(app, 'POST', `/rtc/producers/${producerId}/pause`, alice.tok);
    assert.equal(x.status, 200);
    assert.equal(producer.paused, true);
    const room = await api(app, 'GET', '/rtc/rooms/pc-1', bob.tok);
    assert.deepEqual(room.body.participants.find((p: any) => p.userId === 'alice').producers,
      [{ id: producerId, kind: 'audio', paused: true, silent: false }]);
    x = await api(app, 'POST', `/rtc/producers/${producerId}/resume`, alice.tok);
    assert.equal(x.status, 200);
    assert.equal(producer.paused, false);
    x = await api(app, 'POST', `/rtc/producers/${producerId}/pause`, bob.tok);
    assert.equal(x.status, 403);
    x = await api(app, 'DELETE', `/rtc/producers/${producerId}`, bob.tok);
    assert.equal(x.status, 403);
    x = await api(app, 'POST', '/rtc/producers/nope/pause', alice.tok);
    assert.equal(x.status, 404);
    assert.equal(x.body.error, 'PRODUCER_NOT_FOUND');
    x = await api(app, 'DELETE', `/rtc/producers/${producerId}`, alice.tok);
    assert.equal(x.status, 200);
    assert.equal(producer.closed, true);
    x = await api(app, 'DELETE', `/rtc/producers/${producerId}`, alice.tok);
    assert.equal(x.status, 404);
  });
});

describe('rooms: leave and RTC-07 cleanup', () => {
  test('DELETE participants/me closes only the caller\'s resources', async () => {
    const alice = await join(app, 'lv-1', 'alice');
    const bob = await join(app, 'lv-1', 'bob');
    const aSend = await transport(app, alice, 'send');
    await produce(app, alice, aSend);
    const bSend = await transport(app, bob, 'send');
    await produce(app, bob, bSend);
    const r = await api(app, 'DELETE', '/rtc/rooms/lv-1/participants/me', alice.tok);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { left: true, released: { transports: 1, producers: 1, consumers: 0, dataProducers: 0, dataConsumers: 0 } });
    const again = await api(app, 'DELETE', '/rtc/rooms/lv-1/participants/me', alice.tok);
    assert.deepEqual(again.body, { left: false, released: { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 } });
    const room = await api(app, 'GET', '/rtc/rooms/lv-1', bob.tok);
    assert.deepEqual(room.body.participants.map((p: any) => [p.userId, p.producers.length]), [['bob', 1]]);
    const gone = await api(app, 'DELETE', '/rtc/rooms/nope/participants/me', userToken('nope', 'x'));
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'ROOM_NOT_FOUND');
  });

  test('cleanup counts what it closed (consumers, producers, transports, router); then 404', async () => {
    const alice = await join(app, 'cl-1', 'alice');
    const bob = await join(app, 'cl-1', 'bob');
    const aSend = await transport(app, alice, 'send');
    const aRecv = await transport(app, alice, 'recv');
    const bSend = await transport(app, bob, 'send');
    const bRecv = await transport(app, bob, 'recv');
    const pa = await produce(app, alice, aSend);
    const pb = await produce(app, bob, bSend);
    for (const [peer, recv, pid] of [[alice, aRecv, pb], [bob, bRecv, pa]] as const) {
      const c = await api(app, 'POST', '/rtc/consumers', peer.tok,
        { callId: 'cl-1', transportId: recv, producerId: pid, rtpCapabilities: peer.rtpCapabilities });
      assert.equal(c.status, 201);
    }
    const routerId = app.rooms.get('cl-1')!.router!.id;
    const r = await api(app, 'DELETE', '/rtc/rooms/cl-1/cleanup', alice.tok);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { cleaned: true, released: { transports: 4, producers: 2, consumers: 2, dataProducers: 0, dataConsumers: 0 } });
    const dump = await app.pool.workers[0].dump();
    assert.equal(dump.routerIds.includes(routerId), false);
    const again = await api(app, 'DELETE', '/rtc/rooms/cl-1/cleanup', alice.tok);
    assert.equal(again.status, 404);
    assert.equal(again.body.error, 'ROOM_NOT_FOUND');
    const get = await api(app, 'GET', '/rtc/rooms/cl-1', alice.tok);
    assert.equal(get.status, 404);
    assert.equal(get.body.error, 'ROOM_NOT_FOUND');
  });
});

describe('ops endpoints', () => {
  test('GET /healthz', async () => {
    const r = await api(app, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.workers, 1);
  });
  test('GET /metrics', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    for (const m of ['sfu_rooms', 'sfu_participants', 'sfu_transports', 'sfu_producers', 'sfu_consumers',
      'sfu_data_producers', 'sfu_data_consumers', 'sfu_worker_restarts_total', 'sfu_api_request_duration_seconds_bucket', 'sfu_workers 1']) {
      assert.ok(res.body.includes(m), m);
    }
  });
  test('GET /docs (UI) and the OpenAPI document', async () => {
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.equal(doc.openapi.startsWith('3.'), true);
    for (const p of ['/rtc/capabilities', '/rtc/transports', '/rtc/transports/{transportId}/connect', '/rtc/producers',
      '/rtc/consumers', '/rtc/data-producers', '/rtc/data-consumers', '/rtc/data-producers/{id}', '/rtc/data-consumers/{id}',
      '/rtc/rooms/{callId}/cleanup', '/rtc/rooms/{callId}/participants/me', '/healthz']) {
      assert.ok(doc.paths[p], p);
    }
  });
  test('unknown route: 404 {error, message}', async () => {
    const r = await api(app, 'GET', '/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'NOT_FOUND');
  });
  test('invalid JSON body: 400 INVALID_REQUEST', async () => {
    const res = await app.inject({ method: 'POST', url: '/rtc/transports', headers: { authorization: `Bearer ${userToken('x', 'a')}`, 'content-type': 'application/json' }, payload: '{"callId":' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'INVALID_REQUEST');
  });
});
