// End-to-end 1: two Chromium pages with mediasoup-client through the SFU.
// Page A sends Opus + VP8 from Chromium's fake devices over a WebRtcTransport;
// page B consumes both (created paused, then resumed). For 5 s, sampled every
// 500 ms, B's audio bytesReceived and video framesDecoded and A's audio and
// video bytesSent must rise at every sample.
//   node --test tests/e2e/browser.test.mjs   (scripts/run-e2e.sh runs it in a loopback-only netns)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertWorkerAlive, createWorker, describeWorker, mediaCodecs, step } from './lib/common.mjs';
import { buildPageBundle } from './lib/bundle.mjs';
import { startSfuServer } from './lib/sfu-server.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { assertRising, waitFor, withDiagnostics, workerStats } from './lib/diagnose.mjs';

const MEASURE_MS = Number(process.env.SFU_E2E_MEASURE_MS ?? 5000);

/** page.evaluate with the Playwright prefix removed from errors. */
async function inPage(page, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    const e = new Error(err.message.replace(/^page\.evaluate: (Error: )?/, '').split('\n    at ')[0]);
    e.stack = `Error: ${e.message}`;
    throw e;
  }
}

test('browser: Chromium A publishes Opus + VP8, Chromium B receives both through the SFU', { timeout: 90_000 }, async (t) => {
  let worker, server, browser, pageA, pageB;
  t.after(async () => {
    await browser?.close();
    await server?.close();
    worker?.close();
  });

  const bundle = await step('build page bundle (esbuild)', () => buildPageBundle());
  worker = await createWorker();
  const router = await step('router.createRouter', () => worker.createRouter({ mediaCodecs }));
  server = await startSfuServer({ router, bundle });
  browser = await step('launch /usr/bin/chromium', () => launchChromium());

  const diagnostics = [
    async () => server.describe(),
    async () => describeWorker(worker),
    async () => workerStats([
      ...[...server.state.transports.values()].map((e) => [`transport ${e.direction}`, e.transport]),
      ...[...server.state.producers.values()].map((e) => [`producer ${e.kind}`, e.producer]),
      ...[...server.state.consumers.values()].map((e) => [`consumer ${e.kind}`, e.consumer]),
    ]),
    async () => [...(pageA?.consoleLines ?? []), ...(pageB?.consoleLines ?? [])].slice(-30).join('\n'),
  ];

  await withDiagnostics(async () => {
    pageA = await step('page A: open server URL', () => browser.newPage(server.url, 'A'));
    pageB = await step('page B: open server URL', () => browser.newPage(server.url, 'B'));

    const infoA = await step('page A: init', () => inPage(pageA, () => window.e2e.init()));
    assert.ok(infoA.canProduceAudio && infoA.canProduceVideo, `page A cannot produce: ${JSON.stringify(infoA)}`);
    await step('page B: init', () => inPage(pageB, () => window.e2e.init()));

    const pub = await step('page A: publish', () => inPage(pageA, () => window.e2e.publish()));
    assert.deepEqual(pub.producers.map((p) => p.codec.toLowerCase()), ['audio/opus', 'video/vp8']);
    const ids = pub.producers.map((p) => p.id);
    const sub = await step('page B: subscribe', () => inPage(pageB, (x) => window.e2e.subscribe(x), ids));
    assert.equal(sub.consumers.length, 2);

    const sample = async () => (assertWorkerAlive(worker), {
      a: await inPage(pageA, () => window.e2e.stats()),
      b: await inPage(pageB, () => window.e2e.stats()),
    });
    // Media starts once ICE + DTLS are up and the first key frame went through.
    await step('wait for first decoded video frame and audio bytes on B', () => waitFor(
      'B inbound audio bytes > 0 and video framesDecoded > 0 (if only video is missing: did the consumer\'s key frame '
        + 'request (PLI/FIR) reach Chromium A?)', sample,
      (s) => s.b.inbound.audio?.bytesReceived > 0 && s.b.inbound.video?.framesDecoded > 0,
      { timeoutMs: 20_000 },
    ));
    const samples = await step(`media keeps flowing for ${MEASURE_MS / 1000} s`, () => assertRising({
      sample,
      durationMs: MEASURE_MS,
      counters: {
        'A outbound audio bytesSent': (s) => s.a.outbound.audio?.bytesSent,
        'A outbound video bytesSent': (s) => s.a.outbound.video?.bytesSent,
        'B inbound audio bytesReceived': (s) => s.b.inbound.audio?.bytesReceived,
        'B inbound video framesDecoded': (s) => s.b.inbound.video?.framesDecoded,
      },
    }));
    const last = samples[samples.length - 1].s;
    t.diagnostic(`after ${MEASURE_MS} ms: B audio ${last.b.inbound.audio.bytesReceived} B, `
      + `B video ${last.b.inbound.video.framesDecoded} frames ${last.b.inbound.video.frameWidth}x${last.b.inbound.video.frameHeight}`);
  }, diagnostics);
});
