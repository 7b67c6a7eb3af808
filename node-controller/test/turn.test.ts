// TURN: RTC-01 hands participants iceServers with time-limited credentials in
// coturn's TURN REST API scheme (the browser test relays a real call through
// Debian's coturn with them: test-e2e/turn.test.mjs); bad TURN_* values are
// start-up errors.
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config';
import { iceServersFor, turnCredential } from '../src/turn';
import { api, SECRET, serviceToken, startApp, userToken } from './helpers';

const TURN_SECRET = 'turn-secret-0123456789';

describe('RTC-01 iceServers', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp({
      TURN_URLS: 'stun:stun.example.com:3478, turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349?transport=tcp',
      TURN_SECRET,
      TURN_TTL_S: '600',
    });
  });
  after(() => app.close());

  test('participants get STUN as is and TURN with coturn REST API credentials valid TURN_TTL_S', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const r = await api(app, 'GET', '/rtc/capabilities?callId=turn-1', userToken('turn-1', 'alice'));
    assert.equal(r.status, 200);
    assert.ok(r.body.routerRtpCapabilities.codecs.length > 0);
    const [stun, turn] = r.body.iceServers;
    assert.deepEqual(stun, { urls: ['stun:stun.example.com:3478'] });
    assert.deepEqual(turn.urls, ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp']);
    const [expiry, user] = turn.username.split(':');
    assert.equal(user, 'alice');
    assert.ok(Number(expiry) >= t0 + 600 && Number(expiry) <= t0 + 602, `expiry ${expiry} vs now ${t0}`);
    // coturn's check: base64(HMAC-SHA1(static-auth-secret, username))
    assert.equal(turn.credential, crypto.createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
    // another participant, another credential
    const b = await api(app, 'GET', '/rtc/capabilities?callId=turn-1', userToken('turn-1', 'bob'));
    assert.notEqual(b.body.iceServers[1].credential, turn.credential);
  });

  test('a service token gets no credentials', async () => {
    const r = await api(app, 'GET', '/rtc/capabilities?callId=turn-1', serviceToken());
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.iceServers, []);
  });

  test('without TURN_URLS the list is empty', async () => {
    const plain = await startApp();
    try {
      const r = await api(plain, 'GET', '/rtc/capabilities?callId=turn-2', userToken('turn-2', 'alice'));
      assert.deepEqual(r.body.iceServers, []);
    } finally {
      await plain.close();
    }
  });

  test('a user id with a colon still gives "<expiry>:<userId>" (coturn splits at the first colon)', () => {
    const c = turnCredential(TURN_SECRET, 'tenant:bob', 1_700_000_000);
    assert.equal(c.username, '1700000000:tenant:bob');
    const s = iceServersFor({ stunUrls: [], turnUrls: ['turn:h'], secret: TURN_SECRET, ttlS: 60 }, 'x', 1_000_000);
    assert.equal(s[0].username, '1060:x');
  });
});

describe('TURN configuration errors', () => {
  const base = { JWT_SECRET: SECRET };
  test('malformed URLs, ports, transports', () => {
    for (const urls of ['http://turn.example.com', 'turn:', 'turn://h:3478', 'turn:h:99999', 'turn:h:3478?transport=sctp',
      'stun:h?transport=udp', 'turn:h,,turn:i', 'turn:-bad-.example', 'turn:h extra']) {
      assert.throws(() => loadConfig({ ...base, TURN_URLS: urls, TURN_SECRET }), /TURN_URLS/, urls);
    }
  });
  test('turn: URLs without a secret, a secret without URLs, a short secret, a bad TTL', () => {
    assert.throws(() => loadConfig({ ...base, TURN_URLS: 'turn:h:3478' }), /TURN_SECRET must be set/);
    assert.throws(() => loadConfig({ ...base, TURN_SECRET }), /TURN_SECRET is set but TURN_URLS is not/);
    assert.throws(() => loadConfig({ ...base, TURN_URLS: 'stun:h', TURN_SECRET }), /no turn: URL/);
    assert.throws(() => loadConfig({ ...base, TURN_URLS: 'turn:h', TURN_SECRET: 'short' }), /at least 16/);
    for (const ttl of ['0', '59', 'abc', '1.5', '99999999']) {
      assert.throws(() => loadConfig({ ...base, TURN_URLS: 'turn:h', TURN_SECRET, TURN_TTL_S: ttl }), /TURN_TTL_S/, ttl);
    }
    assert.throws(() => loadConfig({ ...base, TURN_TTL_S: '600' }), /TURN_TTL_S is set but TURN_URLS is not/);
  });
  test('good values: IPv4, [IPv6], STUN only, defaults', () => {
    const c = loadConfig({ ...base, TURN_URLS: 'turn:10.0.0.1:3478?transport=tcp,turns:[2001:db8::1]:5349', TURN_SECRET }).turn!;
    assert.deepEqual(c.turnUrls, ['turn:10.0.0.1:3478?transport=tcp', 'turns:[2001:db8::1]:5349']);
    assert.equal(c.ttlS, 86_400);
    assert.deepEqual(loadConfig({ ...base, TURN_URLS: 'stun:stun.l.google.com:19302' }).turn!.stunUrls, ['stun:stun.l.google.com:19302']);
    assert.equal(loadConfig(base).turn, undefined);
  });
});
