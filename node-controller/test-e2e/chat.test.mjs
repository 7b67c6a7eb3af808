// The demo page's text chat over data channels (issue 10 item 7): two
// headless Chromium pages join one call; each produces its 'chat' data
// producer (POST /rtc/data-producers) and consumes the other's
// (new_data_producer / GET /rtc/rooms -> POST /rtc/data-consumers); a message
// typed into one page's form shows in the other's list (as text: markup in a
// message stays text), both ways, in order; a page that joins later gets the
// earlier participants' chats; Leave closes its data producer and the others'
// data consumers of it (data_producer_closed); RTC-07 counts the data objects
// and nothing is left in the worker.
// Run: bash test-e2e/run.sh chat.test.mjs (see call.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import {
  startController, openUser, waitFor, demoState, clickJoin, workerIds, chatReady, releasedFor, stillInWorker,
} from './lib/harness.mjs';

const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const callId = `chat-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub) => signJwt({ sub, callId }, secret);
const serviceToken = signJwt({ sub: 'app-backend', role: 'service' }, secret);

/** The chat list as the page shows it: one line per message. */
const chatLines = (u) => u.page.evaluate(() => [...document.querySelectorAll('#chat li')].map((li) => li.textContent));
/** Types a message into the page's form and presses Send. */
async function type(u, text) {
  await u.page.fill('#chatText', text);
  await u.page.click('#chatSend');
}
const waitLine = (u, line, timeout = 5000) =>
  waitFor(`${u.label} shows "${line}"`, async () => (await chatLines(u)).includes(line), { timeout });

test('demo chat: two pages exchange messages over data channels; a late joiner; Leave; RTC-07', { timeout: 120_000 }, async (t) => {
  await buildDemo();
  const ctl = await startController({ secret, env: { RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' } });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
  });
  try {
    const baseline = await workerIds(ctl, serviceToken);
    const alice = await openUser(`${ctl.url}/?callId=${callId}&token=${token('alice')}`, 'alice');
    users.push(alice);
    await clickJoin(alice);
    const bob = await openUser(`${ctl.url}/?callId=${callId}&token=${token('bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);
    await chatReady([alice, bob]);
    // The data channels open once SCTP is up over each transport's DTLS.
    await waitFor('both chat producers open', async () => {
      for (const u of [alice, bob]) {
        if (!(await u.page.evaluate(() => window.demo.state.chatProducer?.readyState === 'open'))) return false;
      }
      return true;
    }, { timeout: 10_000 });

    const t0 = Date.now();
    await type(alice, 'hello bob');
    await waitLine(bob, 'alice: hello bob');
    t.diagnostic(`alice -> bob in ${Date.now() - t0} ms (typed, shown)`);
    assert.deepEqual(await chatLines(alice), ['you: hello bob']);
    await type(bob, 'hi alice 😀');
    await waitLine(alice, 'bob: hi alice 😀');
    // Markup is text, never HTML.
    await type(bob, '<img src=x onerror="window.pwned=1"><b>bold</b>');
    await waitLine(alice, 'bob: <img src=x onerror="window.pwned=1"><b>bold</b>');
    assert.equal(await alice.page.evaluate(() => document.querySelectorAll('#chat img').length), 0);
    assert.ok(await alice.page.evaluate(() => [...document.querySelectorAll('#chat li')].every((li) => li.children.length === 1)),
      'each chat line has only its name element');
    assert.equal(await alice.page.evaluate(() => window.pwned), undefined);
    // Ten in a row arrive in order.
    await alice.page.evaluate(() => { for (let i = 0; i < 10; i++) window.demo.sendChat(`n${i}`); });
    await waitLine(bob, 'alice: n9');
    const got = (await chatLines(bob)).filter((l) => /^alice: n\d$/.test(l));
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `alice: n${i}`));

    // A third page joins later: it consumes both chats, both consume its one.
    const carol = await openUser(`${ctl.url}/?callId=${callId}&token=${token('carol')}`, 'carol');
    users.push(carol);
    await clickJoin(carol);
    await chatReady([alice, bob, carol]);
    await waitFor('carol chat open', async () => carol.page.evaluate(() => window.demo.state.chatProducer?.readyState === 'open'), { timeout: 10_000 });
    await type(carol, 'carol here');
    await waitLine(alice, 'carol: carol here');
    await waitLine(bob, 'carol: carol here');
    await type(alice, 'welcome');
    await waitLine(carol, 'alice: welcome');

    // carol leaves: her data producer closes, the others' data consumers of it with it.
    const carolIds = (await demoState(carol)).ids;
    await carol.page.click('#leave');
    await waitFor('carol left', async () => (await demoState(carol)).phase === 'left', { timeout: 5000 });
    for (const u of [alice, bob]) {
      await waitFor(`${u.label} got data_producer_closed for carol's chat`, async () => (await demoState(u)).events
        .some((e) => e.type === 'data_producer_closed' && e.userId === 'carol' && e.dataProducerId === carolIds.dataProducers[0]), { timeout: 3000 });
    }
    await chatReady([alice, bob]);
    assert.deepEqual(await stillInWorker(ctl, serviceToken, carolIds), [], "carol's objects still in the worker after Leave");

    // RTC-07: exact counts, data objects included; nothing left.
    const expected = releasedFor([(await demoState(alice)).ids, (await demoState(bob)).ids]);
    assert.equal(expected.dataProducers, 2);
    assert.equal(expected.dataConsumers, 2);
    const room = await ctl.get(`/rtc/rooms/${callId}`, serviceToken);
    assert.deepEqual(room.data.participants.map((p) => p.dataProducers.map((d) => d.label)), [['chat'], ['chat']]);
    const cleanup = await ctl.del(`/rtc/rooms/${callId}/cleanup`, serviceToken);
    assert.deepEqual(cleanup.data, { cleaned: true, released: expected });
    if (baseline) {
      await waitFor('nothing of the call left in the worker', async () => {
        const ids = await workerIds(ctl, serviceToken);
        return [...ids].every((id) => baseline.has(id));
      }, { timeout: 3000 });
    }
  } catch (err) {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    parts.push(ctl.logTail());
    err.message = parts.join('\n');
    throw err;
  }
});
