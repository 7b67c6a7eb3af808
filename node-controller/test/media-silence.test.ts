// The media-silence monitor with real RTP (plain transports, see
// media-helpers.ts): a producer without RTP for RTC_SILENCE_THRESHOLD_MS is
// reported on the event sockets (media_silence), RTP again is media_resumed;
// RTC_SILENCE_CLOSE_MS ends the call (room_closed media_timeout); a paused
// producer is not silent; the billable clock stops at the silent producer's
// last RTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config';
import { api, join, openEvents, SECRET, sleep, startApp, until, type EventClient } from './helpers';
import { plainSendTransport, produceOpus, RtpSender } from './media-helpers';

const THRESHOLD_MS = 2000;

async function twoPeerCall(app: FastifyInstance, base: string, callId: string, opts: { audioLevel?: boolean } = {}) {
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const evs = [await openEvents(base, callId, alice.tok), await openEvents(base, callId, bob.tok)];
  await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
  const pa = await plainSendTransport(app, callId, 'alice');
  const pb = await plainSendTransport(app, callId, 'bob');
  const a = await produceOpus(app, alice, pa.id, opts);
  const b = await produceOpus(app, bob, pb.id, opts);
  const sa = new RtpSender(pa, a.ssrc);
  const sb = new RtpSender(pb, b.ssrc);
  return { alice, bob, evs, a, b, sa, sb, close: () => { sa.close(); sb.close(); for (const e of evs) e.ws.close(); } };
}

const waitType = (ev: EventClient, type: string, ms: number, pred: (e: any) => boolean = () => true) =>
  ev.waitFor((e) => e.type === type && pred(e), ms);

describe('media silence', () => {
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    app = await startApp({ RTC_SILENCE_THRESHOLD_MS: String(THRESHOLD_MS) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  test('no RTP from alice for the threshold: media_silence on both sockets within threshold + 1 s; RTP again: media_resumed', async () => {
    const c = await twoPeerCall(app, base, 'sil-1');
    try {
      c.sa.start();
      c.sb.start();
      await waitType(c.evs[0], 'call_connected', 3000);
      await sleep(1500);
      c.sa.stop();
      const stoppedAt = c.sa.lastAt!;
      const silence = await waitType(c.evs[1], 'media_silence', THRESHOLD_MS + 3000);
      const delay = Date.now() - stoppedAt;
      assert.equal(silence.producerId, c.a.producerId);
      assert.equal(silence.userId, 'alice');
      assert.equal(silence.kind, 'audio');
      assert.ok(delay >= THRESHOLD_MS - 300 && delay <= THRESHOLD_MS + 1000, `media_silence ${delay} ms after the last packet (threshold ${THRESHOLD_MS})`);
      // its last RTP, to one observer interval
      assert.ok(Math.abs(Date.parse(silence.lastRtpAt) - stoppedAt) <= 1100, `lastRtpAt ${silence.lastRtpAt} vs ${new Date(stoppedAt).toISOString()}`);
      await waitType(c.evs[0], 'media_silence', 500); // alice hears it too (her microphone is not sending)
      // bob keeps sending: not silent
      assert.equal(c.evs[0].events.filter((e) => e.type === 'media_silence' && e.userId === 'bob').length, 0);
      const room = app.rooms.get('sil-1')!;
      assert.equal(room.clock.running, false, 'billing stopped');

      const restartAt = Date.now();
      c.sa.start();
      const resumed = await waitType(c.evs[1], 'media_resumed', 3000);
      const resumeDelay = Date.now() - restartAt;
      assert.equal(resumed.producerId, c.a.producerId);
      assert.ok(resumeDelay <= 1300, `media_resumed ${resumeDelay} ms after RTP restarted`);
      assert.ok(resumed.silentMs >= THRESHOLD_MS && resumed.silentMs <= restartAt - stoppedAt + 1300, `silentMs ${resumed.silentMs}`);
      assert.equal(room.clock.running, true, 'billing again');
      console.log(`# silence: media_silence ${delay} ms after alice's last packet (threshold ${THRESHOLD_MS} ms); media_resumed ${resumeDelay} ms after RTP restarted`);
    } finally {
      c.close();
    }
    await api(app, 'DELETE', '/rtc/rooms/sil-1/cleanup', c.alice.tok);
  });

  test('a paused producer is not silent; its clock restarts when it resumes', async () => {
    const c = await twoPeerCall(app, base, 'sil-2');
    try {
      c.sa.start();
      c.sb.start();
      await waitType(c.evs[0], 'call_connected', 3000);
      assert.equal((await api(app, 'POST', `/rtc/producers/${c.a.producerId}/pause`, c.alice.tok)).status, 200);
      c.sa.stop(); // muted: the client stops sending
      await sleep(THRESHOLD_MS + 1200);
      assert.equal(c.evs[1].events.filter((e) => e.type === 'media_silence').length, 0, 'no media_silence while paused');
      assert.equal(app.rooms.get('sil-2')!.clock.running, true, 'a muted call is still billed');
      const resumedAt = Date.now();
      assert.equal((await api(app, 'POST', `/rtc/producers/${c.a.producerId}/resume`, c.alice.tok)).status, 200);
      // resumed but still no RTP: silent after the threshold counted from the resume
      const s = await waitType(c.evs[1], 'media_silence', THRESHOLD_MS + 2000);
      const d = Date.now() - resumedAt;
      assert.ok(d >= THRESHOLD_MS - 100 && d <= THRESHOLD_MS + 1000, `silence ${d} ms after the resume`);
      assert.equal(s.producerId, c.a.producerId);
    } finally {
      c.close();
    }
    await api(app, 'DELETE', '/rtc/rooms/sil-2/cleanup', c.alice.tok);
  });

  test('a producer without the audio level extension is not monitored (no false silence)', async () => {
    const c = await twoPeerCall(app, base, 'sil-3', { audioLevel: false });
    try {
      c.sa.start();
      c.sb.start();
      await waitType(c.evs[0], 'call_connected', 3000);
      c.sa.stop();
      await sleep(THRESHOLD_MS + 1200);
      assert.equal(c.evs[1].events.filter((e) => e.type === 'media_silence').length, 0);
    } finally {
      c.close();
    }
    await api(app, 'DELETE', '/rtc/rooms/sil-3/cleanup', c.alice.tok);
  });
});

describe('RTC_SILENCE_CLOSE_MS', () => {
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    app = await startApp({ RTC_SILENCE_THRESHOLD_MS: '2000', RTC_SILENCE_CLOSE_MS: '3000' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  test('the call ends with media_timeout; the billable time ends at the last RTP', async () => {
    const c = await twoPeerCall(app, base, 'sil-close');
    try {
      c.sa.start();
      c.sb.start();
      const connected = await waitType(c.evs[0], 'call_connected', 3000);
      const room = app.rooms.get('sil-close')!;
      await sleep(1500);
      c.sb.stop();
      const stoppedAt = c.sb.lastAt!;
      await waitType(c.evs[0], 'media_silence', 4000);
      const closed = await waitType(c.evs[0], 'room_closed', 4000);
      const d = Date.now() - stoppedAt;
      assert.equal(closed.reason, 'media_timeout');
      assert.ok(d >= 3000 - 300 && d <= 3000 + 1000, `closed ${d} ms after bob's last packet`);
      assert.equal((await api(app, 'GET', '/rtc/rooms/sil-close', c.alice.tok)).status, 404);
      assert.equal(app.rooms.get('sil-close'), undefined, 'the registry forgot the room');
      assert.equal(room.ended!.reason, 'media_timeout');
      // billed until bob's last packet (known to one observer interval), not until the close
      const media = stoppedAt - Date.parse(connected.at);
      const err = room.ended!.connectedDurationMs - media;
      assert.ok(err >= -300 && err <= 1100, `billable ${room.ended!.connectedDurationMs} ms for ${media} ms of media`);
      console.log(`# media_timeout: closed ${d} ms after the last packet (RTC_SILENCE_CLOSE_MS 3000); billable ${room.ended!.connectedDurationMs} ms for ${media} ms of media (${err >= 0 ? '+' : ''}${err} ms)`);
    } finally {
      c.close();
    }
  });
});

describe('silence configuration errors', () => {
  const base = { JWT_SECRET: SECRET };
  test('bad thresholds are start-up errors', () => {
    for (const v of ['abc', '1999', '-1', '1.5', '4000000']) {
      assert.throws(() => loadConfig({ ...base, RTC_SILENCE_THRESHOLD_MS: v }), /RTC_SILENCE_THRESHOLD_MS/, v);
    }
    for (const v of ['abc', '0', '1500']) {
      assert.throws(() => loadConfig({ ...base, RTC_SILENCE_CLOSE_MS: v }), /RTC_SILENCE_CLOSE_MS/, v);
    }
    assert.throws(() => loadConfig({ ...base, RTC_SILENCE_THRESHOLD_MS: '15000', RTC_SILENCE_CLOSE_MS: '10000' }),
      /RTC_SILENCE_CLOSE_MS \(10000\) must be >= RTC_SILENCE_THRESHOLD_MS \(15000\)/);
    const c = loadConfig(base);
    assert.equal(c.silenceThresholdMs, 15000);
    assert.equal(c.silenceCloseMs, undefined);
  });
});
