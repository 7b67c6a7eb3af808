// A room larger than one worker in the browser (issue 11 item 5): one
// controller with RTC_WORKERS=2 and RTC_MAX_CONSUMERS_PER_WORKER=1. Alice's
// page joins; a REST-only participant ("bot") produces, alice's page
// consumes it, so the home router is at its limit; bob's page joins and is
// placed on a router of the other worker; the bot leaves. Alice and bob hear
// each other through pipes between the two workers (router.pipeToRouter),
// call_connected arrives once on each page, RTC-07 returns the exact counts
// and nothing of the call is left in either worker.
//
// Needs a worker binary with PipeTransport (skipped otherwise, with the
// reason): RTC_WORKER_BIN=$PWD/../build/mediasoup-worker/mediasoup-worker bash test-e2e/run.sh multi-worker.test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import { startController, openUser, waitFor, sleep, demoState, audioIn, clickJoin, workerIds, repoRoot, chatReady, releasedFor } from './lib/harness.mjs';

const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const callId = `mw-${crypto.randomBytes(4).toString('hex')}`;
const token = (sub) => signJwt({ sub, callId }, secret);
const serviceToken = signJwt({ sub: 'app-backend', role: 'service' }, secret);
const workerBin = process.env.RTC_WORKER_BIN ?? process.env.SFU_WORKER_BIN ?? path.join(repoRoot, 'build', 'sfu-worker');

/** Whether workerBin answers PipeTransport requests (our worker: "not implemented" until it does). */
async function pipeSupport() {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'none' });
  try {
    const router = await worker.createRouter({ mediaCodecs: [] });
    await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSctp: false });
    return null;
  } catch (err) {
    if (/not implemented/i.test(err.message)) return `${workerBin} answers PipeTransport with "not implemented": rooms stay on one worker`;
    throw err;
  } finally {
    worker.close();
  }
}

const botRtp = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: 4242 }],
  rtcp: { cname: 'bot', reducedSize: true },
};

test('two browsers on two workers of one node hear each other through pipes', { timeout: 120_000 }, async (t) => {
  const skip = await pipeSupport();
  if (skip) {
    t.skip(skip);
    return;
  }
  await buildDemo();
  const ctl = await startController({ secret, env: { RTC_WORKERS: '2', RTC_MAX_CONSUMERS_PER_WORKER: '1', RTC_DISCONNECT_GRACE_MS: '60000', RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' } });
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
  const room = async () => (await ctl.get(`/rtc/rooms/${callId}`, serviceToken)).data;
  const who = (r, userId) => r.participants.find((p) => p.userId === userId);

  try {
    const baseline = await workerIds(ctl, serviceToken);
    assert.ok(baseline, 'GET /dev/workers/dump');

    const alice = await openUser(`${ctl.url}/?callId=${callId}&token=${token('alice')}`, 'alice');
    users.push(alice);
    await clickJoin(alice);

    // The bot produces; alice's page consumes it: the home router reaches the limit (1 consumer).
    const bot = token('bot');
    assert.equal((await ctl.get(`/rtc/capabilities?callId=${callId}`, bot)).status, 200);
    const tr = await ctl.request('POST', '/rtc/transports', bot, { callId, direction: 'send' });
    assert.equal(tr.status, 201, JSON.stringify(tr.data));
    const pr = await ctl.request('POST', '/rtc/producers', bot, { callId, transportId: tr.data.transport.id, kind: 'audio', rtpParameters: botRtp });
    assert.equal(pr.status, 201, JSON.stringify(pr.data));
    await waitFor('alice consumes the bot', async () => who(await room(), 'alice')?.consumers === 1, { timeout: 10_000 });

    const bob = await openUser(`${ctl.url}/?callId=${callId}&token=${token('bob')}`, 'bob');
    users.push(bob);
    await clickJoin(bob);
    const r = await room();
    const aliceWorker = who(r, 'alice').worker;
    const bobWorker = who(r, 'bob').worker;
    assert.ok(Number.isInteger(aliceWorker) && Number.isInteger(bobWorker), JSON.stringify(r));
    assert.notEqual(aliceWorker, bobWorker, 'alice and bob on different workers');
    t.diagnostic(`alice on worker ${aliceWorker}, bob on worker ${bobWorker}`);
    assert.equal((await ctl.del(`/rtc/rooms/${callId}/participants/me`, bot)).status, 200);

    // They hear each other: inbound audio bytes rise on both for 5 s.
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
    t.diagnostic(`inbound audio bytes: alice ${last.alice}, bob ${last.bob}`);
    for (const u of [alice, bob]) {
      const s = await waitFor(`${u.label} got call_connected`, async () => {
        const st = await demoState(u);
        return st.events.some((e) => e.type === 'call_connected') && st;
      });
      assert.equal(s.events.filter((e) => e.type === 'call_connected').length, 1, `${u.label}: call_connected once`);
    }

    // RTC-07: what the pages own, exactly; then nothing of the call in either worker.
    await chatReady([alice, bob]);
    const expected = releasedFor([(await demoState(alice)).ids, (await demoState(bob)).ids]);
    assert.deepEqual(expected, { transports: 4, producers: 2, consumers: 2, dataProducers: 2, dataConsumers: 2 });
    const cleanup = await ctl.del(`/rtc/rooms/${callId}/cleanup`, serviceToken);
    assert.deepEqual(cleanup.data, { cleaned: true, released: expected });
    await waitFor('nothing of the call left in the workers', async () => {
      const ids = await workerIds(ctl, serviceToken);
      return [...ids].every((id) => baseline.has(id));
    }, { timeout: 3000 });
  } catch (err) {
    await diagnose(err);
  }
});
