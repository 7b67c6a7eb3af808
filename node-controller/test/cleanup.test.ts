// Racing cleanups and the worker's view after them; ICE that does not recover.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { api, join, opusParameters, produce, serviceToken, startApp, transport, until, workerObjects } from './helpers';

let app: FastifyInstance;
before(async () => { app = await startApp({ RTC_TRANSPORT_RECOVERY_MS: '200' }); });
after(() => app.close());

test('concurrent cleanups of one room: one 200 with the counts, the others 404, nothing closed twice', async () => {
  const callId = 'race-1';
  const peers = [await join(app, callId, 'alice'), await join(app, callId, 'bob'), await join(app, callId, 'carol')];
  const producers: string[] = [];
  const recv: string[] = [];
  for (const p of peers) {
    producers.push(await produce(app, p, await transport(app, p, 'send')));
    recv.push(await transport(app, p, 'recv'));
  }
  for (let i = 0; i < peers.length; i++) {
    for (let j = 0; j < peers.length; j++) {
      if (i === j) continue;
      const r = await api(app, 'POST', '/rtc/consumers', peers[i].tok,
        { callId, transportId: recv[i], producerId: producers[j], rtpCapabilities: peers[i].rtpCapabilities });
      assert.equal(r.status, 201);
    }
  }
  // Count effective close() calls on every object the room holds.
  const room = app.rooms.get(callId)!;
  const closes = new Map<string, number>();
  const spy = (o: { id: string; closed: boolean; close: () => void }) => {
    const orig = o.close.bind(o);
    o.close = () => {
      if (!o.closed) closes.set(o.id, (closes.get(o.id) ?? 0) + 1);
      orig();
    };
  };
  for (const p of room.participants.values()) {
    for (const c of p.consumers.values()) spy(c);
    for (const pr of p.producers.values()) spy(pr);
    for (const e of p.transports.values()) spy(e.transport);
  }
  const before = await workerObjects(app);
  assert.deepEqual([before.transports, before.producers, before.consumers], [6, 3, 6]);

  const tokens = [...peers.map((p) => p.tok), serviceToken(), peers[0].tok, peers[1].tok];
  const results = await Promise.all(tokens.map((t) => api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, t)));
  const ok = results.filter((r) => r.status === 200);
  const notFound = results.filter((r) => r.status === 404);
  assert.equal(ok.length, 1, JSON.stringify(results));
  assert.equal(notFound.length, tokens.length - 1);
  assert.deepEqual(ok[0].body, { cleaned: true, released: { transports: 6, producers: 3, consumers: 6, dataProducers: 0, dataConsumers: 0 } });
  for (const r of notFound) assert.equal(r.body.error, 'ROOM_NOT_FOUND');
  assert.equal(closes.size, 15);
  assert.ok([...closes.values()].every((n) => n === 1));
  const afterObjs = await workerObjects(app);
  assert.deepEqual(afterObjs, { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
});

test('cleanup racing produce and leave: no ghosts', async () => {
  for (let round = 0; round < 10; round++) {
    const callId = `race-2-${round}`;
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const send = await transport(app, alice, 'send');
    const ops = [
      api(app, 'POST', '/rtc/producers', alice.tok, { callId, transportId: send, kind: 'audio', rtpParameters: opusParameters() }),
      api(app, 'POST', '/rtc/transports', bob.tok, { callId, direction: 'send' }),
      api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, bob.tok),
      api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken()),
      api(app, 'POST', '/rtc/transports', alice.tok, { callId, direction: 'recv' }),
    ];
    const res = await Promise.all(ops);
    for (const r of res) assert.ok([200, 201, 404].includes(r.status), JSON.stringify(r));
  }
  await until(() => app.rooms.size === 0, 2000, 'rooms gone');
  const objs = await workerObjects(app);
  assert.deepEqual(objs, { routers: 0, transports: 0, producers: 0, consumers: 0, observers: 0, handlers: 0 });
});

test('a transport whose ICE stays disconnected is closed after RTC_TRANSPORT_RECOVERY_MS; one that recovers is kept', async () => {
  const alice = await join(app, 'ice-1', 'alice');
  const a = await transport(app, alice, 'send');
  const b = await transport(app, alice, 'recv');
  const p = app.rooms.get('ice-1')!.participants.get('alice')!;
  const ta = p.transports.get(a)!.transport;
  const tb = p.transports.get(b)!.transport;
  ta.emit('icestatechange', 'disconnected');
  tb.emit('icestatechange', 'disconnected');
  await new Promise((r) => setTimeout(r, 50));
  tb.emit('icestatechange', 'completed');
  await until(() => ta.closed, 2000, 'transport closed');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(tb.closed, false);
  await api(app, 'DELETE', '/rtc/rooms/ice-1/cleanup', alice.tok);
});
