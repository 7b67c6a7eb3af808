// Cluster mode in the browser (issue 11 "Done when"): Debian's redis-server on
// loopback and two controller nodes with their own workers.
//   1. call A: alice's page is served by node1, bob's by node2; they hear each
//      other (inbound audio bytes, packets and audio energy rising; the fake
//      device's tone gives an audio level > 0), call_connected arrives once on
//      each event socket, and RTC-07 through the node that does not own the
//      call returns the exact counts.
//   2. call B (owned by node1, where alice landed): node1 gets SIGKILL (with
//      its worker). Within TTL + 2 s the directory no longer names it; node2
//      answers RTC-01 for the call with a fresh room: bob's page (its event
//      socket relayed by node2) reconnects, learns node_lost and joins again
//      by itself; then alice reloads the page from node2 (her node is gone)
//      and joins; they hear each other again; RTC-07 through node2 (now the
//      owner).
// Run: bash test-e2e/run.sh cluster.test.mjs   (builds, then a loopback-only netns; needs root)
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import { startController, openUser, waitFor, sleep, demoState, clickJoin, workerIds, chatReady, releasedFor } from './lib/harness.mjs';
// The npm test's redis-server helper (compiled by run.sh's tsc).
import { startRedis } from '../dist/test/redis-server.js';

const TTL_MS = 3000;
const GRACE_MS = 5000;
const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const serviceToken = signJwt({ sub: 'app-backend', role: 'service' }, secret);
const tokenFor = (callId, sub) => signJwt({ sub, callId }, secret);
// The page stamps each event with `at` (ms); call_connected brings its own (ISO, the server's).
const timeOf = (e) => (typeof e.at === 'number' ? e.at : Date.parse(e.at));
const count = (events, type, since = 0) => events.filter((e) => e.type === type && timeOf(e) >= since).length;

/** Inbound audio of the page: bytes, packets, energy summed, and the highest level. */
async function audio(u) {
  const st = await u.page.evaluate(() => window.demo.stats());
  const a = st.inbound.filter((x) => x.kind === 'audio');
  return {
    bytes: a.reduce((s, x) => s + x.bytesReceived, 0),
    packets: a.reduce((s, x) => s + x.packetsReceived, 0),
    energy: a.reduce((s, x) => s + x.totalAudioEnergy, 0),
    level: Math.max(0, ...a.map((x) => x.audioLevel)),
  };
}

/** Both pages receive audio that keeps rising for 4 s (8 samples) and carries sound. -> when both first had audio */
async function hearEachOther(users, t, what) {
  for (const u of users) await waitFor(`${u.label} receives audio (${what})`, async () => (await audio(u)).packets > 0, { timeout: 20_000, every: 50 });
  const firstAudio = Date.now();
  const last = {};
  const maxLevel = {};
  for (const u of users) { last[u.label] = await audio(u); maxLevel[u.label] = last[u.label].level; }
  for (let i = 0; i < 8; i++) {
    await sleep(500);
    for (const u of users) {
      const now = await audio(u);
      const before = last[u.label];
      assert.ok(now.bytes > before.bytes && now.packets > before.packets,
        `${u.label} (${what}): inbound audio did not rise at sample ${i + 1}: ${JSON.stringify(before)} -> ${JSON.stringify(now)}`);
      maxLevel[u.label] = Math.max(maxLevel[u.label], now.level);
      last[u.label] = now;
    }
  }
  for (const u of users) {
    assert.ok(last[u.label].energy > 0, `${u.label} (${what}): no audio energy: ${JSON.stringify(last[u.label])}`);
    assert.ok(maxLevel[u.label] > 0, `${u.label} (${what}): audio level never above 0`);
    t.diagnostic(`${what}: ${u.label} got ${last[u.label].packets} packets, ${last[u.label].bytes} bytes, energy ${last[u.label].energy.toFixed(4)}, max level ${maxLevel[u.label].toFixed(3)}`);
  }
  return firstAudio;
}

test('two browsers on two cluster nodes; the owner node dies; both rejoin on the survivor', { timeout: 240_000 }, async (t) => {
  await buildDemo();
  const redis = await startRedis();
  const common = { REDIS_URL: redis.url, CLUSTER_NODE_TTL_MS: String(TTL_MS), RTC_DISCONNECT_GRACE_MS: String(GRACE_MS), RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' };
  const nodes = [];
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    for (const n of nodes) await n.stop();
    await redis.stop();
  });
  const diagnose = async (err) => {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    for (const n of nodes) parts.push(n.logTail(30));
    err.message = parts.join('\n');
    throw err;
  };
  try {
    const node1 = await startController({ secret, env: { ...common, NODE_ID: 'node1', RTC_MIN_PORT: '40000', RTC_MAX_PORT: '40499' } });
    nodes.push(node1);
    const node2 = await startController({ secret, env: { ...common, NODE_ID: 'node2', RTC_MIN_PORT: '40500', RTC_MAX_PORT: '40999' } });
    nodes.push(node2);
    const cluster = await node2.get('/rtc/cluster', serviceToken);
    assert.deepEqual(cluster.data.nodes.map((n) => n.id), ['node1', 'node2']);

    // ------------------------------------------------ 1. call A across the two nodes
    const callA = `call-a-${crypto.randomBytes(3).toString('hex')}`;
    const baseline1 = await workerIds(node1, serviceToken);
    const alice = await openUser(`${node1.url}/?callId=${callA}&token=${tokenFor(callA, 'alice')}`, 'alice');
    users.push(alice);
    await clickJoin(alice);
    const bob = await openUser(`${node2.url}/?callId=${callA}&token=${tokenFor(callA, 'bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);
    const roomA = await node2.get(`/rtc/rooms/${callA}`, serviceToken);
    assert.equal(roomA.status, 200);
    assert.equal(roomA.data.node.id, 'node1', 'alice landed first on node1: it owns call A');
    assert.deepEqual(roomA.data.participants.map((p) => p.userId).sort(), ['alice', 'bob']);
    await hearEachOther([alice, bob], t, 'call A');
    for (const u of [alice, bob]) {
      const s = await waitFor(`${u.label} got call_connected`, async () => {
        const st = await demoState(u);
        return count(st.events, 'call_connected') > 0 && st;
      });
      assert.equal(count(s.events, 'call_connected'), 1, `${u.label}: call_connected ${count(s.events, 'call_connected')} times`);
    }
    // RTC-07 through node2, which forwards to node1: exact counts.
    await chatReady([alice, bob]);
    const expected = releasedFor([(await demoState(alice)).ids, (await demoState(bob)).ids]);
    assert.deepEqual(expected, { transports: 4, producers: 2, consumers: 2, dataProducers: 2, dataConsumers: 2 });
    const cleanA = await node2.del(`/rtc/rooms/${callA}/cleanup`, serviceToken);
    assert.equal(cleanA.status, 200, JSON.stringify(cleanA.data));
    assert.deepEqual(cleanA.data, { cleaned: true, released: expected });
    assert.equal((await node1.get(`/rtc/rooms/${callA}`, serviceToken)).status, 404);
    assert.equal((await node2.get(`/rtc/cluster/calls/${callA}`, serviceToken)).status, 404, 'directory entry gone with the call');
    if (baseline1) {
      const extra = [...(await workerIds(node1, serviceToken))].filter((id) => !baseline1.has(id));
      assert.deepEqual(extra, [], "objects left in node1's worker after RTC-07");
    }
    for (const u of [alice, bob]) await waitFor(`${u.label} told the room closed`, async () => (await demoState(u)).phase === 'left', { timeout: 5000 });

    // ------------------------------------------------ 2. call B; its node dies
    const callB = `call-b-${crypto.randomBytes(3).toString('hex')}`;
    await alice.page.goto(`${node1.url}/?callId=${callB}&token=${tokenFor(callB, 'alice')}`, { waitUntil: 'load' });
    await alice.page.waitForFunction(() => !!window.demo);
    await clickJoin(alice);
    await bob.page.goto(`${node2.url}/?callId=${callB}&token=${tokenFor(callB, 'bob')}`, { waitUntil: 'load' });
    await bob.page.waitForFunction(() => !!window.demo);
    await clickJoin(bob);
    const roomB = await node2.get(`/rtc/rooms/${callB}`, serviceToken);
    assert.equal(roomB.data.node.id, 'node1');
    await hearEachOther([alice, bob], t, 'call B before the kill');
    for (const u of [alice, bob]) {
      await waitFor(`${u.label} got call_connected (B)`, async () => count((await demoState(u)).events, 'call_connected') === 1);
    }

    const killedAt = Date.now();
    await node1.kill();
    nodes.splice(nodes.indexOf(node1), 1);
    // The directory stops naming node1 within TTL + 2 s.
    const entryGone = await waitFor('the directory no longer names node1', async () => {
      const e = await node2.get(`/rtc/cluster/calls/${callB}`, serviceToken);
      return e.status === 200 && e.data.node === null && e.data.state === 'lost' && Date.now();
    }, { timeout: TTL_MS + 2000, every: 50 });
    const swept = await waitFor('node1 swept from the node list', async () => {
      const c = await node2.get('/rtc/cluster', serviceToken);
      return c.status === 200 && c.data.nodes.every((n) => n.id !== 'node1') && Date.now();
    }, { timeout: Math.max(100, TTL_MS + 2000 - (Date.now() - killedAt)), every: 50 });
    t.diagnostic(`after SIGKILL: call entry lost in ${entryGone - killedAt} ms, node swept in ${swept - killedAt} ms (TTL ${TTL_MS} ms)`);
    assert.ok(swept - killedAt <= TTL_MS + 2000);
    const gone = await node2.get(`/rtc/rooms/${callB}`, serviceToken);
    assert.equal(gone.status === 404 || gone.data.node?.id === 'node2', true, `GET /rtc/rooms points at ${JSON.stringify(gone.data)}`);

    // Bob's page (its event socket relayed by node2) reconnects, is told
    // node_lost and joins again by itself: a fresh room on node2. Alice's
    // node is gone: she loads the page from node2 (what a load balancer
    // would do) and joins.
    const bobBack = await waitFor('bob joined again by himself', async () => {
      const st = await bob.page.evaluate(() => ({ phase: window.demo.state.phase, rejoins: window.demo.state.rejoins }));
      return st.phase === 'joined' && st.rejoins === 1 && Date.now();
    }, { timeout: 20_000, every: 50 });
    t.diagnostic(`bob's page joined again ${bobBack - killedAt} ms after SIGKILL`);
    const bobEvents = (await demoState(bob)).events;
    assert.ok(bobEvents.some((e) => e.type === 'room_closed' && e.reason === 'node_lost'), "bob's page was told node_lost");
    await alice.page.goto(`${node2.url}/?callId=${callB}&token=${tokenFor(callB, 'alice')}`, { waitUntil: 'load' });
    await alice.page.waitForFunction(() => !!window.demo);
    await clickJoin(alice);
    const fresh = await node2.get(`/rtc/rooms/${callB}`, serviceToken);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.data.node.id, 'node2', 'a fresh room on the live node');
    assert.notEqual(fresh.data.roomId, roomB.data.roomId);
    assert.deepEqual(fresh.data.participants.map((p) => p.userId).sort(), ['alice', 'bob']);
    const heard = await hearEachOther([alice, bob], t, 'call B after the failover');
    t.diagnostic(`both hear each other again ${heard - killedAt} ms after SIGKILL (alice reloaded after bob was back)`);
    for (const u of [alice, bob]) {
      await waitFor(`${u.label} got call_connected in the fresh room`, async () => count((await demoState(u)).events, 'call_connected', killedAt) > 0);
      assert.equal(count((await demoState(u)).events, 'call_connected', killedAt), 1);
    }

    // RTC-07 through node2, the owner now.
    await chatReady([alice, bob]);
    const exp = releasedFor([(await demoState(alice)).ids, (await demoState(bob)).ids]);
    assert.deepEqual(exp, { transports: 4, producers: 2, consumers: 2, dataProducers: 2, dataConsumers: 2 });
    const cleanB = await node2.del(`/rtc/rooms/${callB}/cleanup`, serviceToken);
    assert.equal(cleanB.status, 200);
    assert.deepEqual(cleanB.data, { cleaned: true, released: exp });
    assert.equal((await node2.del(`/rtc/rooms/${callB}/cleanup`, serviceToken)).status, 404);
  } catch (err) {
    await diagnose(err);
  }
});
