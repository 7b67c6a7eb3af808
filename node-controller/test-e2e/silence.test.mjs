// Media silence with real browsers (issue 12): two Chromium pages in a call;
// alice's microphone track stops (no RTP reaches the SFU): bob's page gets
// media_silence within RTC_SILENCE_THRESHOLD_MS + 1 s; a fresh track: bob
// gets media_resumed. The app backend hears the same as signed webhooks
// (a receiver in this test), and call_ended's billable time leaves out the
// silent stretch.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import { startController, openUser, waitFor, sleep, audioIn, clickJoin } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { startReceiver } = require('../dist/test/webhook-receiver.js');

const THRESHOLD_MS = 3000;
const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const whSecret = crypto.randomBytes(24).toString('hex');
const callId = `sil-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub) => signJwt({ sub, callId }, secret);

const eventsOf = (u) => u.page.evaluate(() => window.demo.state.events);

test('stop alice\'s track: media_silence within threshold + 1 s; a new track: media_resumed; webhooks alike', { timeout: 120_000 }, async (t) => {
  await buildDemo();
  const receiver = await startReceiver(whSecret, 'sfu');
  const ctl = await startController({
    secret,
    env: { RTC_SILENCE_THRESHOLD_MS: String(THRESHOLD_MS), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: whSecret, RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' },
  });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
    await receiver.close();
  });
  try {
    const alice = await openUser(`${ctl.url}/?callId=${callId}&token=${token('alice')}`, 'alice');
    users.push(alice);
    await clickJoin(alice);
    const bob = await openUser(`${ctl.url}/?callId=${callId}&token=${token('bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);
    for (const u of [alice, bob]) await waitFor(`${u.label} receives audio`, async () => (await audioIn(u)) > 0, { timeout: 15_000 });
    await waitFor('call_connected', async () => (await eventsOf(bob)).some((e) => e.type === 'call_connected'));
    await sleep(2000);
    assert.equal((await eventsOf(bob)).filter((e) => e.type === 'media_silence').length, 0, 'no silence while both talk');

    // alice's microphone stops: her sender has no track, no RTP leaves the page
    const stoppedAt = Date.now();
    await alice.page.evaluate(() => window.demo.stopMic());
    const silence = await waitFor('media_silence on bob\'s page', async () =>
      (await eventsOf(bob)).find((e) => e.type === 'media_silence'), { timeout: THRESHOLD_MS + 4000, every: 50 });
    const delay = silence.at - stoppedAt;
    assert.equal(silence.userId, 'alice');
    assert.equal(silence.kind, 'audio');
    assert.ok(delay >= THRESHOLD_MS - 300 && delay <= THRESHOLD_MS + 1000, `media_silence ${delay} ms after the track stopped (threshold ${THRESHOLD_MS})`);
    const before = await audioIn(bob);
    await sleep(600);
    assert.ok((await audioIn(bob)) - before < 200, 'bob still receives alice\'s audio');
    assert.ok((await eventsOf(alice)).some((e) => e.type === 'media_silence'), 'alice is told too');

    // a fresh track
    const restartedAt = Date.now();
    await alice.page.evaluate(() => window.demo.restartMic());
    const resumed = await waitFor('media_resumed on bob\'s page', async () =>
      (await eventsOf(bob)).find((e) => e.type === 'media_resumed'), { timeout: 4000, every: 50 });
    const resumeDelay = resumed.at - restartedAt;
    assert.equal(resumed.producerId, silence.producerId);
    assert.ok(resumeDelay <= 1500, `media_resumed ${resumeDelay} ms after the new track`);
    const b2 = await audioIn(bob);
    await waitFor('bob hears alice again', async () => (await audioIn(bob)) > b2 + 500, { timeout: 5000 });

    // webhooks: the same events, signed, then the call ends
    await receiver.waitFor((acc) => acc.some((e) => e.event === 'media_resumed'), 5000, 'media_resumed webhook');
    await sleep(1000);
    const leftAt = Date.now();
    for (const u of [alice, bob]) await u.page.evaluate(() => window.demo.leave());
    await receiver.waitFor((acc) => acc.some((e) => e.event === 'participant_left' && e.userId === 'bob'), 5000);
    const svc = signJwt({ sub: 'backend', role: 'service' }, secret);
    assert.equal((await ctl.del(`/rtc/rooms/${callId}/cleanup`, svc)).status, 200);
    await receiver.waitFor((acc) => acc.some((e) => e.event === 'call_ended'), 5000, 'call_ended webhook');
    const got = receiver.accepted.filter((e) => e.callId === callId);
    const kinds = got.map((e) => e.event);
    for (const k of ['call_started', 'call_connected', 'media_silence', 'media_resumed', 'call_ended']) assert.ok(kinds.includes(k), `${k} missing: ${kinds}`);
    assert.ok(receiver.attempts.every((a) => a.signatureOk));
    assert.deepEqual(got.map((e) => e.seq), got.map((_, i) => i + 1));
    const ended = got.find((e) => e.event === 'call_ended');
    const connectedAt = Date.parse(ended.connectedAt);
    // billed: connected -> alice's last RTP (~ the stop), then resumed -> the first leave
    const expected = (stoppedAt - connectedAt) + (leftAt - restartedAt);
    const err = ended.connectedDurationMs - expected;
    assert.ok(err > -1500 && err < 1500, `billable ${ended.connectedDurationMs} ms, expected about ${expected} ms`);
    t.diagnostic(`browser silence: media_silence ${delay} ms after the track stopped (threshold ${THRESHOLD_MS} ms), media_resumed ${resumeDelay} ms after the new track; billable ${ended.connectedDurationMs} ms vs ${expected} ms of two-way media (${err >= 0 ? '+' : ''}${err} ms)`);
  } catch (err) {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    parts.push(ctl.logTail());
    err.message = parts.join('\n');
    throw err;
  }
});
