// Self-checks of the e2e harness that need no media path in the worker, so
// they pass before the worker can forward media and show that a failure of
// browser/werift/ffmpeg.test.mjs is the worker's, not the harness's:
//   - the page bundle builds;
//   - Chromium starts (in the netns), loads the page from the server URL, gets
//     fake camera + microphone, Device.load()s the worker's router
//     capabilities, and both pages negotiate completely (offer/answer for
//     2 producers and 2 consumers) against a "fake" SFU whose transport and
//     produce/consume answers come from mediasoup's own ORTC code;
//   - the werift SDP bridge produces parameters mediasoup accepts, and
//     accepts the consumer parameters mediasoup generates;
//   - ffmpeg's sender emits RTP with the declared SSRC/payload type from the
//     declared ports (received with dgram sockets), and the recorder turns
//     those packets, replayed as an SFU consumer would send them, into a file
//     where ffprobe finds >= 2 s of Opus and of VP8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorker, mediaCodecs, ortc, sleep, step } from './lib/common.mjs';
import { buildPageBundle } from './lib/bundle.mjs';
import { startSfuServer } from './lib/sfu-server.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { createReceiver, createSender, recvRtpCapabilities } from './lib/werift-client.mjs';
import {
  SEND, checkFfmpeg, freePortPairs, probe, recorderArgs, recorderSdp, senderArgs, startFfmpeg, udpSink,
} from './lib/ffmpeg.mjs';
import { parseRtp, isRtcp, summarise } from './lib/rtp.mjs';
import { waitFor, withDiagnostics } from './lib/diagnose.mjs';

let bundle;

test('harness: the page bundle (mediasoup-client + page/main.js) builds', async () => {
  bundle = await buildPageBundle();
  assert.ok(bundle.length > 50_000, `bundle is only ${bundle.length} bytes`);
  assert.match(bundle, /Chrome111/, 'mediasoup-client handlers missing from the bundle');
});

test('harness: Chromium loads the page, fakes media, Device.load()s the worker router, both pages negotiate', { timeout: 90_000 }, async (t) => {
  bundle ??= await buildPageBundle();
  let worker, server, browser, pageA, pageB;
  t.after(async () => {
    await browser?.close();
    await server?.close();
    worker?.close();
  });
  // The router (and so Device.load's capabilities) comes from the worker under test.
  worker = await createWorker();
  const router = await step('router.createRouter', () => worker.createRouter({ mediaCodecs }));
  server = await startSfuServer({ router, bundle, fake: true });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  browser = await step('launch /usr/bin/chromium', () => launchChromium());
  await withDiagnostics(async () => {
    pageA = await step('page A: open server URL', () => browser.newPage(server.url, 'A'));
    pageB = await step('page B: open server URL', () => browser.newPage(server.url, 'B'));
    assert.equal(await pageA.evaluate(() => location.origin), server.url.slice(0, -1));
    const info = await step('page A: init', () => pageA.evaluate(() => window.e2e.init()));
    t.diagnostic(`handler ${info.handlerName}; ${info.userAgent}`);
    assert.equal(info.handlerName, 'Chrome111');
    assert.ok(info.canProduceAudio && info.canProduceVideo, JSON.stringify(info));
    await step('page B: init', () => pageB.evaluate(() => window.e2e.init()));
    const pub = await step('page A: publish', () => pageA.evaluate(() => window.e2e.publish()));
    assert.deepEqual(pub.producers.map((p) => p.codec.toLowerCase()), ['audio/opus', 'video/vp8']);
    assert.equal(pub.tracks.length, 2);
    for (const tr of pub.tracks) assert.match(tr, /:live$/, `fake device track not live: ${tr}`);
    const sub = await step('page B: subscribe', () => pageB.evaluate((ids) => window.e2e.subscribe(ids), pub.producers.map((p) => p.id)));
    assert.deepEqual(sub.consumers.map((c) => c.codec.toLowerCase()), ['audio/opus', 'video/vp8']);
    // Every signalling step was taken, in order, and every answer accepted by the page.
    assert.deepEqual(server.state.requests, [
      'rtpCapabilities ok', 'rtpCapabilities ok', 'createTransport ok', 'connect ok', 'produce ok', 'produce ok',
      'createTransport ok', 'consume ok', 'connect ok', 'resume ok', 'consume ok', 'resume ok',
    ]);
    // mediasoup-client's DTLS role choice reached the server.
    for (const tr of server.state.transports.values()) assert.ok(['client', 'server'].includes(tr.remoteDtlsRole));
  }, [async () => server.describe(), async () => [...(pageA?.consoleLines ?? []), ...(pageB?.consoleLines ?? [])].join('\n')]);
});

function fakeTransport() {
  const fp = crypto.randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':');
  return {
    id: crypto.randomUUID(),
    iceParameters: { usernameFragment: 'abcd1234abcd1234', password: 'pass'.repeat(8), iceLite: true },
    iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, address: '127.0.0.1', protocol: 'udp', port: 9, type: 'host' },
      { foundation: 'tcpcandidate', priority: 1076276479, address: '127.0.0.1', protocol: 'tcp', port: 9, type: 'host', tcpType: 'passive' }],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: fp }] },
  };
}

test('harness: the werift SDP bridge and mediasoup ORTC accept each other\'s parameters', async (t) => {
  const caps = ortc.generateRouterRtpCapabilities(mediaCodecs);
  const sender = await createSender(fakeTransport());
  const receivers = [];
  t.after(async () => {
    await sender.stop();
    for (const r of receivers) await r.close();
  });
  assert.equal(sender.connectParams.role, 'client');
  assert.equal(sender.connectParams.fingerprints[0].algorithm, 'sha-256');
  assert.match(sender.remoteSdp, /a=ice-lite/);
  const params = structuredClone(sender.rtpParameters);
  ortc.validateAndNormalizeRtpParameters(params);
  const mapping = ortc.getProducerRtpParametersMapping(params, caps);
  const consumable = ortc.getConsumableRtpParameters('audio', params, caps, mapping);
  assert.ok(ortc.canConsume(consumable, recvRtpCapabilities));
  const rtpParameters = ortc.getConsumerRtpParameters({
    consumableRtpParameters: consumable, remoteRtpCapabilities: recvRtpCapabilities, pipe: false, enableRtx: false,
  });
  rtpParameters.mid = '0';
  const receiver = await createReceiver(fakeTransport(), { id: crypto.randomUUID(), kind: 'audio', rtpParameters });
  receivers.push(receiver);
  assert.ok(['client', 'server'].includes(receiver.connectParams.role));
  assert.match(receiver.localSdp, /a=recvonly/);
  assert.match(receiver.localSdp, /opus\/48000\/2/);
});

test('harness: ffmpeg sends the declared RTP, and its recorder turns consumer-like RTP into >= 2 s of Opus + VP8', { timeout: 60_000 }, async (t) => {
  checkFfmpeg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-e2e-harness-'));
  const procs = [];
  const sinks = [];
  t.after(async () => {
    for (const p of procs) await p.stop();
    for (const s of sinks) await s.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  // 1. The sender, into dgram sockets standing in for the PlainTransports.
  const [dstA, dstV, srcA, srcV, recA, recV] = await freePortPairs(6);
  const [a, ar, v, vr] = await Promise.all([udpSink(dstA), udpSink(dstA + 1), udpSink(dstV), udpSink(dstV + 1)]);
  sinks.push(a, ar, v, vr);
  const sender = startFfmpeg(senderArgs({
    audio: { port: dstA, rtcpPort: dstA + 1, localRtpPort: srcA, localRtcpPort: srcA + 1 },
    video: { port: dstV, rtcpPort: dstV + 1, localRtpPort: srcV, localRtcpPort: srcV + 1 },
  }), 'ffmpeg sender');
  procs.push(sender);
  // 3 s of media (ffmpeg itself may take a second or two to start on a busy machine).
  await waitFor('3 s of RTP from the ffmpeg sender', async () => ({ audio: a.packets.length, video: v.packets.length }),
    (s) => s.audio >= 150 && s.video >= 90, { timeoutMs: 15_000 });
  await sender.stop();
  const A = a.packets.map((p) => parseRtp(p.buf));
  const V = v.packets.map((p) => parseRtp(p.buf));
  const sa = summarise(A, SEND.audio.clockRate);
  const sv = summarise(V, SEND.video.clockRate);
  t.diagnostic(`sender: audio ${JSON.stringify(sa)} video ${JSON.stringify(sv)} rtcp ${ar.packets.length}/${vr.packets.length}`);
  assert.ok(sa.count >= 150, `audio: ${sa.count} RTP packets; ${sender.describe()}`);
  assert.ok(sv.count >= 60, `video: ${sv.count} RTP packets; ${sender.describe()}`);
  assert.deepEqual(sa.ssrcs, [SEND.audio.ssrc]);
  assert.deepEqual(sa.payloadTypes, [SEND.audio.payloadType]);
  assert.deepEqual(sv.ssrcs, [SEND.video.ssrc]);
  assert.deepEqual(sv.payloadTypes, [SEND.video.payloadType]);
  assert.equal(sa.seqGaps + sv.seqGaps, 0);
  // comedia false: the PlainTransports are connect()ed to these source ports.
  assert.deepEqual([...new Set(a.packets.map((p) => p.from))], [srcA]);
  assert.deepEqual([...new Set(v.packets.map((p) => p.from))], [srcV]);
  assert.ok(ar.packets.length > 0 && ar.packets.every((p) => isRtcp(p.buf)), 'no RTCP (SR) from the audio sender');
  assert.ok(V.some((p) => p.marker), 'no RTP marker bit on VP8 frames');

  // 2. The recorder, fed the captured packets the way a consumer sends them:
  //    the consumer's own SSRC and the router's payload types, original pacing.
  const cons = { audio: { ssrc: 123456, pt: 100 }, video: { ssrc: 654321, pt: 101 } };
  const sdpPath = path.join(tmp, 'recv.sdp');
  const outPath = path.join(tmp, 'out.mkv');
  fs.writeFileSync(sdpPath, recorderSdp({ audio: { port: recA, payloadType: cons.audio.pt }, video: { port: recV, payloadType: cons.video.pt } }));
  const recorder = startFfmpeg(recorderArgs(sdpPath, outPath), 'ffmpeg recorder');
  procs.push(recorder);
  await sleep(500);
  const out = dgram.createSocket('udp4');
  await new Promise((r) => out.bind(0, '127.0.0.1', r));
  const rewrite = (buf, c) => {
    const b = Buffer.from(buf);
    b[1] = (b[1] & 0x80) | c.pt;
    b.writeUInt32BE(c.ssrc, 8);
    return b;
  };
  const all = [
    ...a.packets.map((p) => ({ t: p.t, buf: rewrite(p.buf, cons.audio), port: recA })),
    ...v.packets.map((p) => ({ t: p.t, buf: rewrite(p.buf, cons.video), port: recV })),
  ].sort((x, y) => x.t - y.t);
  const t0 = Date.now();
  for (const p of all) {
    const wait = t0 + (p.t - all[0].t) - Date.now();
    if (wait > 0) await sleep(wait);
    out.send(p.buf, p.port, '127.0.0.1');
  }
  await recorder.stop();
  out.close();
  const info = await probe(outPath);
  t.diagnostic(`recorder: ${JSON.stringify(info)}`);
  assert.equal(info.audio?.codec, 'opus', `${JSON.stringify(info)}; ${recorder.describe()}`);
  assert.equal(info.video?.codec, 'vp8', `${JSON.stringify(info)}; ${recorder.describe()}`);
  assert.ok(info.audio.seconds >= 2, `audio ${info.audio.seconds} s`);
  assert.ok(info.video.seconds >= 2, `video ${info.video.seconds} s`);
});
