// End-to-end 3: ffmpeg -> PlainTransports -> SFU -> PlainTransports -> ffmpeg.
// ffmpeg #1 sends Opus (sine) and VP8 (testsrc) as two plain RTP streams into
// two PlainTransports (rtcpMux false, comedia false: the test connects them
// to ffmpeg's own ports); two producers declare ffmpeg's SSRCs and payload
// types. Consumers on two more PlainTransports send to ffmpeg #2, which
// records from an SDP file into Matroska (-c copy). ffprobe must then see an
// Opus stream and a VP8 stream each at least MIN_SECONDS long (span and
// packet count).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorker, describeWorker, mediaCodecs, sleep, step, withTimeout } from './lib/common.mjs';
import { ask } from './lib/sfu-server.mjs';
import {
  checkFfmpeg, freePortPairs, probe, producerRtpParameters, recorderArgs, recorderSdp, senderArgs, startFfmpeg,
} from './lib/ffmpeg.mjs';
import { withDiagnostics, workerStats } from './lib/diagnose.mjs';

const RECORD_MS = Number(process.env.SFU_E2E_RECORD_MS ?? 8000);
const MIN_SECONDS = 2;

/** Router capabilities reduced to what a plain ffmpeg receiver handles: Opus + VP8, no RTX/feedback/extensions. */
function plainRecvCapabilities(routerCaps) {
  return {
    codecs: routerCaps.codecs
      .filter((c) => ['audio/opus', 'video/vp8'].includes(c.mimeType.toLowerCase()))
      .map((c) => ({ ...c, rtcpFeedback: [] })),
    headerExtensions: [],
  };
}

const plainOptions = { listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false };

test('ffmpeg: Opus + VP8 RTP through PlainTransports is recorded by a second ffmpeg', { timeout: 90_000 }, async (t) => {
  checkFfmpeg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-e2e-ffmpeg-'));
  let worker, sender, recorder;
  const objs = [];
  t.after(async () => {
    await sender?.stop();
    await recorder?.stop();
    worker?.close();
    if (!process.env.SFU_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  worker = await createWorker();
  const router = await step('router.createRouter', () => worker.createRouter({ mediaCodecs }));

  await withDiagnostics(async () => {
    const [sendA, sendV, recA, recV] = await freePortPairs(4);

    const inA = await step('createPlainTransport (audio in)', () => ask('router.createPlainTransport', router.createPlainTransport(plainOptions)));
    const inV = await step('createPlainTransport (video in)', () => ask('router.createPlainTransport', router.createPlainTransport(plainOptions)));
    objs.push(['plain in audio', inA], ['plain in video', inV]);
    await step('plainTransport.connect (audio in -> ffmpeg sender ports)',
      () => ask('plainTransport.connect', inA.connect({ ip: '127.0.0.1', port: sendA, rtcpPort: sendA + 1 })));
    await step('plainTransport.connect (video in -> ffmpeg sender ports)',
      () => ask('plainTransport.connect', inV.connect({ ip: '127.0.0.1', port: sendV, rtcpPort: sendV + 1 })));
    const prodA = await step('produce audio (Opus, ffmpeg ssrc/pt)',
      () => ask('transport.produce', inA.produce({ kind: 'audio', rtpParameters: producerRtpParameters.audio })));
    const prodV = await step('produce video (VP8, ffmpeg ssrc/pt)',
      () => ask('transport.produce', inV.produce({ kind: 'video', rtpParameters: producerRtpParameters.video })));
    objs.push(['producer audio', prodA], ['producer video', prodV]);

    const outA = await step('createPlainTransport (audio out)', () => ask('router.createPlainTransport', router.createPlainTransport(plainOptions)));
    const outV = await step('createPlainTransport (video out)', () => ask('router.createPlainTransport', router.createPlainTransport(plainOptions)));
    objs.push(['plain out audio', outA], ['plain out video', outV]);
    await step('plainTransport.connect (audio out -> recorder)',
      () => ask('plainTransport.connect', outA.connect({ ip: '127.0.0.1', port: recA, rtcpPort: recA + 1 })));
    await step('plainTransport.connect (video out -> recorder)',
      () => ask('plainTransport.connect', outV.connect({ ip: '127.0.0.1', port: recV, rtcpPort: recV + 1 })));
    const caps = plainRecvCapabilities(router.rtpCapabilities);
    const consA = await step('consume audio (paused)',
      () => ask('transport.consume', outA.consume({ producerId: prodA.id, rtpCapabilities: caps, paused: true })));
    const consV = await step('consume video (paused)',
      () => ask('transport.consume', outV.consume({ producerId: prodV.id, rtpCapabilities: caps, paused: true })));
    objs.push(['consumer audio', consA], ['consumer video', consV]);

    const sdp = recorderSdp({
      audio: { port: recA, payloadType: consA.rtpParameters.codecs[0].payloadType },
      video: { port: recV, payloadType: consV.rtpParameters.codecs[0].payloadType },
    });
    const sdpPath = path.join(tmp, 'recv.sdp');
    const outPath = path.join(tmp, 'out.mkv');
    fs.writeFileSync(sdpPath, sdp);
    recorder = startFfmpeg(recorderArgs(sdpPath, outPath), 'ffmpeg recorder');
    await sleep(500); // let the recorder bind its ports
    sender = startFfmpeg(senderArgs({
      audio: { port: inA.tuple.localPort, rtcpPort: inA.rtcpTuple.localPort, localRtpPort: sendA, localRtcpPort: sendA + 1 },
      video: { port: inV.tuple.localPort, rtcpPort: inV.rtcpTuple.localPort, localRtpPort: sendV, localRtcpPort: sendV + 1 },
    }), 'ffmpeg sender');
    await step('consumer.resume (audio)', () => ask('consumer.resume', consA.resume()));
    await step('consumer.resume (video)', () => ask('consumer.resume', consV.resume()));

    await sleep(RECORD_MS);
    if (sender.exited) throw new Error(`ffmpeg sender exited early: ${sender.describe()}`);
    if (recorder.exited) throw new Error(`ffmpeg recorder exited early: ${recorder.describe()}`);
    // Recorder first, while packets still arrive: ffmpeg then ends cleanly at the next packet.
    await recorder.stop();
    await sender.stop();

    const info = await step('ffprobe the recording', async () => {
      if (!fs.existsSync(outPath) || fs.statSync(outPath).size === 0) {
        throw new Error(`no recording written (${outPath}); ${recorder.describe()}`);
      }
      return probe(outPath);
    });
    t.diagnostic(`recording: ${JSON.stringify(info)}`);
    // For the record (not asserted: needs the worker's getStats): what the SFU counted.
    const counts = [];
    for (const [label, c] of [['audio', consA], ['video', consV]]) {
      try {
        const st = await withTimeout(c.getStats(), 3000, 'consumer.getStats');
        counts.push(`${label} in ${st.find((x) => x.type === 'inbound-rtp')?.packetCount} out ${st.find((x) => x.type === 'outbound-rtp')?.packetCount}`);
      } catch (err) {
        counts.push(`${label} (${err.message})`);
      }
    }
    t.diagnostic(`SFU packet counts: ${counts.join(', ')}`);
    assert.equal(info.audio?.codec, 'opus', `no Opus stream in the recording: ${JSON.stringify(info)}`);
    assert.equal(info.video?.codec, 'vp8', `no VP8 stream in the recording: ${JSON.stringify(info)}`);
    assert.ok(info.audio.seconds >= MIN_SECONDS, `audio lasts ${info.audio.seconds.toFixed(2)} s < ${MIN_SECONDS} s`);
    assert.ok(info.video.seconds >= MIN_SECONDS, `video lasts ${info.video.seconds.toFixed(2)} s < ${MIN_SECONDS} s`);
    // And as much content (timestamps alone can stretch: ffmpeg rebases them on each RTCP SR).
    assert.ok(info.audio.packets >= MIN_SECONDS * 50, `only ${info.audio.packets} Opus packets (20 ms each) recorded`);
    assert.ok(info.video.packets >= MIN_SECONDS * 30, `only ${info.video.packets} VP8 frames (30 fps) recorded`);
  }, [
    async () => describeWorker(worker),
    async () => workerStats(objs),
    async () => [sender, recorder].filter(Boolean).map((p) => p.describe()).join('\n'),
  ]);
});
