// The auth matrix on every protected route: no token, malformed, bad
// signature, expired, another call's token, service token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { api, join, serviceToken, startApp, token, userToken } from './helpers';

const CALL = 'auth-call';
let app: FastifyInstance;

before(async () => {
  app = await startApp();
  await join(app, CALL, 'alice');
});
after(() => app.close());

const routes: Array<[string, string, unknown?]> = [
  ['GET', `/rtc/capabilities?callId=${CALL}`],
  ['POST', '/rtc/transports', { callId: CALL, direction: 'send' }],
  ['POST', '/rtc/transports/t1/connect', { dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }],
  ['POST', '/rtc/producers', { callId: CALL, transportId: 't', kind: 'audio', rtpParameters: { codecs: [{}] } }],
  ['POST', '/rtc/producers/p1/pause'],
  ['POST', '/rtc/producers/p1/resume'],
  ['DELETE', '/rtc/producers/p1'],
  ['POST', '/rtc/consumers', { callId: CALL, transportId: 't', producerId: 'p', rtpCapabilities: { codecs: [] } }],
  ['POST', '/rtc/consumers/c1/pause'],
  ['POST', '/rtc/consumers/c1/resume'],
  ['DELETE', '/rtc/consumers/c1'],
  ['GET', `/rtc/rooms/${CALL}`],
  ['DELETE', `/rtc/rooms/${CALL}/participants/me`],
  ['DELETE', `/rtc/rooms/${CALL}/cleanup`],
];

function expect401(res: { status: number; body: any }, what: string) {
  assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error, 'UNAUTHORIZED');
  assert.equal(typeof res.body.message, 'string');
}

describe('401 UNAUTHORIZED', () => {
  for (const [method, url, body] of routes) {
    test(`${method} ${url}`, async () => {
      expect401(await api(app, method as any, url, undefined, body), 'no token');
      const raw = await app.inject({ method: method as any, url, headers: { authorization: 'Basic abc' }, payload: body as any });
      expect401({ status: raw.statusCode, body: raw.json() }, 'not Bearer');
      expect401(await api(app, method as any, url, 'not.a.jwt', body), 'malformed');
      expect401(await api(app, method as any, url, token({ sub: 'alice', callId: CALL }, { secret: 'wrong' }), body), 'bad signature');
      expect401(await api(app, method as any, url, token({ sub: 'alice', callId: CALL }, { ttl: -10 }), body), 'expired');
      expect401(await api(app, method as any, url, token({ callId: CALL }), body), 'no sub');
      expect401(await api(app, method as any, url, token({ sub: 'alice' }), body), 'no callId');
    });
  }
  test('alg none is rejected', async () => {
    const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b({ alg: 'none', typ: 'JWT' })}.${b({ sub: 'alice', callId: CALL })}.`;
    expect401(await api(app, 'GET', `/rtc/rooms/${CALL}`, none), 'alg none');
  });
});

describe('403 FORBIDDEN for another call\'s token', () => {
  const other = userToken('other-call', 'mallory');
  for (const [method, url, body] of routes) {
    // Routes without a callId act on the token's own call, where these ids do not exist.
    if (!url.includes(CALL) && !(body && JSON.stringify(body).includes(CALL))) continue;
    test(`${method} ${url}`, async () => {
      const res = await api(app, method as any, url, other, body);
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, 'FORBIDDEN');
    });
  }
});

describe('service tokens', () => {
  test('may read a room and its capabilities', async () => {
    const room = await api(app, 'GET', `/rtc/rooms/${CALL}`, serviceToken());
    assert.equal(room.status, 200);
    assert.deepEqual(room.body.participants.map((p: any) => p.userId), ['alice']);
    const caps = await api(app, 'GET', `/rtc/capabilities?callId=${CALL}`, serviceToken());
    assert.equal(caps.status, 200);
    assert.ok(caps.body.routerRtpCapabilities.codecs.length > 0);
    // ...but do not create rooms or join them.
    const none = await api(app, 'GET', '/rtc/capabilities?callId=no-such-call', serviceToken());
    assert.equal(none.status, 404);
    assert.equal(none.body.error, 'ROOM_NOT_FOUND');
  });
  test('may not act as a participant', async () => {
    for (const [method, url, body] of routes) {
      if (url.includes('/cleanup') || method === 'GET') continue;
      const res = await api(app, method as any, url, serviceToken(), body);
      assert.equal(res.status, 403, `${method} ${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, 'FORBIDDEN');
    }
  });
  test('may clean up any call', async () => {
    const res = await api(app, 'DELETE', `/rtc/rooms/${CALL}/cleanup`, serviceToken());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { cleaned: true, released: { transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 } });
  });
});
