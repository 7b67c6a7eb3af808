// Webhooks to the app backend (WEBHOOK_URL), single node: signed like
// LiveKit's (Authorization: HS256 JWT whose sha256 claim is the body's
// hash), one call's events in order, retried with backoff when the receiver
// fails (on purpose here), no duplicates, never blocking the API; the
// billable time of call_ended against the media time the test measured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config';
import { api, join, openEvents, SECRET, sleep, startApp, until, userToken } from './helpers';
import { plainSendTransport, produceOpus, RtpSender } from './media-helpers';
import { startReceiver, type Receiver } from './webhook-receiver';

const WH_SECRET = 'webhook-secret-0123456789abcdef';
const WH_KEY = 'sfu-test';

function env(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { WEBHOOK_URL: url, WEBHOOK_SECRET: WH_SECRET, WEBHOOK_KEY: WH_KEY, WEBHOOK_TIMEOUT_MS: '400', ...extra };
}

const ofCall = (r: Receiver, callId: string) => r.accepted.filter((e) => e.callId === callId);
const names = (evs: any[]) => evs.map((e) => (e.userId ? `${e.event}:${e.userId}` : e.event));

/** Every attempt signed and well-formed; same id => same bytes; ids unique among accepted; seq 1..n per room. */
function checkDeliveries(r: Receiver): void {
  const bodies = new Map<string, string>();
  for (const a of r.attempts) {
    assert.ok(a.signatureOk, `attempt ${a.id} ${a.event?.event}: ${a.signatureError}`);
    assert.equal(a.contentType, 'application/webhook+json');
    assert.ok(!/^Bearer /i.test(a.authorization ?? ''), 'the raw token, as LiveKit sends it');
    const prev = bodies.get(a.id);
    if (prev !== undefined) assert.equal(a.body, prev, `a retry of ${a.id} sent other bytes`);
    bodies.set(a.id, a.body);
    for (const f of ['id', 'event', 'callId', 'at']) assert.ok(a.event[f], `${f} missing in ${a.body}`);
    assert.ok(!Number.isNaN(Date.parse(a.event.at)));
  }
  const ids = r.accepted.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'an id accepted twice');
  const byRoom = new Map<string, number[]>();
  for (const e of r.accepted) {
    if (!byRoom.has(e.roomId)) byRoom.set(e.roomId, []);
    byRoom.get(e.roomId)!.push(e.seq);
  }
  for (const [roomId, seqs] of byRoom) {
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `room ${roomId}: events out of order or missing: ${seqs}`);
  }
}

describe('webhooks', () => {
  let receiver: Receiver;
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    receiver = await startReceiver(WH_SECRET, WH_KEY);
    app = await startApp(env(receiver.url, { RTC_SILENCE_THRESHOLD_MS: '2000' }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await receiver.close();
  });

  test('a call: every event once, in order, signed, through deliberate failures; billable time within 100 ms of the media time', async () => {
    // Fail on purpose: every third first attempt 500 (backoff), call_connected's first attempt is
    // processed but answered too late (the sender retries: same id), one 503 with Retry-After.
    receiver.behaviour = ({ n, event, attempt }) => {
      if (event.event === 'call_connected' && attempt === 1) return 'slow';
      if (event.event === 'participant_joined' && event.userId === 'bob' && attempt === 1) return 503;
      return attempt === 1 && n % 3 === 0 ? 500 : 200;
    };
    const callId = 'wh-1';
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const evs = [await openEvents(base, callId, alice.tok), await openEvents(base, callId, bob.tok)];
    await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
    const pa = await plainSendTransport(app, callId, 'alice');
    const pb = await plainSendTransport(app, callId, 'bob');
    const a = await produceOpus(app, alice, pa.id);
    const b = await produceOpus(app, bob, pb.id);
    const sa = new RtpSender(pa, a.ssrc);
    const sb = new RtpSender(pb, b.ssrc);
    try {
      sa.start();
      await sleep(300);
      sb.start(); // the call connects with bob's first packet: the media time starts here
      const connected = await evs[0].waitFor((e) => e.type === 'call_connected', 3000);
      // Meanwhile the API answers at once, whatever the webhook receiver does.
      const t0 = performance.now();
      assert.equal((await api(app, 'GET', `/rtc/rooms/${callId}`, alice.tok)).status, 200);
      assert.ok(performance.now() - t0 < 200);
      await sleep(2500);
      const endAt = Date.now(); // media flows until the cleanup
      const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, alice.tok);
      assert.equal(r.status, 200);
      const media = endAt - sb.firstAt!;

      await receiver.waitFor((acc) => ofCall(receiver, callId).some((e) => e.event === 'call_ended'), 15_000, 'call_ended');
      const got = ofCall(receiver, callId);
      assert.deepEqual(names(got), [
        'call_started', 'participant_joined:alice', 'participant_joined:bob', 'call_connected',
        'participant_left:alice', 'participant_left:bob', 'call_ended',
      ]);
      checkDeliveries(receiver);
      const started = got[0];
      assert.equal(started.roomId, app.rooms.get(callId)?.id ?? started.roomId);
      const cc = got.find((e) => e.event === 'call_connected');
      assert.equal(cc.connectedAt, connected.at, 'the webhook carries the billing start the sockets got');
      assert.equal(got[4].reason, 'call_ended');
      const ended = got[6];
      assert.equal(ended.reason, 'cleanup');
      assert.equal(ended.connectedAt, connected.at);
      const err = ended.connectedDurationMs - media;
      assert.ok(Math.abs(err) <= 100, `billable ${ended.connectedDurationMs} ms, media ${media} ms (${err} ms)`);
      assert.ok(ended.durationMs >= ended.connectedDurationMs);
      // the failures really happened and were retried
      const failed = receiver.attempts.filter((x) => x.answer !== 200);
      assert.ok(failed.length >= 3, `only ${failed.length} deliberate failures`);
      assert.ok(receiver.redelivered.length >= 1, 'the late-answered delivery came again');
      assert.ok(app.webhooks!.stats.retried >= failed.length);
      const ccAttempts = receiver.attempts.filter((x) => x.event.event === 'call_connected');
      assert.ok(ccAttempts.length >= 2 && new Set(ccAttempts.map((x) => x.id)).size === 1, 'one id across the retries');
      console.log(`# webhooks: billable ${ended.connectedDurationMs} ms for ${media} ms of media (${err >= 0 ? '+' : ''}${err} ms); `
        + `${receiver.attempts.length} attempts for ${got.length} events (${failed.length} failed on purpose)`);
    } finally {
      sa.close();
      sb.close();
      for (const e of evs) e.ws.close();
    }
  });

  test('media_silence / media_resumed are webhooks too; leave stops the billable time', async () => {
    receiver.behaviour = () => 200;
    const callId = 'wh-2';
    const alice = await join(app, callId, 'alice');
    const bob = await join(app, callId, 'bob');
    const evs = [await openEvents(base, callId, alice.tok), await openEvents(base, callId, bob.tok)];
    await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
    const pa = await plainSendTransport(app, callId, 'alice');
    const pb = await plainSendTransport(app, callId, 'bob');
    const a = await produceOpus(app, alice, pa.id);
    const b = await produceOpus(app, bob, pb.id);
    const sa = new RtpSender(pa, a.ssrc);
    const sb = new RtpSender(pb, b.ssrc);
    try {
      sa.start();
      sb.start();
      await evs[0].waitFor((e) => e.type === 'call_connected', 3000);
      sa.stop();
      await receiver.waitFor(() => ofCall(receiver, callId).some((e) => e.event === 'media_silence'), 5000, 'media_silence');
      const s = ofCall(receiver, callId).find((e) => e.event === 'media_silence');
      assert.equal(s.userId, 'alice');
      assert.equal(s.producerId, a.producerId);
      assert.ok(s.lastRtpAt && s.silentSince);
      sa.start();
      await receiver.waitFor(() => ofCall(receiver, callId).some((e) => e.event === 'media_resumed'), 3000, 'media_resumed');
      assert.ok(ofCall(receiver, callId).find((e) => e.event === 'media_resumed').silentMs >= 2000);
      await sleep(1000);
      assert.equal((await api(app, 'DELETE', `/rtc/rooms/${callId}/participants/me`, bob.tok)).status, 200);
      await receiver.waitFor(() => ofCall(receiver, callId).some((e) => e.event === 'participant_left'), 3000);
      const room = app.rooms.get(callId)!;
      const billed = room.clock.durationMs();
      await sleep(500);
      assert.equal(room.clock.durationMs(), billed, 'alice alone is not billed');
      assert.equal(room.clock.running, false);
      await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, alice.tok);
      await receiver.waitFor(() => ofCall(receiver, callId).some((e) => e.event === 'call_ended'), 3000);
      const ended = ofCall(receiver, callId).find((e) => e.event === 'call_ended');
      assert.equal(ended.connectedDurationMs, billed);
      assert.deepEqual(names(ofCall(receiver, callId)), [
        'call_started', 'participant_joined:alice', 'participant_joined:bob', 'call_connected',
        'media_silence:alice', 'media_resumed:alice', 'participant_left:bob', 'participant_left:alice', 'call_ended',
      ]);
      checkDeliveries(receiver);
    } finally {
      sa.close();
      sb.close();
      for (const e of evs) e.ws.close();
    }
  });

  test('a receiver that is down: the API is not slowed, events wait and go once it is back', async () => {
    const flaky = await startReceiver(WH_SECRET, WH_KEY, () => 500);
    const app2 = await startApp(env(flaky.url));
    try {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) {
        const r = await api(app2, 'GET', `/rtc/capabilities?callId=wh-down-${i}`, userToken(`wh-down-${i}`, 'alice'));
        assert.equal(r.status, 200);
      }
      const perCall = (performance.now() - t0) / 5;
      assert.ok(perCall < 300, `RTC-01 took ${perCall.toFixed(0)} ms with the receiver failing`);
      await until(() => app2.webhooks!.stats.retried >= 5, 5000, 'retries');
      assert.equal(flaky.accepted.length, 0);
      flaky.behaviour = () => 200;
      await flaky.waitFor((acc) => acc.filter((e) => e.event === 'participant_joined').length === 5, 10_000);
      checkDeliveries(flaky);
    } finally {
      await app2.close();
      await flaky.close();
    }
  });

  test('shutdown: the rooms\' call_ended are delivered before close() returns', async () => {
    const rec = await startReceiver(WH_SECRET, WH_KEY);
    const app3 = await startApp(env(rec.url));
    await api(app3, 'GET', '/rtc/capabilities?callId=wh-shut', userToken('wh-shut', 'alice'));
    await app3.close();
    const ended = rec.accepted.find((e) => e.event === 'call_ended');
    assert.ok(ended, JSON.stringify(rec.accepted));
    assert.equal(ended.reason, 'shutdown');
    assert.equal(ended.connectedAt, null);
    assert.equal(ended.connectedDurationMs, 0);
    await rec.close();
  });

  test('a full queue drops new events (counted), attempts are capped by WEBHOOK_MAX_ATTEMPTS', async () => {
    const rec = await startReceiver(WH_SECRET, WH_KEY, () => 500);
    const app4 = await startApp(env(rec.url, { WEBHOOK_QUEUE_MAX: '2', WEBHOOK_MAX_ATTEMPTS: '2' }));
    try {
      await api(app4, 'GET', '/rtc/capabilities?callId=wh-q', userToken('wh-q', 'alice')); // call_started + joined: 2
      await api(app4, 'GET', '/rtc/capabilities?callId=wh-q', userToken('wh-q', 'bob'));   // dropped
      assert.equal(app4.webhooks!.stats.dropped, 1);
      await until(() => app4.webhooks!.stats.failed === 2, 8000, 'both given up after 2 attempts');
      assert.equal(rec.attempts.length, 4);
      const m = await app4.inject({ method: 'GET', url: '/metrics' });
      assert.match(m.body, /sfu_webhook_events_total\{result="dropped"\} 1/);
      assert.match(m.body, /sfu_webhook_events_total\{result="failed"\} 2/);
      assert.match(m.body, /sfu_webhook_queue 0/);
    } finally {
      await app4.close();
      await rec.close();
    }
  });
});

describe('webhook configuration errors', () => {
  const base = { JWT_SECRET: SECRET };
  test('bad WEBHOOK_* values are start-up errors', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ WEBHOOK_URL: 'not a url', WEBHOOK_SECRET: WH_SECRET }, /WEBHOOK_URL must be an http\(s\) URL/],
      [{ WEBHOOK_URL: 'ftp://backend/hook', WEBHOOK_SECRET: WH_SECRET }, /WEBHOOK_URL must start with http/],
      [{ WEBHOOK_URL: 'https://backend/hook#x', WEBHOOK_SECRET: WH_SECRET }, /no #fragment/],
      [{ WEBHOOK_URL: 'https://backend/hook' }, /WEBHOOK_SECRET must be set/],
      [{ WEBHOOK_URL: 'https://user:pw@backend/hook', WEBHOOK_SECRET: WH_SECRET }, /must not carry user:password/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: 'short' }, /at least 16/],
      [{ WEBHOOK_SECRET: WH_SECRET }, /WEBHOOK_SECRET is set but WEBHOOK_URL is not/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_KEY: 'has space' }, /WEBHOOK_KEY/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_TIMEOUT_MS: '0' }, /WEBHOOK_TIMEOUT_MS/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_TIMEOUT_MS: 'soon' }, /WEBHOOK_TIMEOUT_MS/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_MAX_ATTEMPTS: '0' }, /WEBHOOK_MAX_ATTEMPTS/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_MAX_ATTEMPTS: '1000' }, /WEBHOOK_MAX_ATTEMPTS/],
      [{ WEBHOOK_URL: 'https://backend/hook', WEBHOOK_SECRET: WH_SECRET, WEBHOOK_QUEUE_MAX: '-5' }, /WEBHOOK_QUEUE_MAX/],
    ];
    for (const [e, re] of cases) assert.throws(() => loadConfig({ ...base, ...e }), re, JSON.stringify(e));
    // the secret never appears in an error
    assert.throws(() => loadConfig({ ...base, WEBHOOK_URL: 'https://u:pw-hunter2@backend/x#f', WEBHOOK_SECRET: WH_SECRET }),
      (e: Error) => !e.message.includes('hunter2'));
    const c = loadConfig({ ...base, WEBHOOK_URL: 'https://backend.example.com/sfu?x=1', WEBHOOK_SECRET: WH_SECRET }).webhook!;
    assert.deepEqual({ key: c.key, timeoutMs: c.timeoutMs, maxAttempts: c.maxAttempts, queueMax: c.queueMax },
      { key: 'sfu', timeoutMs: 5000, maxAttempts: 12, queueMax: 10_000 });
    assert.equal(loadConfig(base).webhook, undefined);
  });
});
