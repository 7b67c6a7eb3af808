// The /ops page in a real browser (issue 12): two Chromium pages in a call
// (alice with her camera), a third opens /ops?token=<service token>: the
// live call is listed and every participant's streams are drawn as charts
// with points and non-zero bitrate; a screenshot goes to the test's
// artifacts (E2E_ARTIFACTS, default node-controller/test-e2e/artifacts/ops.png).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import { startController, openUser, waitFor, audioIn, clickJoin, controllerDir } from './lib/harness.mjs';

const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const callId = `ops-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub) => signJwt({ sub, callId }, secret);
const svc = signJwt({ sub: 'operator', role: 'service' }, secret);
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(controllerDir, 'test-e2e', 'artifacts');

test('/ops lists the live call and charts its streams', { timeout: 120_000 }, async (t) => {
  await buildDemo();
  const ctl = await startController({ secret, env: { RTC_STATS_INTERVAL_MS: '1000', RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' } });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
  });
  try {
    // without a service token the page is not served
    assert.equal((await fetch(`${ctl.url}/ops`)).status, 401);
    assert.equal((await fetch(`${ctl.url}/ops?token=${token('alice')}`)).status, 403);

    const alice = await openUser(`${ctl.url}/?callId=${callId}&token=${token('alice')}&camera=1`, 'alice');
    users.push(alice);
    await clickJoin(alice);
    const bob = await openUser(`${ctl.url}/?callId=${callId}&token=${token('bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);
    for (const u of [alice, bob]) await waitFor(`${u.label} receives audio`, async () => (await audioIn(u)) > 0, { timeout: 15_000 });

    const ops = await openUser(`${ctl.url}/ops?token=${svc}`, 'ops', { ready: () => !!window.ops });
    users.push(ops);
    const view = await waitFor('ops charts with points', async () => {
      const v = await ops.page.evaluate((id) => {
        const row = document.querySelector(`#calls tr[data-call="${id}"]`);
        const box = document.querySelector(`.call[data-call="${id}"]`);
        if (!row || !box) return null;
        const streams = [...box.querySelectorAll('.stream')].map((s) => ({
          user: s.closest('.participant').dataset.user,
          direction: s.dataset.direction,
          label: s.querySelector('.label').textContent,
          charts: Object.fromEntries([...s.querySelectorAll('.chart')].map((c) => [c.dataset.metric, { points: Number(c.dataset.points), max: Number(c.dataset.max) }])),
        }));
        return { row: row.textContent, streams, polls: window.ops.state.polls, status: document.getElementById('status').textContent };
      }, callId);
      // alice sends audio + video and receives bob's audio; bob sends audio and receives both of alice's
      if (!v || v.streams.length < 6) return false;
      return v.streams.every((s) => s.charts.bitrate.points >= 8 && s.charts.bitrate.max > 0) && v;
    }, { timeout: 30_000, every: 500 });
    assert.match(view.row, /alice, bob|bob, alice/);
    assert.match(view.row, /yes/, 'connected');
    const kinds = view.streams.map((s) => `${s.user}:${s.direction}`).sort();
    assert.deepEqual(kinds, ['alice:recv', 'alice:send', 'alice:send', 'bob:recv', 'bob:recv', 'bob:send']);
    for (const s of view.streams) {
      for (const m of ['bitrate', 'loss', 'jitter', 'rtt', 'score']) assert.ok(s.charts[m]?.points >= 8, `${s.user} ${s.direction} ${m}: ${JSON.stringify(s.charts[m])}`);
      assert.ok(s.charts.score.max > 0, `${s.user} ${s.direction}: score ${s.charts.score.max}`);
    }
    fs.mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, 'ops.png');
    await ops.page.setViewportSize({ width: 1280, height: 900 });
    await ops.page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10_000);
    t.diagnostic(`/ops: ${view.streams.length} streams charted after ${view.polls} polls; screenshot ${path.relative(process.cwd(), shot)}`);
  } catch (err) {
    const parts = [err.message];
    for (const u of users) if (u.label !== 'ops') parts.push(await u.describe());
    parts.push(ctl.logTail());
    err.message = parts.join('\n');
    throw err;
  }
});
