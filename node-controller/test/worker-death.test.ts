// SIGKILL a worker during a call: rooms closed, sockets told within 2 s,
// a replacement runs, a new call succeeds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { api, join, openEvents, produce, startApp, transport, until } from './helpers';

let app: FastifyInstance;
let base: string;
before(async () => {
  app = await startApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

test('worker death', async () => {
  const callId = 'wd-1';
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const evs = [await openEvents(base, callId, alice.tok), await openEvents(base, callId, bob.tok)];
  await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
  await produce(app, alice, await transport(app, alice, 'send'));
  const other = await join(app, 'wd-2', 'carol');

  const oldPid = app.pool.workers[0].pid;
  const t0 = Date.now();
  process.kill(oldPid, 'SIGKILL');
  for (const ev of evs) {
    const e = await ev.waitFor((x) => x.type === 'room_closed', 2000);
    assert.deepEqual(e, { type: 'room_closed', callId, reason: 'worker_died' });
    await ev.closed;
  }
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(app.rooms.get(callId), undefined);
  assert.equal(app.rooms.get('wd-2'), undefined);

  await until(() => app.pool.workers.length === 1 && app.pool.workers[0].pid !== oldPid, 5000, 'replacement worker');
  assert.equal(app.pool.restarts, 1);
  const health = await api(app, 'GET', '/healthz');
  assert.equal(health.status, 200);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /sfu_worker_restarts_total 1/);

  // A new call works on the replacement.
  const dave = await join(app, 'wd-3', 'dave');
  const send = await transport(app, dave, 'send');
  assert.ok(await produce(app, dave, send));
  // ...and the old call id can start over too.
  const again = await join(app, callId, 'alice');
  assert.ok(again.rtpCapabilities.codecs!.length > 0);
  void other;
});
