// Cluster mode with two controller nodes in this process (each its own
// worker and port) over one redis-server: configuration errors, Redis down
// at start, racing first requests from both nodes, any node serving any call
// (REST forwarded, event socket relayed), auth where the request lands and
// again at the owner, lifecycle events through pub/sub on a node that does
// not own the call, capacity.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { types } from 'mediasoup';
import WebSocket from 'ws';
import { build } from '../src/app';
import { loadConfig } from '../src/config';
import {
  fakeDtls, openEvents, opusParameters, SECRET, serviceToken, sleep, token, until, userToken, type EventClient,
} from './helpers';
import { controllerDir, http, startNode, type TestNode } from './cluster-helpers';
import { freePort, startRedis, type RedisServer } from './redis-server';

let redis: RedisServer;
let n1: TestNode;
let n2: TestNode;
const ws = (base: string) => base.replace('http', 'ws');

before(async () => {
  redis = await startRedis();
  n1 = await startNode(redis.url, 'node1', 0);
  n2 = await startNode(redis.url, 'node2', 1);
});
after(async () => {
  await n1?.app.close();
  await n2?.app.close();
  await redis?.stop();
});

/** RTC-01 through `via` for userId. */
async function join(via: TestNode, callId: string, userId: string) {
  const tok = userToken(callId, userId);
  const r = await http(via.url, 'GET', `/rtc/capabilities?callId=${callId}`, tok);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { tok, userId, callId, node: r.node, rtpCapabilities: r.body.routerRtpCapabilities as types.RtpCapabilities };
}

/** A service socket on GET /rtc/calls/events (after its "subscribed"). */
async function serviceEvents(base: string, callId?: string): Promise<EventClient> {
  const q = callId ? `callId=${callId}&` : '';
  const url = `${ws(base)}/rtc/calls/events?${q}token=${serviceToken()}`;
  const sock = new WebSocket(url);
  const events: any[] = [];
  const waiters: Array<{ pred: (e: any) => boolean; resolve: (e: any) => void }> = [];
  sock.on('message', (d) => {
    const e = JSON.parse(String(d));
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => sock.on('close', (code, reason) => r({ code, reason: String(reason) })));
  const client: EventClient = {
    ws: sock, events, closed,
    waitFor(pred, ms = 3000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`event not received in ${ms} ms; got ${JSON.stringify(events)}`)), ms);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
  await client.waitFor((e) => e.type === 'subscribed');
  return client;
}

describe('configuration and start-up', () => {
  test('a malformed REDIS_URL is a clear configuration error', () => {
    const base = { JWT_SECRET: 's', PORT: '3000' };
    const cases: Array<[string, RegExp]> = [
      ['localhost:6379', /REDIS_URL must start with redis:\/\/ or rediss:\/\//],
      ['http://127.0.0.1:6379', /REDIS_URL must start with redis:\/\//],
      ['redis://127.0.0.1:99999', /REDIS_URL must be a URL like redis:\/\/127\.0\.0\.1:6379\/0/],
      ['not a url', /REDIS_URL must be a URL/],
      ['redis://127.0.0.1:6379/cache', /database number/],
      ['redis://:secret@127.0.0.1:6379/x', /database number/],
    ];
    for (const [url, re] of cases) assert.throws(() => loadConfig({ ...base, REDIS_URL: url }), re, url);
    // The password never shows in the message.
    assert.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://u:hunter2@h:1/x' }), (e: Error) => !e.message.includes('hunter2'));
    assert.throws(() => loadConfig({ JWT_SECRET: 's', PORT: '0', REDIS_URL: 'redis://h' }), /fixed PORT or a NODE_PUBLIC_URL/);
    assert.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', NODE_ID: 'a b' }), /NODE_ID must match/);
    assert.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', NODE_PUBLIC_URL: 'http://h:1/path' }), /NODE_PUBLIC_URL/);
    assert.throws(() => loadConfig({ ...base, REDIS_URL: 'redis://h', CLUSTER_NODE_TTL_MS: '10' }), /CLUSTER_NODE_TTL_MS/);
    // Defaults come from HOST and PORT; no REDIS_URL: single-node mode.
    const c = loadConfig({ ...base, HOST: '10.1.2.3', PORT: '3001', RTC_WORKERS: '2', REDIS_URL: 'redis://h:6379/2' }).cluster!;
    assert.deepEqual(
      [c.nodeId, c.publicUrl, c.mediaAddress, c.nodeTtlMs, c.heartbeatMs, c.capacity],
      ['10.1.2.3:3001', 'http://10.1.2.3:3001', '127.0.0.1', 5000, 1000, 200],
    );
    assert.equal(loadConfig(base).cluster, undefined);
  });

  test('npm start with a malformed REDIS_URL exits 1 with one clear line', async () => {
    const child = spawn(process.execPath, ['dist/src/server.js'], {
      cwd: controllerDir,
      env: { ...process.env, JWT_SECRET: SECRET, PORT: '3999', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 1);
    assert.match(err, /^sfu-controller: cannot start: REDIS_URL must start with redis:\/\/ or rediss:\/\//);
    assert.equal(err.trim().split('\n').length, 1, err);
  });

  test('Redis down at start: start-up waits REDIS_CONNECT_TIMEOUT_MS, then fails clearly; workers closed', async () => {
    const port = await freePort(); // nothing listens there
    const config = loadConfig({
      JWT_SECRET: SECRET, RTC_WORKERS: '1', PORT: '3998', LOG_LEVEL: 'silent',
      REDIS_URL: `redis://:pw@127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: '700',
    });
    const app = await build({ config });
    const t0 = Date.now();
    await assert.rejects(async () => { await app.ready(); }, (e: Error) => {
      assert.match(e.message, new RegExp(`cluster mode: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} not reachable within 700 ms`));
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= 650 && took < 3000, `failed after ${took} ms`);
    assert.equal(app.pool.workers.length, 0, 'workers closed');
    await app.close().catch(() => undefined);
  });
});

describe('two nodes', () => {
  test('racing first requests for one call on both nodes: exactly one owner holds the room', async () => {
    const callId = 'race-call';
    const rs = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      http((i % 2 ? n1 : n2).url, 'GET', `/rtc/capabilities?callId=${callId}`, userToken(callId, `u${i}`))));
    for (const r of rs) assert.equal(r.status, 200, JSON.stringify(r.body));
    const answered = new Set(rs.map((r) => r.node));
    assert.equal(answered.size, 1, `answered by ${[...answered]}`);
    const [ownerId] = answered;
    const [owner, other] = ownerId === 'node1' ? [n1, n2] : [n2, n1];
    assert.equal(owner.app.rooms.get(callId)?.participants.size, 16);
    assert.equal(other.app.rooms.get(callId), undefined, 'no room on the other node');
    const entry = await http(other.url, 'GET', `/rtc/cluster/calls/${callId}`, serviceToken());
    assert.equal(entry.body.node.id, ownerId);
    await until(async () => (await http(n1.url, 'GET', `/rtc/cluster/calls/${callId}`, serviceToken())).body.participants?.length === 16,
      2000, 'participants in the directory');
    const clean = await http(other.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.equal(clean.status, 200);
    assert.equal((await http(n1.url, 'GET', `/rtc/cluster/calls/${callId}`, serviceToken())).status, 404, 'entry deleted with the call');
  });

  test('any node serves any call: REST forwarded, event socket relayed, RTC-07 through the other node', async () => {
    const callId = 'any-node';
    const alice = await join(n1, callId, 'alice'); // n1 owns it (tie -> the requesting node)
    assert.equal(alice.node, 'node1');
    const aliceEv = await openEvents(n1.url, callId, alice.tok);
    const bob = await join(n2, callId, 'bob');
    assert.equal(bob.node, 'node1', 'answered by the owner');
    await aliceEv.waitFor((e) => e.type === 'participant_joined' && e.userId === 'bob');
    const bobEv = await openEvents(n2.url, callId, bob.tok); // relayed to node1
    const room = n1.app.rooms.get(callId)!;
    await until(() => room.events.has('bob'), 2000, "bob's relayed socket attached on the owner");

    const send = await http(n2.url, 'POST', '/rtc/transports', bob.tok, { callId, direction: 'send' });
    assert.equal(send.status, 201, JSON.stringify(send.body));
    assert.equal(send.node, 'node1');
    assert.equal(send.body.transport.iceCandidates[0].port >= 40000 && send.body.transport.iceCandidates[0].port < 40120, true,
      "media goes to the owner's address and ports");
    const conn = await http(n2.url, 'POST', `/rtc/transports/${send.body.transport.id}/connect`, bob.tok, { dtlsParameters: fakeDtls() });
    assert.equal(conn.status, 200, JSON.stringify(conn.body));
    const prod = await http(n2.url, 'POST', '/rtc/producers', bob.tok,
      { callId, transportId: send.body.transport.id, kind: 'audio', rtpParameters: opusParameters() });
    assert.equal(prod.status, 201, JSON.stringify(prod.body));
    const producerId = prod.body.producerId;
    await aliceEv.waitFor((e) => e.type === 'new_producer' && e.producerId === producerId);
    const recv = await http(n1.url, 'POST', '/rtc/transports', alice.tok, { callId, direction: 'recv' });
    const cons = await http(n1.url, 'POST', '/rtc/consumers', alice.tok,
      { callId, transportId: recv.body.transport.id, producerId, rtpCapabilities: alice.rtpCapabilities });
    assert.equal(cons.status, 201, JSON.stringify(cons.body));
    const paused = await http(n2.url, 'POST', `/rtc/producers/${producerId}/pause`, bob.tok);
    assert.deepEqual([paused.status, paused.body, paused.node], [200, { paused: true }, 'node1']);
    await aliceEv.waitFor((e) => e.type === 'producer_paused' && e.producerId === producerId);

    const r1 = await http(n1.url, 'GET', `/rtc/rooms/${callId}`, serviceToken());
    const r2 = await http(n2.url, 'GET', `/rtc/rooms/${callId}`, serviceToken());
    assert.deepEqual(r2.body, r1.body);
    assert.deepEqual(r1.body.node, { id: 'node1', url: n1.url, mediaAddress: '127.0.0.1' });
    assert.deepEqual(r1.body.participants.map((p: any) => [p.userId, p.online]), [['alice', true], ['bob', true]]);

    // Bob's relayed socket closes: the owner sees it go; back: online again.
    bobEv.ws.close();
    await until(() => !room.events.has('bob'), 2000, 'detached on the owner');
    const bobEv2 = await openEvents(n2.url, callId, bob.tok);
    await until(() => room.events.has('bob'), 2000, 're-attached');

    // RTC-07 through the node that does not own the call: exact counts.
    const clean = await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.equal(clean.status, 200);
    assert.equal(clean.node, 'node1');
    assert.deepEqual(clean.body, { cleaned: true, released: { transports: 2, producers: 1, consumers: 1, dataProducers: 0, dataConsumers: 0 } });
    for (const ev of [aliceEv, bobEv2]) {
      assert.deepEqual(await ev.waitFor((e) => e.type === 'room_closed'), { type: 'room_closed', callId, reason: 'cleanup' });
      await ev.closed;
    }
    const again = await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    assert.deepEqual([again.status, again.body.error], [404, 'ROOM_NOT_FOUND']);
    const metrics = (await http(n2.url, 'GET', '/metrics')).body as string;
    assert.match(metrics, /sfu_cluster_forwarded_total\{kind="http"\} [1-9]/);
    assert.match(metrics, /sfu_cluster_forwarded_total\{kind="ws"\} [1-9]/);
    assert.match(metrics, /sfu_cluster_nodes 2/);
  });

  test('auth where the request lands, and again at the owner', async () => {
    const callId = 'auth-hops';
    const alice = await join(n1, callId, 'alice');
    const forwardedBefore = n2.app.cluster!.stats.forwardedHttp + n2.app.cluster!.stats.forwardedWs;
    const path = `/rtc/rooms/${callId}`;
    // At the landing node: nothing is forwarded.
    const forged = token({ sub: 'mallory', callId }, { secret: 'not-the-secret' });
    const landing: Array<[string, number, string, string | undefined, unknown?]> = [
      ['forged token', 401, 'GET', forged],
      ['no token', 401, 'GET', undefined],
      ['expired', 401, 'GET', token({ sub: 'alice', callId }, { ttl: -5 })],
      ["another call's token", 403, 'GET', userToken('other-call', 'mallory')],
    ];
    for (const [what, status, method, tok] of landing) {
      const r = await http(n2.url, method, path, tok);
      assert.deepEqual([r.status, r.node], [status, 'node2'], `${what}: ${JSON.stringify(r.body)}`);
    }
    const body = { callId, direction: 'send' };
    for (const [what, tok, status] of [['forged', forged, 401], ['other call', userToken('x', 'm'), 403], ['service', serviceToken(), 403]] as const) {
      const r = await http(n2.url, 'POST', '/rtc/transports', tok, body);
      assert.deepEqual([r.status, r.node], [status, 'node2'], `POST /rtc/transports, ${what}`);
    }
    const wsRefused = await new Promise<number>((resolve) => {
      const s = new WebSocket(`${ws(n2.url)}/rtc/events?callId=${callId}&token=${forged}`);
      s.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => resolve(101));
      s.on('error', () => undefined);
    });
    assert.equal(wsRefused, 401);
    assert.equal(n2.app.cluster!.stats.forwardedHttp + n2.app.cluster!.stats.forwardedWs, forwardedBefore, 'nothing forwarded');

    // At the owner: a request that says it was forwarded gets no trust for it.
    const fwd = { 'x-sfu-forwarded-by': 'node2' };
    assert.equal((await http(n1.url, 'GET', path, undefined, undefined, fwd)).status, 401);
    assert.equal((await http(n1.url, 'GET', path, forged, undefined, fwd)).status, 401);
    assert.equal((await http(n1.url, 'GET', path, userToken('other-call', 'm'), undefined, fwd)).status, 403);
    assert.equal((await http(n1.url, 'GET', path, alice.tok, undefined, fwd)).status, 200);

    // A landing node that accepts a token the owner does not (another secret):
    // forwarded, and refused by the owner.
    const n3 = await startNode(redis.url, 'node3', 2, { JWT_SECRET: 'node3-secret', CLUSTER_NODE_CAPACITY: '1' });
    try {
      const theirs = token({ sub: 'eve', callId }, { secret: 'node3-secret' });
      const r = await http(n3.url, 'GET', path, theirs);
      assert.deepEqual([r.status, r.body.error, r.node], [401, 'UNAUTHORIZED', 'node1'], JSON.stringify(r.body));
      const s = await new Promise<number>((resolve) => {
        const sock = new WebSocket(`${ws(n3.url)}/rtc/events?callId=${callId}&token=${theirs}`);
        sock.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        sock.on('open', () => resolve(101));
        sock.on('error', () => undefined);
      });
      assert.equal(s, 401, 'event socket refused by the owner, relayed as is');
    } finally {
      await n3.app.close();
    }
    await http(n1.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
  });

  test('lifecycle events through Redis pub/sub on a node that does not own the call', async () => {
    const callId = 'pubsub-call';
    const one = await serviceEvents(n2.url, callId);
    const every = await serviceEvents(n2.url);
    const alice = await join(n1, callId, 'alice');
    const bob = await join(n1, callId, 'bob');
    const evA = await openEvents(n1.url, callId, alice.tok);
    const evB = await openEvents(n2.url, callId, bob.tok);
    const room = n1.app.rooms.get(callId)!;
    await until(() => room.events.count === 2, 2000, 'both online');
    // Real RTP from a UDP socket to each participant's PlainTransport: call_connected.
    const socks: dgram.Socket[] = [];
    for (const p of [alice, bob]) {
      const plain = await room.router!.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
      room.participants.get(p.userId)!.addTransport({ transport: plain as unknown as types.WebRtcTransport, direction: 'send', connected: true });
      const params = opusParameters();
      const r = await http(n2.url, 'POST', '/rtc/producers', p.tok, { callId, transportId: plain.id, kind: 'audio', rtpParameters: params });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const sock = dgram.createSocket('udp4');
      socks.push(sock);
      for (let seq = 1; seq <= 5; seq++) {
        const b = Buffer.alloc(32, 0xab);
        b[0] = 0x80; b[1] = 111; b.writeUInt16BE(seq, 2); b.writeUInt32BE(seq * 960, 4); b.writeUInt32BE(params.encodings![0].ssrc!, 8);
        await new Promise<void>((res) => sock.send(b, plain.tuple.localPort, '127.0.0.1', () => res()));
        await sleep(20);
      }
    }
    await one.waitFor((e) => e.type === 'call_connected', 4000);
    for (const ev of [evA, evB]) await ev.waitFor((e) => e.type === 'call_connected', 3000);
    await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    await one.waitFor((e) => e.type === 'room_closed');
    for (const s of socks) s.close();
    const seen = one.events.filter((e) => e.type !== 'subscribed');
    assert.deepEqual(seen.map((e) => e.type), [
      'call_assigned', 'room_opened', 'participant_joined', 'participant_joined', 'call_connected', 'room_closed',
    ]);
    for (const e of seen) {
      assert.equal(e.callId, callId);
      assert.equal(e.node, 'node1');
      assert.ok(!Number.isNaN(Date.parse(e.at)), JSON.stringify(e));
    }
    assert.deepEqual(seen.filter((e) => e.type === 'participant_joined').map((e) => e.userId), ['alice', 'bob']);
    assert.equal(seen.at(-1).reason, 'cleanup');
    await every.waitFor((e) => e.type === 'room_closed' && e.callId === callId);
    assert.ok(every.events.some((e) => e.type === 'call_assigned' && e.callId === callId));
    // Participants may not listen to the service stream.
    const refused = await new Promise<number>((resolve) => {
      const s = new WebSocket(`${ws(n2.url)}/rtc/calls/events?token=${alice.tok}`);
      s.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => resolve(101));
      s.on('error', () => undefined);
    });
    assert.equal(refused, 403);
    one.ws.close();
    every.ws.close();
  });
});

describe('reconcile', () => {
  test('a room whose call the directory gave away (this node was declared dead) closes "node_lost" at the next heartbeat', async () => {
    const callId = 'given-away';
    const alice = await join(n1, callId, 'alice');
    const ev = await openEvents(n1.url, callId, alice.tok);
    const r = new Redis(redis.url);
    try {
      // What a sweep by another node does while this one is cut off.
      await r.hdel(`sfu:call:${callId}`, 'node');
      await r.hset(`sfu:call:${callId}`, 'state', 'lost', 'lostNode', 'node1');
      const t0 = Date.now();
      assert.deepEqual(await ev.waitFor((e) => e.type === 'room_closed', 3000), { type: 'room_closed', callId, reason: 'node_lost' });
      assert.ok(Date.now() - t0 < 3000 / 5 + 500, 'within a heartbeat');
      assert.equal(n1.app.rooms.get(callId), undefined);
      // The tombstone stays; the call starts afresh on the next RTC-01.
      assert.equal((await http(n2.url, 'GET', `/rtc/cluster/calls/${callId}`, serviceToken())).body.state, 'lost');
      assert.equal((await join(n2, callId, 'alice')).node, 'node2', 'tie: the node the request landed on');
      await http(n2.url, 'DELETE', `/rtc/rooms/${callId}/cleanup`, serviceToken());
    } finally {
      r.disconnect();
    }
  });
});

describe('capacity', () => {
  let r2: RedisServer;
  let a: TestNode;
  let b: TestNode;
  before(async () => {
    r2 = await startRedis();
    a = await startNode(r2.url, 'cap-a', 3, { CLUSTER_NODE_CAPACITY: '1' });
    b = await startNode(r2.url, 'cap-b', 4, { CLUSTER_NODE_CAPACITY: '1' });
  });
  after(async () => {
    await a?.app.close();
    await b?.app.close();
    await r2?.stop();
  });

  test('one call per node: the second goes to the other node, a third gets 503 until one ends', async () => {
    const first = await join(a, 'cap-1', 'u1');
    const second = await join(a, 'cap-2', 'u2');
    assert.deepEqual([first.node, second.node], ['cap-a', 'cap-b']);
    for (const via of [a, b]) {
      const r = await http(via.url, 'GET', '/rtc/capabilities?callId=cap-3', userToken('cap-3', 'u3'));
      assert.deepEqual([r.status, r.body.error], [503, 'SERVICE_UNAVAILABLE']);
      assert.match(r.body.message, /at capacity/);
      assert.equal(r.headers.get('retry-after'), '1');
    }
    // Joining a call that exists is not a new call.
    assert.equal((await join(b, 'cap-1', 'u4')).node, 'cap-a');
    const nodes = await http(b.url, 'GET', '/rtc/cluster', serviceToken());
    assert.deepEqual(nodes.body.nodes.map((n: any) => [n.id, n.calls, n.capacity]), [['cap-a', 1, 1], ['cap-b', 1, 1]]);
    assert.equal((await http(b.url, 'DELETE', '/rtc/rooms/cap-1/cleanup', serviceToken())).status, 200);
    assert.equal((await join(b, 'cap-3', 'u3')).node, 'cap-a');
  });
});
