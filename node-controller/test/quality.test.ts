// The call-quality view: GET /rtc/rooms/:callId/stats (per participant and
// stream: bitrate, loss, jitter, RTT, score over the last minutes), GET
// /rtc/calls, and the per-worker Prometheus metrics, with real RTP: alice
// sends through a plain transport and drops every tenth packet (10 % loss as
// the SFU sees it), bob receives her through a plain transport.
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { loadConfig } from '../src/config';
import { api, join, SECRET, serviceToken, sleep, startApp, until, userToken } from './helpers';
import { plainSendTransport, produceOpus, rtpPacket } from './media-helpers';

const INTERVAL_MS = 500;
let app: FastifyInstance;
const callId = 'q-1';
let alicePid: string;
let bobConsumer: string;
let sender: NodeJS.Timeout;
let receiverSock: dgram.Socket;
let senderSock: dgram.Socket;
let received = 0;
const svc = serviceToken();

before(async () => {
  app = await startApp({ RTC_STATS_INTERVAL_MS: String(INTERVAL_MS), RTC_STATS_WINDOW_S: '60' });
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const pa = await plainSendTransport(app, callId, 'alice');
  const a = await produceOpus(app, alice, pa.id);
  alicePid = a.producerId;
  // bob's receive side: a plain transport towards a local socket
  receiverSock = dgram.createSocket('udp4');
  receiverSock.on('message', () => { received++; });
  await new Promise<void>((r) => receiverSock.bind(0, '127.0.0.1', () => r()));
  const room = app.rooms.get(callId)!;
  const recv = await room.router!.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false, appData: { userId: 'bob' } });
  await recv.connect({ ip: '127.0.0.1', port: receiverSock.address().port });
  room.participants.get('bob')!.addTransport({ transport: recv as unknown as types.WebRtcTransport, direction: 'recv', connected: true });
  const c = await api(app, 'POST', '/rtc/consumers', bob.tok, { callId, transportId: recv.id, producerId: alicePid, rtpCapabilities: bob.rtpCapabilities });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  bobConsumer = c.body.id;
  assert.equal((await api(app, 'POST', `/rtc/consumers/${bobConsumer}/resume`, bob.tok)).status, 200);
  // alice: 50 packets/s, every tenth sequence number never sent
  const sock = (senderSock = dgram.createSocket('udp4'));
  let seq = 1;
  sender = setInterval(() => {
    if (seq % 10 !== 0) sock.send(rtpPacket(a.ssrc, seq), pa.tuple.localPort, '127.0.0.1');
    seq++;
  }, 20);
  sender.unref();
  await sleep(INTERVAL_MS * 5);
});
after(async () => {
  clearInterval(sender);
  senderSock.close();
  receiverSock.close();
  await app.close();
});

describe('GET /rtc/rooms/:callId/stats', () => {
  test('per participant and stream: bitrate, loss, jitter, RTT, score, one sample per interval', async () => {
    const r = await api(app, 'GET', `/rtc/rooms/${callId}/stats`, svc);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.intervalMs, INTERVAL_MS);
    assert.equal(r.body.windowS, 60);
    const alice = r.body.participants.find((p: any) => p.userId === 'alice');
    const bob = r.body.participants.find((p: any) => p.userId === 'bob');
    const send = alice.streams.find((s: any) => s.direction === 'send');
    assert.equal(send.id, alicePid);
    assert.equal(send.kind, 'audio');
    assert.equal(send.mimeType, 'audio/opus');
    assert.ok(send.samples.length >= 3, `${send.samples.length} samples`);
    const last = send.latest;
    // 60-byte packets, 45 of 50 a second: 21.6 kbit/s
    assert.ok(last.bitrate > 15_000 && last.bitrate < 30_000, `bitrate ${last.bitrate}`);
    const loss = send.samples.slice(1).reduce((x: number, s: any) => x + s.lost, 0) / send.samples.slice(1).reduce((x: number, s: any) => x + s.lost + s.packets, 0);
    assert.ok(loss > 0.07 && loss < 0.13, `loss ${(loss * 100).toFixed(1)} %`);
    assert.ok(last.lossPct > 3 && last.lossPct < 20, `lossPct ${last.lossPct}`);
    assert.ok(last.score >= 0 && last.score <= 10);
    assert.equal(typeof last.jitterMs, 'number');
    assert.equal(typeof last.rttMs, 'number');
    assert.ok(send.samples.every((s: any, i: number, a: any[]) => i === 0 || s.t > a[i - 1].t));
    assert.equal(alice.sendBitrate, last.bitrate);
    const recv = bob.streams.find((s: any) => s.direction === 'recv');
    assert.equal(recv.id, bobConsumer);
    assert.equal(recv.producerId, alicePid);
    assert.equal(recv.fromUserId, 'alice');
    assert.ok(recv.latest.bitrate > 10_000, `bob receives ${recv.latest.bitrate} bit/s`);
    assert.ok(received > 50, `bob's socket got ${received} packets`);
    assert.equal(bob.recvBitrate, recv.latest.bitrate);
  });

  test('windowS and userId narrow it', async () => {
    const r = await api(app, 'GET', `/rtc/rooms/${callId}/stats?windowS=1&userId=alice`, svc);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.participants.map((p: any) => p.userId), ['alice']);
    assert.ok(r.body.participants[0].streams[0].samples.length <= 3);
  });

  test('bad query values are 400, unknown user or call 404, no service token 401/403', async () => {
    for (const q of ['windowS=0', 'windowS=-1', 'windowS=abc', 'windowS=1.5', 'windowS=99999', 'userId=']) {
      const r = await api(app, 'GET', `/rtc/rooms/${callId}/stats?${q}`, svc);
      assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'INVALID_REQUEST');
    }
    const over = await api(app, 'GET', `/rtc/rooms/${callId}/stats?windowS=61`, svc);
    assert.equal(over.status, 400);
    assert.match(over.body.message, /windowS must be <= 60 \(RTC_STATS_WINDOW_S\)/);
    assert.equal((await api(app, 'GET', `/rtc/rooms/${callId}/stats?userId=carol`, svc)).status, 404);
    assert.equal((await api(app, 'GET', '/rtc/rooms/nope/stats', svc)).body.error, 'ROOM_NOT_FOUND');
    assert.equal((await api(app, 'GET', '/rtc/rooms/bad%20id/stats', svc)).status, 400);
    assert.equal((await api(app, 'GET', `/rtc/rooms/${callId}/stats`)).status, 401);
    assert.equal((await api(app, 'GET', `/rtc/rooms/${callId}/stats`, userToken(callId, 'alice'))).status, 403);
    assert.equal((await api(app, 'GET', `/rtc/rooms/${callId}/stats`, userToken('other', 'alice'))).status, 403);
  });
});

describe('GET /rtc/calls', () => {
  test('the live calls with their counts (service token)', async () => {
    const r = await api(app, 'GET', '/rtc/calls', svc);
    assert.equal(r.status, 200);
    const c = r.body.calls.find((x: any) => x.callId === callId);
    assert.deepEqual({ participants: c.participants.sort(), producers: c.producers, consumers: c.consumers, local: c.local },
      { participants: ['alice', 'bob'], producers: 1, consumers: 1, local: true });
    assert.equal(r.body.truncated, false);
  });
  test('bad limit 400, participant 403', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=x']) assert.equal((await api(app, 'GET', `/rtc/calls?${q}`, svc)).status, 400, q);
    assert.equal((await api(app, 'GET', '/rtc/calls?limit=1', svc)).body.calls.length, 1);
    assert.equal((await api(app, 'GET', '/rtc/calls', userToken(callId, 'alice'))).status, 403);
  });
});

describe('GET /ops', () => {
  test('the page needs a service token (header or ?token=); its script is static', async () => {
    assert.equal((await app.inject({ url: '/ops' })).statusCode, 401);
    assert.equal((await app.inject({ url: `/ops?token=${userToken(callId, 'alice')}` })).statusCode, 403);
    assert.equal((await app.inject({ url: '/ops?token=garbage' })).statusCode, 401);
    const page = await app.inject({ url: `/ops?token=${svc}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(page.body, /<script src="ops\/ops.js">/);
    assert.equal((await app.inject({ url: '/ops', headers: { authorization: `Bearer ${svc}` } })).statusCode, 200);
    const js = await app.inject({ url: '/ops/ops.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /\/rtc\/rooms\/.*\/stats/);
  });
});

describe('Prometheus metrics per worker', () => {
  test('rooms, transports, producers, consumers, packets and losses, CPU, memory', async () => {
    await until(async () => /sfu_worker_rtp_packets_lost_total\{worker="0",direction="in"\} [1-9]/.test((await app.inject({ url: '/metrics' })).body), 5000, 'losses counted');
    const m = (await app.inject({ url: '/metrics' })).body;
    const v = (re: RegExp) => Number(re.exec(m)?.[1] ?? NaN);
    assert.equal(v(/^sfu_worker_rooms\{worker="0"\} (\d+)/m), 1);
    assert.equal(v(/^sfu_worker_transports\{worker="0"\} (\d+)/m), 2);
    assert.equal(v(/^sfu_worker_producers\{worker="0"\} (\d+)/m), 1);
    assert.equal(v(/^sfu_worker_consumers\{worker="0"\} (\d+)/m), 1);
    const pin = v(/^sfu_worker_rtp_packets_total\{worker="0",direction="in"\} (\d+)/m);
    const pout = v(/^sfu_worker_rtp_packets_total\{worker="0",direction="out"\} (\d+)/m);
    const lin = v(/^sfu_worker_rtp_packets_lost_total\{worker="0",direction="in"\} (\d+)/m);
    assert.ok(pin > 50 && pout > 50, `in ${pin}, out ${pout}`);
    assert.ok(lin / (lin + pin) > 0.05 && lin / (lin + pin) < 0.15, `lost in ${lin} of ${lin + pin}`);
    assert.ok(v(/^sfu_worker_cpu_seconds_total\{worker="0"\} ([\d.e-]+)/m) > 0);
    assert.ok(v(/^sfu_worker_max_rss_bytes\{worker="0"\} ([\d.e+]+)/m) > 1_000_000);
  });
});

describe('stats configuration errors', () => {
  test('RTC_STATS_INTERVAL_MS / RTC_STATS_WINDOW_S out of range', () => {
    for (const [k, v] of [['RTC_STATS_INTERVAL_MS', 'x'], ['RTC_STATS_INTERVAL_MS', '100'], ['RTC_STATS_INTERVAL_MS', '600000'],
      ['RTC_STATS_WINDOW_S', '5'], ['RTC_STATS_WINDOW_S', '7200'], ['RTC_STATS_WINDOW_S', '1e3']]) {
      assert.throws(() => loadConfig({ JWT_SECRET: SECRET, [k]: v }), new RegExp(k), `${k}=${v}`);
    }
    const c = loadConfig({ JWT_SECRET: SECRET });
    assert.deepEqual([c.statsIntervalMs, c.statsWindowS], [2000, 300]);
  });
});
