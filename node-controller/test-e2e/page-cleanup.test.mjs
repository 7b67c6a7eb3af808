// The demo page's own cleanup paths (ISSUE4 item 6), with a long grace period
// (5 s) so that an explicit cleanup (< 2 s) cannot be mistaken for the
// controller's disconnect timeout:
//   1. event socket dropped once: the page reconnects within the grace
//      period, stays in the call, nobody is told it left;
//   2. Leave button: DELETE participants/me, the peer is told at once;
//   3. rejoin, then tab close: the pagehide keepalive DELETE, the peer is told at once;
//   4. event socket that cannot come back: the page gives up (backoff, ~7.5 s),
//      leaves and releases everything.
// Run: bash test-e2e/run.sh page-cleanup.test.mjs (see call.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import {
  startController, openUser, waitFor, sleep, demoState, audioIn, clickJoin, stillInWorker,
} from './lib/harness.mjs';

const GRACE_MS = 5000;
const EXPLICIT_MS = 2000; // an explicit leave must be seen well before the grace period ends
const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const callId = `call-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub) => signJwt({ sub, callId }, secret);
const serviceToken = signJwt({ sub: 'app-backend', role: 'service' }, secret);

const leftEvents = async (u, userId) => (await demoState(u)).events
  .filter((e) => e.type === 'participant_left' && e.userId === userId);
const participants = async (ctl) => {
  const r = await ctl.get(`/rtc/rooms/${callId}`, serviceToken);
  return r.status === 200 ? r.data.participants.map((p) => p.userId).sort() : [];
};
async function audioRises(u) {
  await waitFor(`${u.label} receives audio`, async () => (await audioIn(u)) > 0, { timeout: 15_000 });
  const a = await audioIn(u);
  await sleep(1000);
  const b = await audioIn(u);
  assert.ok(b > a, `${u.label}: inbound audio bytes did not rise (${a} -> ${b})`);
}

test('demo page cleanup paths: socket loss and back, Leave, tab close, socket lost for good', { timeout: 150_000 }, async (t) => {
  await buildDemo();
  const ctl = await startController({ secret, env: { RTC_DISCONNECT_GRACE_MS: String(GRACE_MS), RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' } });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
  });
  try {
    const carol = await openUser(`${ctl.url}/?callId=${callId}&token=${token('carol')}`, 'carol');
    users.push(carol);
    const dave = await openUser(`${ctl.url}/?callId=${callId}&token=${token('dave')}`, 'dave');
    users.push(dave);
    await clickJoin(carol);
    await clickJoin(dave);
    await audioRises(carol);
    await audioRises(dave);

    // 1. carol's event socket drops; she is back before the grace period ends
    await carol.page.evaluate(() => window.demo.state.ws.close());
    await waitFor('carol reconnected', async () => (await demoState(carol)).socketOpen, { timeout: GRACE_MS });
    await sleep(GRACE_MS + 500);
    assert.deepEqual(await leftEvents(dave, 'carol'), [], 'dave was told carol left although she came back');
    assert.deepEqual(await participants(ctl), ['carol', 'dave']);
    assert.equal((await demoState(carol)).phase, 'joined');
    await audioRises(carol);

    // 2. dave presses Leave
    const daveIds = (await demoState(dave)).ids;
    let t0 = Date.now();
    await dave.page.click('#leave');
    await waitFor('carol told dave left (Leave)', async () => (await leftEvents(carol, 'dave')).length === 1, { timeout: EXPLICIT_MS });
    t.diagnostic(`Leave: participant_left after ${Date.now() - t0} ms`);
    // the server tells carol as soon as it has closed dave's objects, which
    // can be before dave's page has read the answer to its DELETE
    await waitFor("dave's page left", async () => (await demoState(dave)).phase === 'left', { timeout: EXPLICIT_MS });
    assert.deepEqual(await participants(ctl), ['carol']);
    assert.deepEqual(await stillInWorker(ctl, serviceToken, daveIds), [], "dave's objects still in the worker after Leave");

    // 3. dave joins again, then closes the tab (pagehide -> keepalive DELETE)
    await clickJoin(dave);
    await audioRises(carol);
    const daveIds2 = (await demoState(dave)).ids;
    t0 = Date.now();
    await dave.page.close();
    await waitFor('carol told dave left (tab closed)', async () => (await leftEvents(carol, 'dave')).length === 2, { timeout: EXPLICIT_MS });
    t.diagnostic(`tab close: participant_left after ${Date.now() - t0} ms`);
    assert.deepEqual(await participants(ctl), ['carol']);
    assert.deepEqual(await stillInWorker(ctl, serviceToken, daveIds2), [], "dave's objects still in the worker after tab close");

    // 4. carol's event socket is lost for good: every reconnect is refused
    const carolIds = (await demoState(carol)).ids;
    await carol.page.routeWebSocket(/\/rtc\/events/, (ws) => ws.close({ code: 4000, reason: 'test: refused' }));
    t0 = Date.now();
    await carol.page.evaluate(() => window.demo.state.ws.close());
    await waitFor('carol gave up and left', async () => (await demoState(carol)).phase === 'left', { timeout: 12_000 });
    t.diagnostic(`socket lost for good: page left after ${Date.now() - t0} ms`);
    const st = await demoState(carol);
    assert.deepEqual(st.ids, { transports: [], producers: [], consumers: [], dataProducers: [], dataConsumers: [] });
    await waitFor('room without carol', async () => (await participants(ctl)).length === 0, { timeout: EXPLICIT_MS });
    assert.deepEqual(await stillInWorker(ctl, serviceToken, carolIds), [], "carol's objects still in the worker");

    const cleanup = await ctl.del(`/rtc/rooms/${callId}/cleanup`, serviceToken);
    assert.ok(cleanup.status === 404 || cleanup.status === 200, `RTC-07 on an empty room: ${cleanup.status}`);
    if (cleanup.status === 200) assert.deepEqual(cleanup.data.released, { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 });
  } catch (err) {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    parts.push(ctl.logTail());
    err.message = parts.join('\n');
    throw err;
  }
});
