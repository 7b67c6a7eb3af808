// The event WebSocket over real HTTP: auth, join/leave events, producer
// events, consumer_closed, room_closed, grace-period cleanup, empty rooms,
// transports whose DTLS fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import {
  api, join, openEvents, produce, serviceToken, startApp, token, transport, until, userToken, workerObjects,
} from './helpers';

let app: FastifyInstance;
let base: string;
before(async () => {
  app = await startApp({ RTC_DISCONNECT_GRACE_MS: '300', RTC_EMPTY_ROOM_TIMEOUT_MS: '400' });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

function rejectStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('open', () => { ws.close(); reject(new Error('socket opened')); });
    ws.once('error', () => undefined);
  });
}

describe('event socket', () => {
  test('auth: 401 without/with bad token, 403 for another call or a service token; header or query token', async () => {
    const ws = base.replace('http', 'ws');
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a`), 401);
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a&token=garbage`), 401);
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a&token=${token({ sub: 'a', callId: 'ev-a' }, { ttl: -5 })}`), 401);
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a&token=${userToken('other', 'a')}`), 403);
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a&token=${serviceToken()}`), 403);
    assert.equal(await rejectStatus(`${ws}/rtc/events?callId=ev-a`, { authorization: `Bearer ${userToken('other', 'a')}` }), 403);
    assert.equal(await rejectStatus(`${ws}/rtc/events?token=${userToken('ev-a', 'a')}`), 400);
    const viaHeader = await openEvents(base, 'ev-a', userToken('ev-a', 'a'), { header: true });
    await until(() => app.rooms.get('ev-a')?.events.has('a') === true, 3000, 'socket attached');
    viaHeader.ws.close();
  });

  test('participant_joined/left, new_producer, producer_paused/resumed/closed, consumer_closed, room_closed', async () => {
    const callId = 'ev-1';
    const alice = await join(app, callId, 'alice');
    const aliceEv = await openEvents(base, callId, alice.tok);
    const bob = await join(app, callId, 'bob');
    await aliceEv.waitFor((e) => e.type === 'participant_joined' && e.userId === 'bob');
    const bobEv = await openEvents(base, callId, bob.tok);
    await until(() => app.rooms.get(callId)!.events.has('bob'), 3000, 'bob online');

    const send = await transport(app, alice, 'send');
    const producerId = await produce(app, alice, send);
    const np = await bobEv.waitFor((e) => e.type === 'new_producer');
    assert.deepEqual(np, { type: 'new_producer', producerId, userId: 'alice', kind: 'audio' });
    assert.equal(aliceEv.events.some((e) => e.type === 'new_producer'), false, 'the producer is not told of its own producer');

    await api(app, 'POST', `/rtc/producers/${producerId}/pause`, alice.tok);
    assert.deepEqual(await bobEv.waitFor((e) => e.type === 'producer_paused'), { type: 'producer_paused', producerId, userId: 'alice' });
    await api(app, 'POST', `/rtc/producers/${producerId}/resume`, alice.tok);
    await bobEv.waitFor((e) => e.type === 'producer_resumed' && e.producerId === producerId);

    const recv = await transport(app, bob, 'recv');
    const c = await api(app, 'POST', '/rtc/consumers', bob.tok, { callId, transportId: recv, producerId, rtpCapabilities: bob.rtpCapabilities });
    assert.equal(c.status, 201);
    await api(app, 'DELETE', `/rtc/producers/${producerId}`, alice.tok);
    assert.deepEqual(await bobEv.waitFor((e) => e.type === 'producer_closed'), { type: 'producer_closed', producerId, userId: 'alice' });
    assert.deepEqual(await bobEv.waitFor((e) => e.type === 'consumer_closed'), { type: 'consumer_closed', consumerId: c.body.id, producerId });

    await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, bob.tok);
    assert.deepEqual(await aliceEv.waitFor((e) => e.type === 'participant_left'), { type: 'participant_left', userId: 'bob', reason: 'left' });
    const bobClosed = await bobEv.closed;
    assert.equal(bobClosed.code, 1000);

    const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.equal(r.status, 200);
    assert.deepEqual(await aliceEv.waitFor((e) => e.type === 'room_closed'), { type: 'room_closed', callId, reason: 'cleanup' });
    await aliceEv.closed;
    for (const ev of [aliceEv, bobEv]) {
      for (const e of ev.events) {
        assert.ok(['participant_joined', 'participant_left', 'new_producer', 'producer_closed', 'producer_paused',
          'producer_resumed', 'consumer_closed', 'call_connected', 'silence', 'volumes', 'room_closed'].includes(e.type), e.type);
      }
    }
  });

  test('a dropped socket that does not come back: participant cleaned up after the grace period', async () => {
    const callId = 'ev-2';
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const aliceEv = await openEvents(base, callId, alice.tok);
    const bobEv = await openEvents(base, callId, bob.tok);
    await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
    const send = await transport(app, bob, 'send');
    await produce(app, bob, send);
    const before = await workerObjects(app);
    bobEv.ws.terminate(); // abrupt
    const t0 = Date.now();
    const left = await aliceEv.waitFor((e) => e.type === 'participant_left', 3000);
    assert.deepEqual(left, { type: 'participant_left', userId: 'bob', reason: 'disconnected' });
    assert.ok(Date.now() - t0 >= 250, 'not before the grace period');
    await aliceEv.waitFor((e) => e.type === 'producer_closed');
    const afterObjs = await workerObjects(app);
    assert.equal(afterObjs.transports, before.transports - 1);
    assert.equal(afterObjs.producers, before.producers - 1);
    aliceEv.ws.close();
  });

  test('a socket that comes back within the grace period keeps the participant', async () => {
    const callId = 'ev-3';
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const aliceEv = await openEvents(base, callId, alice.tok);
    const bobEv = await openEvents(base, callId, bob.tok);
    await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
    bobEv.ws.terminate();
    await until(() => !app.rooms.get(callId)!.events.has('bob'), 3000, 'bob offline');
    const bobEv2 = await openEvents(base, callId, bob.tok);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(aliceEv.events.some((e) => e.type === 'participant_left'), false);
    assert.ok(app.rooms.get(callId)!.participants.has('bob'));
    aliceEv.ws.close();
    bobEv2.ws.close();
  });

  test('a participant that never opens a socket is cleaned up after the grace period; an empty room closes', async () => {
    const callId = 'ev-4';
    const alice = await join(app, callId, 'alice');
    await transport(app, alice, 'send');
    const room = app.rooms.get(callId)!;
    await until(() => room.participants.size === 0, 3000, 'participant reaped');
    await until(() => app.rooms.get(callId) === undefined, 3000, 'empty room closed');
    assert.equal(room.state, 'closed');
    assert.equal(room.router!.closed, true);
  });

  test('a transport whose DTLS fails is closed; peers told producer_closed', async () => {
    const callId = 'ev-5';
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const aliceEv = await openEvents(base, callId, alice.tok);
    const bobEv = await openEvents(base, callId, bob.tok);
    await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
    const send = await transport(app, bob, 'send');
    const producerId = await produce(app, bob, send);
    const entry = app.rooms.get(callId)!.participants.get('bob')!.transports.get(send)!;
    entry.transport.emit('dtlsstatechange', 'failed'); // what the library emits on the worker's notification
    const e = await aliceEv.waitFor((x) => x.type === 'producer_closed');
    assert.equal(e.producerId, producerId);
    await until(() => entry.transport.closed, 2000, 'transport closed');
    aliceEv.ws.close();
    bobEv.ws.close();
  });
});

test('shutdown: sockets hear room_closed "shutdown", workers are closed', async () => {
  const own = await startApp();
  const url = await own.listen({ host: '127.0.0.1', port: 0 });
  const alice = await join(own, 'sd-1', 'alice');
  const ev = await openEvents(url, 'sd-1', alice.tok);
  await until(() => own.rooms.get('sd-1')?.events.has('alice') === true, 3000, 'online');
  const worker = own.pool.workers[0];
  await own.close();
  assert.deepEqual(await ev.waitFor((e) => e.type === 'room_closed'), { type: 'room_closed', callId: 'sd-1', reason: 'shutdown' });
  assert.equal(worker.closed, true);
});
