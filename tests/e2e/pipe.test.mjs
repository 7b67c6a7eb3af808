// End-to-end through a pipe between two worker processes: Chromium page A
// publishes Opus + VP8 (640x360; measured once A's encoder is at that size) on worker 1; both producers are
// piped with router.pipeToRouter() to a router on worker 2 (a second worker
// process, the library drives the PipeTransports); Chromium page B consumes
// the pipe producers on worker 2. B must decode the video at A's resolution
// and frame rate (frames decoded rising, >= 15 fps and >= 85 % of A's) and
// hear audio with energy (totalAudioEnergy rising); the pipe transports on
// both workers must carry RTP both ways' worth of bytes (RTP one way, RTCP
// back, key frame requests included).
//   node --test tests/e2e/pipe.test.mjs   (scripts/run-e2e.sh runs it in a loopback-only netns)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertWorkerAlive, createWorker, describeWorker, mediaCodecs, step } from './lib/common.mjs';
import { buildPageBundle } from './lib/bundle.mjs';
import { startSfuServer } from './lib/sfu-server.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { assertRising, waitFor, withDiagnostics, workerStats } from './lib/diagnose.mjs';

const MEASURE_MS = Number(process.env.SFU_E2E_MEASURE_MS ?? 5000);

async function inPage(page, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    const e = new Error(err.message.replace(/^page\.evaluate: (Error: )?/, '').split('\n    at ')[0]);
    e.stack = `Error: ${e.message}`;
    throw e;
  }
}

test('pipe: Chromium A on worker 1, piped to worker 2, Chromium B decodes video and hears audio', { timeout: 120_000 }, async (t) => {
  let worker1, worker2, server1, server2, browser, pageA, pageB;
  const piped = [];
  t.after(async () => {
    await browser?.close();
    await server1?.close();
    await server2?.close();
    worker1?.close();
    worker2?.close();
  });

  const bundle = await step('build page bundle (esbuild)', () => buildPageBundle());
  worker1 = await createWorker();
  worker2 = await createWorker();
  assert.notEqual(worker1.pid, worker2.pid);
  const router1 = await step('worker 1: createRouter', () => worker1.createRouter({ mediaCodecs }));
  const router2 = await step('worker 2: createRouter', () => worker2.createRouter({ mediaCodecs }));
  server1 = await startSfuServer({ router: router1, bundle });
  server2 = await startSfuServer({ router: router2, bundle });
  browser = await step('launch /usr/bin/chromium', () => launchChromium());

  const pipeTransports = () => [router1, router2].flatMap((r) => [...r.transportsForTesting.values()]
    .filter((x) => x.constructor.name === 'PipeTransportImpl'));
  const diagnostics = [
    async () => `server 1: ${server1.describe()}\nserver 2: ${server2.describe()}`,
    async () => describeWorker(worker1),
    async () => describeWorker(worker2),
    async () => workerStats([
      ...pipeTransports().map((p, i) => [`pipe transport ${i}`, p]),
      ...piped.flatMap((x) => [[`pipe consumer ${x.kind}`, x.pipeConsumer], [`pipe producer ${x.kind}`, x.pipeProducer]]),
      ...[...server2.state.consumers.values()].map((e) => [`consumer ${e.kind} (worker 2)`, e.consumer]),
    ]),
    async () => [...(pageA?.consoleLines ?? []), ...(pageB?.consoleLines ?? [])].slice(-30).join('\n'),
  ];

  await withDiagnostics(async () => {
    pageA = await step('page A (worker 1): open', () => browser.newPage(server1.url, 'A'));
    pageB = await step('page B (worker 2): open', () => browser.newPage(server2.url, 'B'));
    const infoA = await step('page A: init', () => inPage(pageA, () => window.e2e.init()));
    assert.ok(infoA.canProduceAudio && infoA.canProduceVideo, `page A cannot produce: ${JSON.stringify(infoA)}`);
    await step('page B: init', () => inPage(pageB, () => window.e2e.init()));

    const pub = await step('page A: publish 640x360 at 30 fps', () =>
      inPage(pageA, () => window.e2e.publish({ width: 640, height: 360, fps: 30 })));
    assert.deepEqual(pub.producers.map((p) => p.codec.toLowerCase()), ['audio/opus', 'video/vp8']);

    for (const p of pub.producers) {
      const r = await step(`router1.pipeToRouter(${p.kind}) -> worker 2`,
        () => router1.pipeToRouter({ producerId: p.id, router: router2 }));
      assert.equal(r.pipeConsumer.type, 'pipe');
      assert.equal(r.pipeProducer.id, p.id);
      piped.push({ kind: p.kind, ...r });
      // worker 2's signalling server may now hand the pipe producer to page B
      server2.state.producers.set(r.pipeProducer.id, { producer: r.pipeProducer, kind: p.kind, rtpParameters: r.pipeProducer.rtpParameters });
    }
    assert.equal(pipeTransports().length, 2, 'one PipeTransport on each worker (shared by both producers)');

    const sub = await step('page B: subscribe to the pipe producers on worker 2',
      () => inPage(pageB, (ids) => window.e2e.subscribe(ids, { playAudio: true }), pub.producers.map((p) => p.id)));
    assert.equal(sub.consumers.length, 2);

    const sample = async () => (assertWorkerAlive(worker1), assertWorkerAlive(worker2), {
      a: await inPage(pageA, () => window.e2e.stats()),
      b: await inPage(pageB, () => window.e2e.stats()),
      at: Date.now(),
    });
    await step('wait for decoded video and audio energy on B', () => waitFor(
      'B video framesDecoded > 0 and audio totalAudioEnergy > 0 (if video is missing: did the key frame request '
        + 'travel back through the pipe to Chromium A?)', sample,
      (s) => s.b.inbound.video?.framesDecoded > 0 && s.b.inbound.audio?.totalAudioEnergy > 0,
      { timeoutMs: 25_000 },
    ));
    // A's encoder starts small and grows with its bandwidth estimate: measure at full size
    await step('wait for A to send 640x360', () => waitFor('A outbound video 640 px wide', sample,
      (s) => s.a.outbound.video?.frameWidth === 640, { timeoutMs: 40_000 }));
    const samples = await step(`media keeps flowing through the pipe for ${MEASURE_MS / 1000} s`, () => assertRising({
      sample,
      durationMs: MEASURE_MS,
      counters: {
        'A outbound video bytesSent': (s) => s.a.outbound.video?.bytesSent,
        'B inbound audio bytesReceived': (s) => s.b.inbound.audio?.bytesReceived,
        'B inbound audio totalAudioEnergy': (s) => s.b.inbound.audio?.totalAudioEnergy,
        'B inbound video framesDecoded': (s) => s.b.inbound.video?.framesDecoded,
      },
    }));
    const first = samples[0].s;
    const last = samples[samples.length - 1].s;
    const secs = (last.at - first.at) / 1000;
    const fps = (last.b.inbound.video.framesDecoded - first.b.inbound.video.framesDecoded) / secs;
    const fpsA = (last.a.outbound.video.framesEncoded - first.a.outbound.video.framesEncoded) / secs;
    const energy = last.b.inbound.audio.totalAudioEnergy - first.b.inbound.audio.totalAudioEnergy;
    t.diagnostic(`B over ${secs.toFixed(1)} s: video ${last.b.inbound.video.frameWidth}x${last.b.inbound.video.frameHeight} `
      + `${fps.toFixed(1)} fps decoded (${last.b.inbound.video.framesDecoded} frames), audio energy +${energy.toFixed(4)}, `
      + `A sent ${last.a.outbound.video.frameWidth}x${last.a.outbound.video.frameHeight} ${fpsA.toFixed(1)} fps encoded `
      + `(quality limitation: ${last.a.outbound.video.qualityLimitationReason})`);
    // B decodes what A sends: same resolution, and A's frame rate
    assert.equal(last.b.inbound.video.frameWidth, last.a.outbound.video.frameWidth);
    assert.equal(last.b.inbound.video.frameHeight, last.a.outbound.video.frameHeight);
    assert.equal(last.b.inbound.video.frameWidth, 640);
    assert.equal(last.b.inbound.video.frameHeight, 360);
    assert.ok(fps >= 15, `B decodes ${fps.toFixed(1)} fps through the pipe (want >= 15)`);
    assert.ok(fps >= 0.85 * fpsA, `B decodes ${fps.toFixed(1)} fps of A's ${fpsA.toFixed(1)}`);
    assert.ok(last.b.inbound.video.freezeCount === 0 || last.b.inbound.video.totalFreezesDuration < 1, 'no long freeze');
    assert.ok(energy > 0.001, `B hears audio energy ${energy} through the pipe`);

    // the pipe carried it: RTP out of worker 1's pipe, into worker 2's
    const [pc1, pp2] = [piped[1].pipeConsumer, piped[1].pipeProducer];
    const out1 = (await pc1.getStats()).find((s) => s.type === 'outbound-rtp');
    const in2 = (await pp2.getStats())[0];
    assert.ok(out1.packetCount > 100, `pipe consumer sent ${out1.packetCount} video packets`);
    assert.ok(in2.packetCount >= out1.packetCount * 0.95, `pipe producer received ${in2.packetCount} of ${out1.packetCount}`);
    for (const p of pipeTransports()) {
      const [st] = await p.getStats();
      assert.ok(st.bytesReceived > 0 && st.bytesSent > 0, `pipe transport ${p.id.slice(0, 8)}: ${st.bytesSent} sent, ${st.bytesReceived} received`);
    }
  }, diagnostics);
});
