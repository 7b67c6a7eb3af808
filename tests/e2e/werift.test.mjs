// End-to-end 2: an audio round trip through the SFU with a second,
// independent WebRTC stack (werift, pure TypeScript). Client 1 sends real Opus
// packets (fixtures/opus-sine-440.json, looped, 50 packets/s) over a
// WebRtcTransport; client 2 consumes the producer over another one. For 5 s,
// sampled every 500 ms, the received packet count must rise at every sample,
// and every received payload must be one of the sent Opus frames, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertWorkerAlive, createWorker, describeWorker, e2eDir, mediaCodecs, step } from './lib/common.mjs';
import { ask, webRtcTransportOptions } from './lib/sfu-server.mjs';
import { createReceiver, createSender, recvRtpCapabilities } from './lib/werift-client.mjs';
import { assertRising, waitFor, withDiagnostics, workerStats } from './lib/diagnose.mjs';

const MEASURE_MS = Number(process.env.SFU_E2E_MEASURE_MS ?? 5000);
const fixture = JSON.parse(fs.readFileSync(path.join(e2eDir, 'fixtures', 'opus-sine-440.json'), 'utf8'));
const frames = fixture.packets.map((b) => Buffer.from(b, 'base64'));

function transportInfo(t) {
  return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
}

test('werift: Opus sent by one werift client arrives at another through the SFU', { timeout: 90_000 }, async (t) => {
  let worker, sender, receiver;
  const events = [];
  const objs = [];
  t.after(async () => {
    await sender?.stop().catch(() => {});
    await receiver?.close().catch(() => {});
    worker?.close();
  });
  worker = await createWorker();
  const router = await step('router.createRouter', () => worker.createRouter({ mediaCodecs }));
  const note = (s) => events.push(`${new Date().toISOString().slice(11, 23)} ${s}`);

  await withDiagnostics(async () => {
    const sendT = await step('createWebRtcTransport (send)',
      () => ask('router.createWebRtcTransport', router.createWebRtcTransport(webRtcTransportOptions)));
    objs.push(['transport send', sendT]);
    sendT.on('icestatechange', (s) => note(`server send ice ${s}`));
    sendT.on('dtlsstatechange', (s) => note(`server send dtls ${s}`));
    sender = await step('werift sender: offer/answer', () => createSender(transportInfo(sendT), { onState: note }));
    await step('webRtcTransport.connect (send)',
      () => ask('webRtcTransport.connect', sendT.connect({ dtlsParameters: sender.connectParams })));
    const producer = await step('produce audio (Opus from werift)',
      () => ask('transport.produce', sendT.produce({ kind: 'audio', rtpParameters: sender.rtpParameters })));
    objs.push(['producer', producer]);
    sender.start(frames);

    const recvT = await step('createWebRtcTransport (recv)',
      () => ask('router.createWebRtcTransport', router.createWebRtcTransport(webRtcTransportOptions)));
    objs.push(['transport recv', recvT]);
    recvT.on('icestatechange', (s) => note(`server recv ice ${s}`));
    recvT.on('dtlsstatechange', (s) => note(`server recv dtls ${s}`));
    const consumer = await step('consume (paused)', () => ask('transport.consume',
      recvT.consume({ producerId: producer.id, rtpCapabilities: recvRtpCapabilities, paused: true })));
    objs.push(['consumer', consumer]);
    receiver = await step('werift receiver: offer/answer',
      () => createReceiver(transportInfo(recvT), consumer, { onState: note }));
    await step('webRtcTransport.connect (recv)',
      () => ask('webRtcTransport.connect', recvT.connect({ dtlsParameters: receiver.connectParams })));
    await step('consumer.resume', () => ask('consumer.resume', consumer.resume()));

    const sample = async () => (assertWorkerAlive(worker), { received: receiver.packets.length, sent: sender.sent });
    await step('wait for the first RTP packet at the receiver',
      () => waitFor('receiver got RTP', sample, (s) => s.received > 0, { timeoutMs: 15_000 }));
    const before = receiver.packets.length;
    await step(`RTP keeps arriving for ${MEASURE_MS / 1000} s`, () => assertRising({
      sample,
      durationMs: MEASURE_MS,
      counters: { 'werift receiver RTP packets': (s) => s.received, 'werift sender RTP packets': (s) => s.sent },
    }));
    const got = receiver.packets.slice(before);
    const expected = MEASURE_MS / 20;
    assert.ok(got.length >= 0.8 * expected, `only ${got.length} packets in ${MEASURE_MS} ms (expected about ${expected})`);

    // What arrived is what was sent: the consumer's SSRC/PT, and the Opus payloads unchanged and in order.
    const enc = consumer.rtpParameters.encodings[0];
    const pt = consumer.rtpParameters.codecs[0].payloadType;
    assert.deepEqual([...new Set(got.map((p) => p.ssrc))], [enc.ssrc], 'SSRC is not the consumer\'s');
    assert.deepEqual([...new Set(got.map((p) => p.pt))], [pt], 'payload type is not the consumer\'s');
    const index = new Map(frames.map((f, i) => [f.toString('hex'), i]));
    let outOfOrder = 0;
    for (let i = 0; i < got.length; i++) {
      const k = index.get(got[i].payload.toString('hex'));
      assert.ok(k !== undefined, `packet seq ${got[i].seq}: payload is not one of the sent Opus frames (${got[i].payload.length} bytes)`);
      if (i > 0 && ((got[i - 1].seq + 1) & 0xffff) === got[i].seq) {
        const prev = index.get(got[i - 1].payload.toString('hex'));
        if ((prev + 1) % frames.length !== k) outOfOrder++;
      }
    }
    assert.equal(outOfOrder, 0, `${outOfOrder} consecutive packets carry non-consecutive Opus frames`);
    t.diagnostic(`received ${got.length} RTP packets in ${MEASURE_MS} ms (sent ${sender.sent} in total), payloads intact`);
  }, [
    async () => describeWorker(worker),
    async () => `client/server events: ${events.join(', ') || '(none)'}`,
    async () => workerStats(objs),
    async () => (sender ? `sender SDP (werift offer):\n${sender.localSdp}\nbridge answer:\n${sender.remoteSdp}` : ''),
  ]);
});
