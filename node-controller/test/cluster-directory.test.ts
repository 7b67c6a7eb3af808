// The call directory's scripts against a real redis-server (no controller):
// atomic assignment under racing nodes, least-loaded choice and capacity,
// heartbeat expiry and the sweep, restart cleanup, reconcile, pub/sub.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { CallDirectory } from '../src/cluster/directory';
import { RedisBus, type CallEvent } from '../src/events/bus';
import { startRedis, type RedisServer } from './redis-server';
import { sleep, until } from './helpers';

const noop = () => undefined;
const log = { info: noop, warn: noop, error: noop, debug: noop, trace: noop, fatal: noop, child: () => log, level: 'silent' } as unknown as FastifyBaseLogger;

let server: RedisServer;
const clients: Redis[] = [];
let prefixN = 0;

function client(): Redis {
  const r = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  r.on('error', noop);
  clients.push(r);
  return r;
}

/** n nodes in a fresh key space, each with its own connection (like separate processes). */
async function cluster(n: number, { ttl = 5000, capacity = 100 } = {}) {
  const prefix = `t${++prefixN}:`;
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const id = String.fromCharCode(97 + i); // a, b, c
    const dir = new CallDirectory(client(), { prefix, nodeId: id, instance: `inst-${id}-${prefixN}`, nodeTtlMs: ttl, tombstoneTtlMs: 5000 });
    assert.equal(await dir.heartbeat({ url: `http://${id}.test`, media: `10.0.0.${i + 1}`, capacity }), 'new');
    nodes.push(dir);
  }
  return { prefix, nodes, redis: client() };
}

before(async () => { server = await startRedis(); });
after(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

describe('registration', () => {
  test('heartbeat: new, then ok; another instance with the same id is a conflict', async () => {
    const { prefix, nodes: [a], redis } = await cluster(1, { ttl: 3000 });
    assert.equal(await a.heartbeat({ rooms: 1 }), 'ok');
    const pttl = await redis.pttl(`${prefix}node:a`);
    assert.ok(pttl > 2000 && pttl <= 3000, `TTL ${pttl}`);
    const twin = new CallDirectory(client(), { prefix, nodeId: 'a', instance: 'other', nodeTtlMs: 3000 });
    assert.equal(await twin.heartbeat({}), 'conflict');
    const rec = await a.readNode('a');
    assert.equal(rec?.url, 'http://a.test');
    assert.equal(rec?.rooms, 1);
    assert.deepEqual((await a.nodes()).map((n) => n.id), ['a']);
  });
});

describe('assignment', () => {
  test('racing first requests from two nodes: exactly one owner, every caller sees it', async () => {
    const { prefix, nodes: [a, b], redis } = await cluster(2);
    for (let round = 0; round < 5; round++) {
      const callId = `race-${round}`;
      const all = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).assign(callId)));
      const owners = new Set(all.map((o) => o?.node));
      assert.equal(owners.size, 1, `owners ${[...owners]}`);
      assert.equal(all.filter((o) => o?.assigned).length, 1, 'assigned exactly once');
      const owner = [...owners][0]!;
      assert.equal(await redis.hget(`${prefix}call:${callId}`, 'node'), owner);
      assert.equal(await redis.sismember(`${prefix}node:${owner}:calls`, callId), 1);
      assert.equal(await redis.sismember(`${prefix}node:${owner === 'a' ? 'b' : 'a'}:calls`, callId), 0);
    }
  });

  test('least loaded live node; a tie goes to the requesting node', async () => {
    const { nodes: [a, b] } = await cluster(2);
    assert.equal((await a.assign('x1'))?.node, 'a', 'tie: the requester');
    assert.equal((await a.assign('x2'))?.node, 'b', 'a has 1, b has 0');
    assert.equal((await b.assign('x3'))?.node, 'b', 'tie again: the requester');
    assert.equal((await b.assign('x4'))?.node, 'a');
    const owner = await b.assign('x1');
    assert.deepEqual(owner, { node: 'a', assigned: false, url: 'http://a.test', media: '10.0.0.1' });
  });

  test('capacity: a full node takes no new call; all full -> none', async () => {
    const { nodes: [a, b] } = await cluster(2, { capacity: 2 });
    const owners: string[] = [];
    for (let i = 0; i < 4; i++) owners.push((await a.assign(`cap-${i}`))!.node);
    assert.deepEqual([...owners].sort(), ['a', 'a', 'b', 'b']);
    assert.equal(await a.assign('cap-5'), undefined);
    assert.equal(await b.assign('cap-5'), undefined);
    // A call that already has an owner is still found.
    assert.equal((await b.assign('cap-0'))?.assigned, false);
    // The call ends on its owner: the entry goes, the slot is free again.
    const owner = owners[0] === 'a' ? a : b;
    assert.equal(await owner.release('cap-0'), true);
    assert.equal(await a.lookup('cap-0'), undefined, 'released: entry deleted');
    assert.equal((await a.assign('cap-5'))?.node, owners[0]);
  });

  test('the owner updates its entry; a node that is not the owner cannot', async () => {
    const { nodes: [a, b] } = await cluster(2);
    await a.assign('upd');
    assert.equal(await a.update('upd', { state: 'open', participants: '["u1","u2"]', connectedAt: '=now' }), true);
    assert.equal(await b.update('upd', { state: 'lost' }), false);
    const e = await b.lookup('upd');
    assert.equal(e?.state, 'open');
    assert.equal(e?.node, 'a');
    assert.equal(e?.alive, true);
    assert.equal(e?.nodeUrl, 'http://a.test');
    assert.deepEqual(e?.participants, ['u1', 'u2']);
    assert.ok(Math.abs((e?.connectedAt ?? 0) - Date.now()) < 5000);
    assert.equal(await b.release('upd'), false, 'only the owner releases');
    assert.equal(await a.release('upd'), true);
  });
});

describe('node death', () => {
  test('an expired heartbeat: the sweep marks its calls lost (once), publishes call_lost, removes the node', async () => {
    const { prefix, nodes: [a, b], redis } = await cluster(2, { ttl: 1000 });
    const bus = new RedisBus(client(), client(), prefix, log);
    const events: CallEvent[] = [];
    const sub = bus.subscribe(null, (e) => events.push(e));
    await sub.ready;
    await a.heartbeat({ capacity: 0 }); // a full node: b gets the next two calls
    assert.equal((await b.assign('d1'))?.node, 'b');
    assert.equal((await a.assign('d2'))?.node, 'b');
    await b.update('d1', { participants: '["alice"]' });
    await a.heartbeat({ capacity: 100 });
    assert.equal((await a.assign('d3'))?.node, 'a');
    // b stops beating; a keeps going.
    const t0 = Date.now();
    let swept: Array<{ node: string; lostCalls: number }> = [];
    while (swept.length === 0) {
      await a.heartbeat({});
      swept = await a.sweep();
      if (Date.now() - t0 > 3000) throw new Error('not swept within 3 s');
      await sleep(100);
    }
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 1600, `swept after ${took} ms (TTL 1000)`);
    assert.deepEqual(swept, [{ node: 'b', lostCalls: 2 }]);
    assert.deepEqual(await a.sweep(), [], 'swept once');
    assert.deepEqual((await a.nodes()).map((n) => n.id), ['a']);
    assert.equal(await redis.exists(`${prefix}node:b:calls`), 0);
    const lost = await a.lookup('d1');
    assert.equal(lost?.state, 'lost');
    assert.equal(lost?.node, undefined, 'a lost call names no node');
    assert.equal(lost?.lostNode, 'b');
    assert.deepEqual(lost?.participants, ['alice'], 'the tombstone keeps who was there');
    const pttl = await redis.pttl(`${prefix}call:d1`);
    assert.ok(pttl > 0 && pttl <= 5000, `tombstone TTL ${pttl}`);
    await until(() => events.filter((e) => e.type === 'call_lost').length === 2, 2000, 'call_lost x2');
    assert.deepEqual(events.filter((e) => e.type === 'call_lost').map((e) => [e.callId, e.node]).sort(),
      [['d1', 'b'], ['d2', 'b']]);
    // The survivor takes the call afresh on the next first use.
    const again = await a.assign('d1');
    assert.deepEqual([again?.node, again?.assigned], ['a', true]);
    assert.deepEqual((await a.lookup('d1'))?.participants, []);
    assert.equal((await a.lookup('d3'))?.node, 'a', "the live node's calls are untouched");
    sub.close();
    await bus.close();
  });

  test('an owner whose heartbeat expired before any sweep: assign takes the call over, call_lost once', async () => {
    const { prefix, nodes: [a, b] } = await cluster(2, { ttl: 1000 });
    const bus = new RedisBus(client(), client(), prefix, log);
    const events: CallEvent[] = [];
    const sub = bus.subscribe('early', (e) => events.push(e));
    await sub.ready;
    assert.equal((await b.assign('early'))?.node, 'b');
    for (let i = 0; i < 6; i++) { // b's heartbeat expires; a's goes on
      await a.heartbeat({});
      await sleep(200);
    }
    const e = await a.lookup('early');
    assert.equal(e?.alive, false, 'lookup: the owner is not alive');
    const o = await a.assign('early');
    assert.deepEqual([o?.node, o?.assigned], ['a', true]);
    assert.deepEqual(await a.sweep(), [{ node: 'b', lostCalls: 0 }], 'nothing left for the sweep');
    await until(() => events.some((x) => x.type === 'call_assigned' && x.node === 'a'), 2000, 'call_assigned a');
    assert.deepEqual(events.map((x) => [x.type, x.node]), [['call_assigned', 'b'], ['call_lost', 'b'], ['call_assigned', 'a']]);
    sub.close();
    await bus.close();
  });

  test('restart cleanup: a node sweeps what its previous process left, even before its TTL ran out', async () => {
    const { prefix, nodes: [a], redis } = await cluster(1, { ttl: 60_000 });
    await a.assign('r1');
    await a.assign('r2');
    const next = new CallDirectory(client(), { prefix, nodeId: 'a', instance: 'second-process', nodeTtlMs: 60_000 });
    assert.equal(await next.sweepNode('a'), 2);
    assert.equal(await redis.exists(`${prefix}node:a`), 0);
    assert.equal((await next.lookup('r1'))?.state, 'lost');
    assert.equal(await next.heartbeat({ capacity: 10, url: 'http://a2' }), 'new');
    assert.equal((await next.assign('r1'))?.assigned, true);
    // Leaving: sweepNode with its own instance; a stale instance is a no-op.
    assert.equal(await a.sweepNode('a', a.instance), 0);
    assert.equal((await next.lookup('r1'))?.node, 'a');
    assert.equal(await next.sweepNode('a', next.instance), 1);
    assert.equal(await redis.sismember(`${prefix}nodes`, 'a'), 0);
  });
});

describe('reconcile', () => {
  test('keeps its calls, reclaims forgotten ones, reports conflicts, drops orphans', async () => {
    const { prefix, nodes: [a, b], redis } = await cluster(2);
    await a.assign('mine');
    await b.assign('theirs'); // b's, though a thinks it holds a room for it
    await a.assign('orphan'); // assigned to a, no room on a
    const conflicts = await a.reconcile([
      { callId: 'mine', participants: ['u1'] },
      { callId: 'forgotten', participants: ['u2', 'u3'] },
      { callId: 'theirs', participants: [] },
    ], 60_000);
    assert.deepEqual(conflicts, ['theirs']);
    assert.deepEqual((await a.lookup('mine'))?.participants, ['u1']);
    const f = await a.lookup('forgotten');
    assert.deepEqual([f?.node, f?.state, f?.participants], ['a', 'open', ['u2', 'u3']]);
    assert.equal(await redis.sismember(`${prefix}node:a:calls`, 'forgotten'), 1);
    assert.equal((await a.lookup('orphan'))?.node, 'a', 'young orphan kept (its request may be on the way)');
    await a.reconcile([{ callId: 'mine', participants: [] }, { callId: 'forgotten', participants: [] }], 0);
    assert.equal(await a.lookup('orphan'), undefined, 'old orphan dropped');
    assert.equal(await redis.sismember(`${prefix}node:a:calls`, 'orphan'), 0);
  });
});

describe('pub/sub', () => {
  test('per-call and every-call listeners on another connection; unsubscribe', async () => {
    const prefix = `t${++prefixN}:`;
    const pubBus = new RedisBus(client(), client(), prefix, log);
    const subBus = new RedisBus(client(), client(), prefix, log);
    const one: CallEvent[] = [];
    const every: CallEvent[] = [];
    const s1 = subBus.subscribe('c1', (e) => one.push(e));
    const s2 = subBus.subscribe(null, (e) => every.push(e));
    await Promise.all([s1.ready, s2.ready]);
    pubBus.publish({ type: 'participant_joined', callId: 'c1', node: 'a', ts: 1, userId: 'alice' });
    pubBus.publish({ type: 'room_closed', callId: 'c2', node: 'a', ts: 2, reason: 'cleanup' });
    await until(() => one.length === 1 && every.length === 2, 2000, 'events');
    assert.deepEqual(one[0], { type: 'participant_joined', callId: 'c1', node: 'a', ts: 1, userId: 'alice' });
    assert.deepEqual(every.map((e) => e.callId), ['c1', 'c2']);
    s1.close();
    await sleep(100);
    pubBus.publish({ type: 'room_closed', callId: 'c1', node: 'a', ts: 3, reason: 'cleanup' });
    await until(() => every.length === 3, 2000, 'third event');
    assert.equal(one.length, 1, 'unsubscribed');
    s2.close();
    await pubBus.close();
    await subBus.close();
  });
});
