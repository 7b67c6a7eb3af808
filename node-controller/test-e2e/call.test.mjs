// Browser end to end (ISSUE4 "Done when"): two headless Chromium pages run the
// demo page flow through the REST API and hear each other; call_connected
// arrives exactly once on both event sockets; one page dies abruptly and
// within the grace period + 2 s its resources are gone (room and worker dump)
// and the other page got participant_left; RTC-07 returns exact counts and
// nothing of the call is left in the worker.
//
// Run: bash test-e2e/run.sh   (builds, then a loopback-only netns; needs root)
// The server under test: CONTROLLER_CMD (sh -c, cwd node-controller/; gets
// HOST, PORT, JWT_SECRET, RTC_* env), default the controller (node dist/src/server.js).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import {
  startController, openUser, waitFor, sleep, demoState, audioIn, clickJoin, workerIds as workerIdsOf, chatReady, releasedFor,
} from './lib/harness.mjs';

const GRACE_MS = 1500;
const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const callId = `call-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub, extra = {}) => signJwt({ sub, callId, ...extra }, secret);
const serviceToken = signJwt({ sub: 'app-backend', role: 'service' }, secret);

const count = (events, type) => events.filter((e) => e.type === type).length;
const workerIds = (ctl) => workerIdsOf(ctl, serviceToken);

test('two browsers call through the controller; abrupt close; RTC-07', { timeout: 120_000 }, async (t) => {
  await buildDemo();
  const ctl = await startController({ secret, env: { RTC_DISCONNECT_GRACE_MS: String(GRACE_MS), RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' } });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
  });
  const diagnose = async (err) => {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    parts.push(ctl.logTail());
    err.message = parts.join('\n');
    throw err;
  };

  try {
    const baseline = await workerIds(ctl);
    if (!baseline) t.diagnostic('GET /dev/workers/dump not available: worker-dump checks skipped');

    // ---- both join and send their microphone
    const alice = await openUser(`${ctl.url}/?callId=${callId}&token=${token('alice')}`, 'alice');
    users.push(alice);
    await clickJoin(alice);
    const bob = await openUser(`${ctl.url}/?callId=${callId}&token=${token('bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);

    // ---- they hear each other: inbound audio bytes rise on both for >= 5 s
    for (const u of [alice, bob]) await waitFor(`${u.label} receives audio`, async () => (await audioIn(u)) > 0, { timeout: 15_000 });
    const last = { alice: await audioIn(alice), bob: await audioIn(bob) };
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      for (const u of [alice, bob]) {
        const now = await audioIn(u);
        assert.ok(now > last[u.label], `${u.label}: inbound audio bytes did not rise (${last[u.label]} -> ${now}) at sample ${i + 1}`);
        last[u.label] = now;
      }
    }

    // ---- call_connected exactly once on both event sockets
    for (const u of [alice, bob]) {
      const s = await waitFor(`${u.label} got call_connected`, async () => {
        const st = await demoState(u);
        return count(st.events, 'call_connected') > 0 && st;
      });
      assert.equal(count(s.events, 'call_connected'), 1, `${u.label}: call_connected ${count(s.events, 'call_connected')} times`);
    }
    const room = await ctl.get(`/rtc/rooms/${callId}`, serviceToken);
    assert.equal(room.status, 200);
    assert.deepEqual(room.data.participants.map((p) => p.userId).sort(), ['alice', 'bob']);

    // ---- bob's browser dies abruptly (SIGKILL: no leave, no pagehide)
    await chatReady([alice, bob]);
    const bobIds = (await demoState(bob)).ids;
    const bobObjects = [...bobIds.transports, ...bobIds.producers, ...bobIds.consumers, ...bobIds.dataProducers, ...bobIds.dataConsumers];
    assert.equal(bobIds.transports.length, 2);
    if (baseline) {
      const ids = await workerIds(ctl);
      for (const id of bobObjects) assert.ok(ids.has(id), `worker dump lacks bob's ${id} before the kill`);
    }
    const killedAt = Date.now();
    bob.kill();
    users.splice(users.indexOf(bob), 1);
    bob.close();
    const deadline = GRACE_MS + 2000;
    await waitFor('alice got participant_left for bob', async () => {
      const st = await demoState(alice);
      return st.events.some((e) => e.type === 'participant_left' && e.userId === 'bob');
    }, { timeout: deadline - (Date.now() - killedAt) });
    await waitFor('room has only alice', async () => {
      const r = await ctl.get(`/rtc/rooms/${callId}`, serviceToken);
      return r.status === 200 && r.data.participants.length === 1 && r.data.participants[0].userId === 'alice';
    }, { timeout: Math.max(100, deadline - (Date.now() - killedAt)) });
    if (baseline) {
      await waitFor("bob's transports/producers/consumers gone from the worker dump", async () => {
        const ids = await workerIds(ctl);
        return bobObjects.every((id) => !ids.has(id));
      }, { timeout: Math.max(100, deadline - (Date.now() - killedAt)) });
    }
    t.diagnostic(`bob cleaned up ${Date.now() - killedAt} ms after SIGKILL (grace ${GRACE_MS} ms)`);
    const left = (await demoState(alice)).events.find((e) => e.type === 'participant_left');
    t.diagnostic(`participant_left ${JSON.stringify(left)}`);

    // ---- RTC-07 with a service token: exact counts, then nothing left
    const aliceIds = await waitFor('alice dropped her consumers of bob', async () => {
      const st = await demoState(alice);
      return st.ids.consumers.length === 0 && st.ids.dataConsumers.length === 0 && st.ids;
    }, { timeout: 3000 });
    const expected = releasedFor([aliceIds]);
    assert.deepEqual(expected, { transports: 2, producers: 1, consumers: 0, dataProducers: 1, dataConsumers: 0 });
    const cleanup = await ctl.del(`/rtc/rooms/${callId}/cleanup`, serviceToken);
    assert.equal(cleanup.status, 200, JSON.stringify(cleanup.data));
    assert.deepEqual(cleanup.data, { cleaned: true, released: expected });
    const after = await ctl.get(`/rtc/rooms/${callId}`, serviceToken);
    assert.equal(after.status, 404);
    assert.equal(after.data.error, 'ROOM_NOT_FOUND');
    const again = await ctl.del(`/rtc/rooms/${callId}/cleanup`, serviceToken);
    assert.equal(again.status, 404);
    if (baseline) {
      const ids = await workerIds(ctl);
      const extra = [...ids].filter((id) => !baseline.has(id));
      assert.deepEqual(extra, [], 'objects left in the worker after RTC-07');
    }
    await waitFor('alice told the room closed', async () => (await demoState(alice)).phase === 'left', { timeout: 3000 })
      .catch((err) => t.diagnostic(`note: ${err.message}`));
  } catch (err) {
    await diagnose(err);
  }
});
