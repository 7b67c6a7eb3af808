// call_connected: once per call, when every producing participant's first
// RTP packet reached the worker. The test gives each participant a
// PlainTransport (attached to the participant as its send transport) so
// real RTP can be sent from a UDP socket without a browser; the producers
// are then created through POST /rtc/producers as usual.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { api, join, openEvents, opusParameters, sleep, startApp, until, type Peer } from './helpers';

let app: FastifyInstance;
let base: string;
before(async () => {
  app = await startApp();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

async function plainSendTransport(callId: string, userId: string): Promise<types.PlainTransport> {
  const room = app.rooms.get(callId)!;
  const plain = await room.router!.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true, appData: { userId },
  });
  room.participants.get(userId)!.addTransport({ transport: plain as unknown as types.WebRtcTransport, direction: 'send', connected: true });
  return plain;
}

function rtp(ssrc: number, seq: number): Buffer {
  const b = Buffer.alloc(12 + 20, 0xab);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 960, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

async function sendRtp(sock: dgram.Socket, plain: types.PlainTransport, ssrc: number, n = 5): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => sock.send(rtp(ssrc, i + 1), plain.tuple.localPort, '127.0.0.1', () => r()));
    await sleep(20);
  }
}

async function producePlain(peer: Peer, transportId: string): Promise<number> {
  const params = opusParameters();
  const r = await api(app, 'POST', '/rtc/producers', peer.tok, { callId: peer.callId, transportId, kind: 'audio', rtpParameters: params });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return params.encodings![0].ssrc!;
}

test('call_connected fires once, after both producers had RTP reach the worker', async () => {
  const callId = 'cc-1';
  const alice = await join(app, callId, 'alice');
  const bob = await join(app, callId, 'bob');
  const evs = [await openEvents(base, callId, alice.tok), await openEvents(base, callId, bob.tok)];
  await until(() => app.rooms.get(callId)!.events.count === 2, 3000, 'both online');
  const pa = await plainSendTransport(callId, 'alice');
  const pb = await plainSendTransport(callId, 'bob');
  const ssrcA = await producePlain(alice, pa.id);
  const ssrcB = await producePlain(bob, pb.id);
  const sa = dgram.createSocket('udp4');
  const sb = dgram.createSocket('udp4');
  try {
    await sendRtp(sa, pa, ssrcA);
    await sleep(300);
    assert.equal(evs.some((ev) => ev.events.some((e) => e.type === 'call_connected')), false, 'not before bob\'s media');
    const before = await api(app, 'GET', `/rtc/rooms/${callId}`, alice.tok);
    assert.equal(before.body.connected, false);

    await sendRtp(sb, pb, ssrcB);
    for (const ev of evs) {
      const e = await ev.waitFor((x) => x.type === 'call_connected', 3000);
      assert.equal(e.callId, callId);
      assert.ok(!Number.isNaN(Date.parse(e.at)));
    }
    // More media, more producers: still exactly once.
    await sendRtp(sa, pa, ssrcA);
    await sendRtp(sb, pb, ssrcB);
    await sleep(200);
    for (const ev of evs) assert.equal(ev.events.filter((e) => e.type === 'call_connected').length, 1);
    const room = await api(app, 'GET', `/rtc/rooms/${callId}`, alice.tok);
    assert.equal(room.body.connected, true);
    assert.ok(room.body.connectedAt);
  } finally {
    sa.close();
    sb.close();
    for (const ev of evs) ev.ws.close();
  }
  const r = await api(app, 'DELETE', `/rtc/rooms/${callId}/cleanup`, alice.tok);
  assert.deepEqual(r.body.released, { transports: 2, producers: 2, consumers: 0, dataProducers: 0, dataConsumers: 0 });
});
