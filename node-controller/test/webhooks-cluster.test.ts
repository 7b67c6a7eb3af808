// Webhooks, silence and the ops views in cluster mode: a call's events come
// from its owner node only (requests landing on the other node are
// forwarded, its events are heard there over pub/sub but not sent again); a
// call whose node dies gets one call_ended (reason node_lost, estimated) from
// one of the survivors; media_silence of a call reaches a socket relayed by
// the other node; GET /rtc/calls and the stats route work from any node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { openEvents, serviceToken, sleep, until, userToken } from './helpers';
import { plainSendTransport, produceOpus, RtpSender } from './media-helpers';
import { http, spawnNode, startNode, type NodeProcess, type TestNode } from './cluster-helpers';
import { startRedis, type RedisServer } from './redis-server';
import { startReceiver, type Receiver } from './webhook-receiver';

const WH_SECRET = 'webhook-secret-0123456789abcdef';
const WH_KEY = 'sfu-cluster';
const TTL_MS = 1500;

let redis: RedisServer;
let receiver: Receiver;
let n1: TestNode;
let n2: TestNode;
let r: Redis;
const procs: NodeProcess[] = [];

const whEnv = () => ({
  WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: WH_SECRET, WEBHOOK_KEY: WH_KEY, CLUSTER_NODE_TTL_MS: String(TTL_MS),
  RTC_SILENCE_THRESHOLD_MS: '2000', RTC_STATS_INTERVAL_MS: '500',
});

before(async () => {
  redis = await startRedis();
  r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  receiver = await startReceiver(WH_SECRET, WH_KEY);
  n1 = await startNode(redis.url, 'wh-n1', 0, whEnv());
  n2 = await startNode(redis.url, 'wh-n2', 1, whEnv());
});
after(async () => {
  for (const p of procs) await p.kill();
  await n1?.app.close();
  await n2?.app.close();
  r.disconnect();
  await receiver?.close();
  await redis?.stop();
});

const ofCall = (callId: string) => receiver.accepted.filter((e) => e.callId === callId);

describe('webhooks in cluster mode', () => {
  test('events of a call come from its owner, once, in order, whichever node the requests land on', async () => {
    const callId = 'whc-1';
    const a = await http(n1.url, 'GET', `/rtc/capabilities?callId=${callId}`, userToken(callId, 'alice'));
    assert.equal(a.node, 'wh-n1');
    const b = await http(n2.url, 'GET', `/rtc/capabilities?callId=${callId}`, userToken(callId, 'bob'));
    assert.equal(b.node, 'wh-n1', 'forwarded to the owner');
    assert.equal((await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/participants/me`, userToken(callId, 'bob'))).status, 200);
    assert.equal((await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken())).status, 200);
    await receiver.waitFor(() => ofCall(callId).some((e) => e.event === 'call_ended'), 5000, 'call_ended');
    await sleep(300); // nothing more comes (n2 heard the events over pub/sub: it must not send them)
    const got = ofCall(callId);
    assert.deepEqual(got.map((e) => `${e.event}${e.userId ? `:${e.userId}` : ''}@${e.node}`), [
      'call_started@wh-n1', 'participant_joined:alice@wh-n1', 'participant_joined:bob@wh-n1',
      'participant_left:bob@wh-n1', 'participant_left:alice@wh-n1', 'call_ended@wh-n1',
    ]);
    assert.deepEqual(got.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    assert.equal(got.at(-1).reason, 'cleanup');
    assert.ok(receiver.attempts.every((x) => x.signatureOk));
  });

  test('the owner dies: one survivor sends participant_left (node_lost) and one call_ended, its billable time estimated', async () => {
    const dead = await spawnNode(redis.url, 'wh-dead', 2, { env: whEnv() });
    procs.push(dead);
    const callId = 'whc-lost';
    // The call lands on the node that will die (it is the least loaded: n1 and n2 may hold calls of other tests).
    await r.sadd('sfu:node:wh-n1:calls', 'x1', 'x2');
    await r.sadd('sfu:node:wh-n2:calls', 'x1', 'x2');
    const a = await http(dead.url, 'GET', `/rtc/capabilities?callId=${callId}`, userToken(callId, 'alice'));
    assert.equal(a.node, 'wh-dead', JSON.stringify(a.body));
    await http(dead.url, 'GET', `/rtc/capabilities?callId=${callId}`, userToken(callId, 'bob'));
    await receiver.waitFor(() => ofCall(callId).filter((e) => e.event === 'participant_joined').length === 2, 5000);
    // The call connected 4 s ago as far as the directory knows (the owner writes connectedAt on call_connected;
    // no RTP can reach a child process's worker from here).
    const connectedAt = Date.now() - 4000;
    await r.hset(`sfu:call:${callId}`, 'connectedAt', String(connectedAt));
    const killedAt = Date.now();
    await dead.kill();
    await receiver.waitFor(() => ofCall(callId).some((e) => e.event === 'call_ended'), TTL_MS + 3000, 'call_ended of the lost call');
    await sleep(500); // both survivors heard call_lost: only one sends
    const got = ofCall(callId);
    const lost = got.filter((e) => e.reason === 'node_lost');
    assert.deepEqual(lost.map((e) => `${e.event}${e.userId ? `:${e.userId}` : ''}`).sort(),
      ['call_ended', 'participant_left:alice', 'participant_left:bob']);
    assert.equal(got.filter((e) => e.event === 'call_ended').length, 1);
    const ended = lost.find((e) => e.event === 'call_ended');
    assert.equal(ended.lostNode, 'wh-dead');
    assert.ok(['wh-n1', 'wh-n2'].includes(ended.reportedBy));
    assert.equal(ended.estimated, true);
    assert.equal(ended.roomId, got[0].roomId);
    assert.equal(ended.connectedAt, new Date(connectedAt).toISOString());
    // ended at the dead node's last heartbeat, to about two heartbeat periods (TTL / 5 each)
    const err = ended.connectedDurationMs - (killedAt - connectedAt);
    assert.ok(Math.abs(err) <= 2 * (TTL_MS / 5) + 200, `billable ${ended.connectedDurationMs} ms, killed ${killedAt - connectedAt} ms after connect`);
    console.log(`# cluster webhooks: lost call's call_ended ${Date.parse(ended.at) - killedAt} ms from the kill, reported ${receiver.attempts.find((x) => x.id === ended.id)!.at - killedAt} ms after it; billable error ${err} ms`);
    await r.srem('sfu:node:wh-n1:calls', 'x1', 'x2');
    await r.srem('sfu:node:wh-n2:calls', 'x1', 'x2');
  });

  test('silence of a call on n1 reaches bob\'s socket relayed by n2; the webhook comes from n1; calls and stats from n2', async () => {
    const callId = 'whc-sil';
    const alice = { tok: userToken(callId, 'alice'), userId: 'alice', callId, rtpCapabilities: {} as never };
    const bob = { tok: userToken(callId, 'bob'), userId: 'bob', callId, rtpCapabilities: {} as never };
    assert.equal((await http(n1.url, 'GET', `/rtc/capabilities?callId=${callId}`, alice.tok)).node, 'wh-n1');
    assert.equal((await http(n2.url, 'GET', `/rtc/capabilities?callId=${callId}`, bob.tok)).node, 'wh-n1');
    const bobEv = await openEvents(n2.url, callId, bob.tok); // relayed to n1
    const aliceEv = await openEvents(n1.url, callId, alice.tok);
    await until(() => n1.app.rooms.get(callId)!.events.count === 2, 3000, 'both online on n1');
    const pa = await plainSendTransport(n1.app, callId, 'alice');
    const pb = await plainSendTransport(n1.app, callId, 'bob');
    const a = await produceOpus(n1.app, alice, pa.id);
    const b = await produceOpus(n1.app, bob, pb.id);
    const sa = new RtpSender(pa, a.ssrc);
    const sb = new RtpSender(pb, b.ssrc);
    try {
      sa.start();
      sb.start();
      await bobEv.waitFor((e) => e.type === 'call_connected', 3000);
      await sleep(1200);
      // the ops views through the node that does not hold the call
      const svc = serviceToken();
      const calls = await http(n2.url, 'GET', '/rtc/calls', svc);
      assert.equal(calls.status, 200);
      const c = calls.body.calls.find((x: any) => x.callId === callId);
      assert.deepEqual({ node: c.node, local: c.local, connected: c.connected }, { node: 'wh-n1', local: false, connected: true });
      assert.deepEqual(c.participants.sort(), ['alice', 'bob']);
      const st = await http(n2.url, 'GET', `/rtc/rooms/${callId}/stats`, svc);
      assert.equal(st.status, 200, JSON.stringify(st.body));
      assert.equal(st.node, 'wh-n1', 'forwarded to the owner');
      assert.ok(st.body.participants.every((p: any) => p.streams.some((s: any) => s.direction === 'send' && s.samples.length > 0)));
      assert.equal((await http(n2.url, 'GET', `/rtc/rooms/${callId}/stats?windowS=0`, svc)).status, 400);

      sa.stop();
      const silence = await bobEv.waitFor((e) => e.type === 'media_silence', 4000);
      assert.equal(silence.userId, 'alice');
      await aliceEv.waitFor((e) => e.type === 'media_silence', 1000);
      await receiver.waitFor(() => ofCall(callId).some((e) => e.event === 'media_silence'), 3000, 'media_silence webhook');
      const wh = ofCall(callId).filter((e) => e.event === 'media_silence');
      assert.equal(wh.length, 1);
      assert.equal(wh[0].node, 'wh-n1');
      sa.start();
      await bobEv.waitFor((e) => e.type === 'media_resumed', 3000);
    } finally {
      sa.close();
      sb.close();
      bobEv.ws.close();
      aliceEv.ws.close();
    }
    await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    await receiver.waitFor(() => ofCall(callId).some((e) => e.event === 'call_ended'), 3000);
    const ended = ofCall(callId).find((e) => e.event === 'call_ended');
    assert.equal(ended.node, 'wh-n1');
    assert.ok(ended.connectedDurationMs > 1000);
  });
});
