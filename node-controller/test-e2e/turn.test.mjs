// TURN (issue 12): clients behind a NAT that lets nothing but a TURN relay
// through. Debian's coturn runs on loopback with the TURN REST API scheme;
// the controller hands out its URL and time-limited credentials in RTC-01
// (TURN_URLS, TURN_SECRET); two Chromium pages join with
// iceTransportPolicy "relay": every transport's selected candidate pair must
// be a relay one (through coturn's relay ports), and media must flow both
// ways through it (bytes rise on the pairs and inbound audio rises on both
// pages). A wrong secret: no relay candidate, the transports never connect.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { buildDemo } from '../demo/build.mjs';
import { signJwt } from './lib/jwt.mjs';
import { startController, openUser, waitFor, sleep, demoState, audioIn } from './lib/harness.mjs';
import { startTurnServer } from './lib/turnserver.mjs';

const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
const turnSecret = crypto.randomBytes(24).toString('hex');

async function joinRelay(ctl, callId, user) {
  const tok = signJwt({ sub: user, callId }, secret);
  const u = await openUser(`${ctl.url}/?callId=${callId}&token=${tok}&relay=1`, user);
  await u.page.click('#join');
  return u;
}

const pairsOf = (u) => u.page.evaluate(() => window.demo.transportStats());

test('a relay-only call through coturn: relay candidate pairs, media both ways', { timeout: 120_000 }, async (t) => {
  await buildDemo();
  const turn = await startTurnServer({ secret: turnSecret });
  const ctl = await startController({
    secret, env: { TURN_URLS: turn.url, TURN_SECRET: turnSecret, TURN_TTL_S: '600', RTC_EMPTY_ROOM_TIMEOUT_MS: '60000' },
  });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
    await turn.stop();
  });
  const callId = `turn-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const t0 = Date.now();
    const alice = await joinRelay(ctl, callId, 'alice');
    users.push(alice);
    await waitFor('alice joined', async () => (await demoState(alice)).phase === 'joined', { timeout: 20_000 });
    const bob = await joinRelay(ctl, callId, 'bob');
    users.push(bob);
    await waitFor('bob joined', async () => (await demoState(bob)).phase === 'joined', { timeout: 20_000 });
    const iceServers = await alice.page.evaluate(() => window.demo.state.iceServers);
    assert.equal(iceServers.length, 1);
    assert.deepEqual(iceServers[0].urls, [turn.url]);
    assert.match(iceServers[0].username, /^\d+:alice$/);

    // Both transports of both pages connected over a relay candidate of coturn.
    const pairs = {};
    for (const u of [alice, bob]) {
      pairs[u.label] = await waitFor(`${u.label}: both transports on a selected pair`, async () => {
        const p = await pairsOf(u);
        return p.send?.state === 'succeeded' && p.recv?.state === 'succeeded' && p;
      }, { timeout: 20_000 });
      for (const dir of ['send', 'recv']) {
        const p = pairs[u.label][dir];
        assert.equal(p.local.type, 'relay', `${u.label} ${dir}: local candidate ${JSON.stringify(p.local)}`);
        assert.equal(p.local.relayProtocol, 'udp');
        assert.ok(p.local.port >= turn.relayMin && p.local.port <= turn.relayMax, `${u.label} ${dir}: relay port ${p.local.port}`);
        assert.ok(p.remote.port >= 40000 && p.remote.port <= 41000, `${u.label} ${dir}: the SFU's candidate ${JSON.stringify(p.remote)}`);
      }
    }
    const connectedMs = Date.now() - t0;
    assert.ok(turn.allocations() >= 4, `coturn allocations: ${turn.allocations()}`);

    // Media both ways through the relays: inbound audio and the pairs' bytes rise, sample after sample.
    for (const u of [alice, bob]) await waitFor(`${u.label} receives audio`, async () => (await audioIn(u)) > 0, { timeout: 15_000 });
    const first = { alice: await pairsOf(alice), bob: await pairsOf(bob) };
    const audio0 = { alice: await audioIn(alice), bob: await audioIn(bob) };
    let prev = { ...audio0 };
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      for (const u of [alice, bob]) {
        const now = await audioIn(u);
        assert.ok(now > prev[u.label], `${u.label}: inbound audio did not rise (${prev[u.label]} -> ${now})`);
        prev[u.label] = now;
      }
    }
    const lastPairs = { alice: await pairsOf(alice), bob: await pairsOf(bob) };
    const figures = [];
    for (const u of ['alice', 'bob']) {
      const sent = lastPairs[u].send.bytesSent - first[u].send.bytesSent;
      const got = lastPairs[u].recv.bytesReceived - first[u].recv.bytesReceived;
      assert.ok(sent > 5000, `${u}: ${sent} bytes sent through the relay in 3 s`);
      assert.ok(got > 5000, `${u}: ${got} bytes received through the relay in 3 s`);
      assert.equal(lastPairs[u].send.local.type, 'relay');
      figures.push(`${u} sent ${(sent * 8 / 3000).toFixed(1)} kbit/s, received ${(got * 8 / 3000).toFixed(1)} kbit/s`);
    }
    // The SFU sees the call connected with both through the relay.
    const svc = signJwt({ sub: 'backend', role: 'service' }, secret);
    const room = await ctl.get(`/rtc/rooms/${callId}`, svc);
    assert.equal(room.data.connected, true);
    t.diagnostic(`TURN relay-only call: both pages connected ${connectedMs} ms after the first join; ${turn.allocations()} allocations; ${figures.join('; ')}; relay ports ${['alice', 'bob'].map((u) => `${u} ${lastPairs[u].send.local.port}/${lastPairs[u].recv.local.port}`).join(', ')}`);
  } catch (err) {
    const parts = [err.message];
    for (const u of users) parts.push(await u.describe());
    parts.push(ctl.logTail(), `turnserver log tail:\n${turn.log().slice(-3000)}`);
    err.message = parts.join('\n');
    throw err;
  }
});

test('TURN credentials from another secret: coturn refuses them, a relay-only transport never connects', { timeout: 60_000 }, async (t) => {
  await buildDemo();
  const turn = await startTurnServer({ secret: turnSecret, relayMin: 49500, relayMax: 49599 });
  const ctl = await startController({ secret, env: { TURN_URLS: turn.url, TURN_SECRET: 'another-secret-0123456789' } });
  const users = [];
  t.after(async () => {
    for (const u of users) await u.close();
    await ctl.stop();
    await turn.stop();
  });
  const u = await joinRelay(ctl, `turn-bad-${crypto.randomBytes(3).toString('hex')}`, 'mallory');
  users.push(u);
  await sleep(5000);
  const p = await pairsOf(u);
  assert.ok(!p.send || p.send.state !== 'succeeded', `send pair: ${JSON.stringify(p.send)}`);
  assert.equal(turn.allocations(), 0, 'coturn allocated with a wrong credential');
  assert.match(turn.log(), /401|Unauthorized|check_stun_auth|wrong/i);
});
