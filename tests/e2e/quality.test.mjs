// End-to-end video quality: what a user of a call notices, through the
// worker under test, with Chromium + mediasoup-client on both ends.
//
//   steady    1280x720 VP8 for 40 s on a clean loopback path: A's estimate of
//             its uplink (candidate-pair availableOutgoingBitrate) must stay
//             >= 1.5 Mbit/s over the last 10 s, A must send 1280x720 all that
//             time and B must decode 1280x720 (without congestion feedback
//             from the worker, Chromium backs off to ~84 kbit/s and 320 px).
//             Chromium itself starts a camera at 320 px and climbs one step
//             every ~4 s (320, 480, 640, 960, 1280 at ~22 s, with mediasoup's
//             worker too), hence 40 s rather than 30.
//   simulcast three layers; the path towards B is limited to 600 kbit/s
//             (a rate-limited relay with a 300 ms drop-tail queue): B's
//             consumer must settle on a lower layer within 5 s, B must keep
//             decoding (freezes after the switch < 1 s in all) and go back to
//             the top layer within 15 s of the limit being lifted.
//   loss      5 % random loss on A's uplink (a relay): after repair (NACK +
//             RTX from A) B's video must have lost < 1 % of its packets, and
//             A must report the NACKs it received.
//   temporal  one 640x360 encoding in L1T3, VP8 and H264 (H264 says its
//             layers only in the Dependency Descriptor): B's frame rate
//             follows consumer.setPreferredLayers() - temporal layer 0 a
//             quarter of the full rate or less and still decoding without
//             freezes, back to >= 70 % of it on layer 2 (encoders vary).
//
// Every scenario prints one line "QUALITY <name> <json>" with its figures;
// scripts/compare-quality.mjs runs this file against our worker and
// mediasoup's own and prints them side by side. SFU_E2E_MEASURE_ONLY=1
// prints without asserting (the baseline run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertWorkerAlive, createWorker, describeWorker, mediaCodecs, sleep, step } from './lib/common.mjs';
import { buildPageBundle } from './lib/bundle.mjs';
import { startSfuServer } from './lib/sfu-server.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { waitFor, withDiagnostics } from './lib/diagnose.mjs';

const MEASURE_ONLY = process.env.SFU_E2E_MEASURE_ONLY === '1';
const only = process.env.SFU_E2E_QUALITY ? process.env.SFU_E2E_QUALITY.split(',') : null;
const check = (cond, msg) => {
  if (!MEASURE_ONLY) assert.ok(cond, msg);
};

async function inPage(page, fn, arg) {
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    throw new Error(err.message.replace(/^page\.evaluate: (Error: )?/, '').split('\n    at ')[0]);
  }
}

/** Worker, router, server (with relays), browser, two pages; publish on A, subscribe on B. */
async function setup(t, { relays = {}, publish = {} } = {}) {
  const ctx = {};
  t.after(async () => {
    await ctx.browser?.close();
    await ctx.server?.close();
    ctx.worker?.close();
  });
  const bundle = await buildPageBundle();
  ctx.worker = await createWorker();
  ctx.router = await ctx.worker.createRouter({ mediaCodecs });
  ctx.server = await startSfuServer({ router: ctx.router, bundle, relays });
  ctx.browser = await launchChromium();
  ctx.pageA = await ctx.browser.newPage(ctx.server.url, 'A');
  ctx.pageB = await ctx.browser.newPage(ctx.server.url, 'B');
  await inPage(ctx.pageA, () => window.e2e.init());
  await inPage(ctx.pageB, () => window.e2e.init());
  const pub = await step('publish on A', () => inPage(ctx.pageA, (o) => window.e2e.publish(o), { audio: true, video: true, ...publish }));
  ctx.layers = [];
  const sub = await step('subscribe on B', () => inPage(ctx.pageB, (ids) => window.e2e.subscribe(ids), pub.producers.map((p) => p.id)));
  for (const c of sub.consumers) {
    const e = ctx.server.state.consumers.get(c.id);
    if (e?.kind === 'video') {
      ctx.videoConsumer = e.consumer;
      e.consumer.on('layerschange', (l) => ctx.layers.push({ at: Date.now(), spatial: l ? l.spatialLayer : -1, temporal: l?.temporalLayer ?? -1 }));
    }
  }
  ctx.sample = async () => (assertWorkerAlive(ctx.worker), {
    at: Date.now(),
    a: await inPage(ctx.pageA, () => window.e2e.stats()),
    b: await inPage(ctx.pageB, () => window.e2e.stats()),
  });
  ctx.diagnostics = [
    async () => ctx.server.describe(),
    async () => describeWorker(ctx.worker),
    async () => JSON.stringify(ctx.server.state.relays && Object.fromEntries(Object.entries(ctx.server.state.relays).map(([k, r]) => [k, r.stats()]))),
    async () => [...(ctx.pageA?.consoleLines ?? []), ...(ctx.pageB?.consoleLines ?? [])].slice(-20).join('\n'),
  ];
  await step('first decoded video frame on B', () => waitFor('B decodes video', ctx.sample,
    (s) => s.b.inbound.video?.framesDecoded > 0, { timeoutMs: 20_000 }));
  return ctx;
}

/** Samples every second for ms; returns them. */
async function samples(ctx, ms, every = 1000) {
  const out = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    out.push(await ctx.sample());
    await sleep(every);
  }
  return out;
}

const report = (name, figures) => console.log(`QUALITY ${name} ${JSON.stringify(figures)}`);
const median = (a) => {
  const s = [...a].filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

test('quality steady: 1280x720 VP8 keeps its resolution and A sees >= 1.5 Mbit/s', { timeout: 120_000, skip: only !== null && !only.includes('steady') }, async (t) => {
  const ctx = await setup(t, { publish: { width: 1280, height: 720, fps: 30 } });
  await withDiagnostics(async () => {
    const s = await samples(ctx, 40_000);
    const last10 = s.slice(-10);
    const aob = last10.map((x) => x.a.candidatePair.send?.availableOutgoingBitrate ?? 0);
    const widthsA = last10.map((x) => x.a.outbound.video?.frameWidth ?? 0);
    const end = s[s.length - 1];
    const first = s[0];
    const kbps = ((end.a.outbound.video.bytesSent - s[s.length - 11].a.outbound.video.bytesSent) * 8) / 10 / 1000;
    const figures = {
      aobMinKbps: Math.round(Math.min(...aob) / 1000),
      aobMedianKbps: Math.round(median(aob) / 1000),
      sentWidthMin: Math.min(...widthsA),
      sentKbps: Math.round(kbps),
      qualityLimitation: end.a.outbound.video.qualityLimitationReason,
      bWidth: end.b.inbound.video?.frameWidth,
      bFps: end.b.inbound.video?.framesPerSecond,
      bFreezeS: Number(((end.b.inbound.video?.totalFreezesDuration ?? 0) - (first.b.inbound.video?.totalFreezesDuration ?? 0)).toFixed(2)),
      // per second: A's sent width and limitation, A's estimate (kbit/s)
      timeline: s.map((x) => `${x.a.outbound.video?.frameWidth}${(x.a.outbound.video?.qualityLimitationReason ?? 'none')[0]}:${Math.round((x.a.candidatePair.send?.availableOutgoingBitrate ?? 0) / 1000)}`).join(' '),
    };
    report('steady', figures);
    check(figures.aobMinKbps >= 1500, `A's availableOutgoingBitrate over the last 10 s: min ${figures.aobMinKbps} kbit/s (< 1500)`);
    check(figures.sentWidthMin === 1280, `A's sent width over the last 10 s went down to ${figures.sentWidthMin}`);
    check(figures.bWidth === 1280, `B decodes ${figures.bWidth} px wide`);
  }, ctx.diagnostics);
});

test('quality simulcast: a 600 kbit/s path to B moves its consumer down and back up without freezing', { timeout: 150_000, skip: only !== null && !only.includes('simulcast') }, async (t) => {
  const ctx = await setup(t, { publish: { width: 1280, height: 720, fps: 30, simulcast: true }, relays: { recv: {} } });
  await withDiagnostics(async () => {
    const relay = ctx.server.state.relays.recv;
    const recvTransport = [...ctx.server.state.transports.values()].find((e) => e.direction === 'recv').transport;
    const sfuBwe = async () => {
      const st = (await recvTransport.getStats())[0] ?? {};
      return `${Math.round((st.availableOutgoingBitrate ?? 0) / 1000)}/${Math.round((st.sendBitrate ?? 0) / 1000)}/L${ctx.videoConsumer.currentLayers?.spatialLayer ?? '-'}`;
    };
    const startTimeline = [];
    const startTimer = setInterval(() => { sfuBwe().then((x) => startTimeline.push(x), () => {}); }, 1000);
    const topBefore = await waitFor('B on the top layer', ctx.sample, () => ctx.videoConsumer.currentLayers?.spatialLayer === 2,
      { timeoutMs: 30_000 }).then(() => true, () => false);
    await samples(ctx, 3000);
    clearInterval(startTimer);
    const topAtLimit = ctx.videoConsumer.currentLayers?.spatialLayer === 2;
    // the top layer: spatial 2 at the temporal layer it had before the limit
    const topTemporal = ctx.videoConsumer.currentLayers?.temporalLayer ?? -1;
    const onTop = () => ctx.videoConsumer.currentLayers?.spatialLayer === 2 && (ctx.videoConsumer.currentLayers?.temporalLayer ?? -1) >= topTemporal;
    // SFU_E2E_TRACE=1: the consumer's trace events (key frames and
    // retransmissions out, PLIs and NACKs in) in 250 ms bins from the limit
    const trace = [];
    if (process.env.SFU_E2E_TRACE === '1') {
      await ctx.videoConsumer.enableTraceEvent(['rtp', 'keyframe', 'nack', 'pli', 'fir']);
      await recvTransport.enableTraceEvent(['bwe', 'probation']);
      recvTransport.on('trace', (e) => trace.push({ at: Date.now(), type: e.type === 'bwe' ? 'bwe' : 'probe', info: e.info }));
      const pv = [...ctx.server.state.producers.values()].find((p) => p.kind === 'video');
      await pv.producer.enableTraceEvent(['rtp']);
      pv.producer.on('trace', (e) => trace.push({ at: Date.now(), type: 'in', ssrc: e.info?.rtpPacket?.ssrc, ts: e.info?.rtpPacket?.timestamp, tid: e.info?.rtpPacket?.temporalLayer }));
      ctx.videoConsumer.on('trace', (e) => trace.push({ at: Date.now(), type: e.type, rtx: e.info?.isRtx ?? false, size: Number(e.info?.rtpPacket?.size ?? 0), ts: e.info?.rtpPacket?.timestamp, tid: e.info?.rtpPacket?.temporalLayer }));
    }
    const limitAt = Date.now();
    const atLimit = await ctx.sample();
    relay.set('down', { rateBps: 600_000, queueMs: 300 });
    let downAt = null;
    let lowerAt = null; // any lower layer, a temporal one too
    const limited = [];
    const limitedTimeline = [];
    while (Date.now() - limitAt < 20_000) {
      const x = await ctx.sample();
      limited.push(x);
      limitedTimeline.push(`${await sfuBwe()}/f${(x.b.inbound.video?.totalFreezesDuration ?? 0).toFixed(1)}`);
      if (downAt === null && (ctx.videoConsumer.currentLayers?.spatialLayer ?? 2) < 2) downAt = Date.now();
      if (lowerAt === null && !onTop()) lowerAt = Date.now();
      await sleep(500);
    }
    const fz = (x) => x.b.inbound.video?.totalFreezesDuration ?? 0;
    const afterSwitch = downAt === null ? [] : limited.filter((x) => x.at >= downAt);
    const freezeAfterSwitch = afterSwitch.length ? fz(afterSwitch[afterSwitch.length - 1]) - fz(afterSwitch[0]) : NaN;
    const decodedDelta = afterSwitch.length
      ? afterSwitch[afterSwitch.length - 1].b.inbound.video.framesDecoded - afterSwitch[0].b.inbound.video.framesDecoded : 0;
    const settledLayer = ctx.videoConsumer.currentLayers?.spatialLayer ?? -1;
    const limitedBwe = await sfuBwe();
    const liftAt = Date.now();
    relay.set('down', { rateBps: 0 });
    let upAt = null;
    const upTimeline = [];
    while (Date.now() - liftAt < 25_000) {
      const x = await ctx.sample();
      upTimeline.push(`${await sfuBwe()}/f${(x.b.inbound.video?.totalFreezesDuration ?? 0).toFixed(1)}`);
      if (onTop()) {
        upAt = Date.now();
        break;
      }
      await sleep(500);
    }
    const figures = {
      topLayerBefore: topBefore,
      topLayerAtLimit: topAtLimit,
      downAfterS: downAt === null ? null : Number(((downAt - limitAt) / 1000).toFixed(1)),
      lowerAfterS: lowerAt === null ? null : Number(((lowerAt - limitAt) / 1000).toFixed(1)),
      settledLayer,
      bWidthLimited: limited[limited.length - 1].b.inbound.video?.frameWidth,
      bFpsLimited: limited[limited.length - 1].b.inbound.video?.framesPerSecond,
      // B's frames over the limited period: received, decoded, dropped, key frames decoded, PLIs sent
      bFramesLimited: (() => {
        const v0 = atLimit.b.inbound.video ?? {}, v1 = limited[limited.length - 1].b.inbound.video ?? {};
        const d = (k) => (v1[k] ?? 0) - (v0[k] ?? 0);
        return `r${d('framesReceived')} d${d('framesDecoded')} x${d('framesDropped')} k${d('keyFramesDecoded')} p${d('pliCount')} n${d('nackCount')}`;
      })(),
      // what A sends meanwhile, per encoding (width:fps)
      aLayerFpsLimited: limited[limited.length - 1].a.outbound.video?.layerFps,
      framesDecodedAfterSwitch: decodedDelta,
      freezeAfterSwitchS: Number(freezeAfterSwitch.toFixed(2)),
      // all of B's freezes while limited, before the switch too
      freezeLimitedS: Number((fz(limited[limited.length - 1]) - fz(atLimit)).toFixed(2)),
      // back on spatial layer 2 at its temporal layer before the limit
      upAfterS: upAt === null ? null : Number(((upAt - liftAt) / 1000).toFixed(1)),
      relayDrops: relay.stats().down.queueDropped,
      // the worker's estimate towards B / what it sends (kbit/s) / current layer / B's freezes so far (s), every 0.5 s
      limitedBwe,
      limitedTimeline: limitedTimeline.join(' '),
      upTimeline: upTimeline.join(' '),
      // from the start, every second: estimate towards B / sent / layer
      startTimeline: startTimeline.join(' '),
      // the consumer's layer changes (s after the limit: layer)
      layerChanges: ctx.layers.filter((l) => l.at >= limitAt - 3000).map((l) => `${((l.at - limitAt) / 1000).toFixed(1)}:${l.spatial}.${l.temporal}`).join(' '),
    };
    if (trace.length) {
      // frames per second of each encoding into the producer, over the limited 20 s
      const inFrames = {};
      for (const e of trace) {
        if (e.at < limitAt + 5000 || e.at >= limitAt + 20_000 || (e.type !== 'in' && e.type !== 'rtp' && e.type !== 'keyframe') || e.rtx) continue;
        const k = e.type === 'in' ? e.ssrc : 'out';
        ((inFrames[k] ??= {})[e.tid] ??= new Set()).add(e.ts);
      }
      // frames per second by temporal layer, from 5 to 20 s after the limit: each encoding in, and out
      // transport trace from the limit: probes sent (P) per second and the estimate after each bwe event
      figures.bweTrace = trace.filter((e) => (e.type === 'bwe' || e.type === 'probe') && e.at >= limitAt && e.at < limitAt + 20_000)
        .map((e) => `${((e.at - limitAt) / 1000).toFixed(1)}:${e.type === 'bwe' ? 'B' + Math.round((e.info?.availableBitrate ?? 0) / 1000) : 'p'}`)
        .filter((x, i, a) => !x.endsWith(':p') || a[i - 1] !== x).join(' ');
      figures.layerFps = Object.entries(inFrames).map(([k, v]) => `${k}:${Object.entries(v).map(([t, x]) => `T${t}=${(x.size / 15).toFixed(1)}`).join(',')}`).join(' ');
      // per 250 ms bin from the limit: kbit/s of media/rtx sent, key frames, PLIs, NACKs
      const bins = [];
      for (const e of trace) {
        const i = Math.floor((e.at - limitAt) / 250);
        if (i < 0 || i >= 40 || e.type === 'in' || e.type === 'bwe' || e.type === 'probe') continue;
        const b = (bins[i] ??= { media: 0, rtx: 0, kf: 0, pli: 0, nack: 0, ts: new Set() });
        if ((e.type === 'rtp' || e.type === 'keyframe') && !e.rtx) b.ts.add(e.ts);
        if (e.type === 'rtp') b[e.rtx ? 'rtx' : 'media'] += e.size;
        else if (e.type === 'keyframe') b.kf++;
        else if (e.type === 'pli' || e.type === 'fir') b.pli++;
        else if (e.type === 'nack') b.nack++;
      }
      figures.trace = [...bins].map((b, i) => b ? `${(i / 4).toFixed(2)}:${Math.round(b.media * 32 / 1000)}+${Math.round(b.rtx * 32 / 1000)}F${b.ts.size}${b.kf ? 'K' + b.kf : ''}${b.pli ? 'P' + b.pli : ''}${b.nack ? 'N' + b.nack : ''}` : `${(i / 4).toFixed(2)}:-`).join(' ');
    }
    report('simulcast', figures);
    check(topBefore, 'B never reached the top layer before the limit');
    check(topAtLimit, 'B had left the top layer before the limit');
    check(downAt !== null && downAt - limitAt <= 10000, `B's consumer moved down after ${figures.downAfterS} s (> 10 s or never)`);
    check(decodedDelta > 100, `B decoded only ${decodedDelta} frames after the switch`);
    check(upAt !== null && upAt - liftAt <= 15000, `B's consumer went back to the top layer after ${figures.upAfterS} s (> 15 s or never)`);
    // Issue 9's bounds (SFU_E2E_MEASURE_ONLY=1 skips them, as the checks
    // above): down within 5 s, and B's freezes after the switch under 1 s
    // in all (a node:test TODO until the NACK floor and the backoff from the
    // acknowledged rate: 11 of 15 runs then, 6 of 6 since, 0-0.32 s).
    await t.test('B moves down within 5 s of the limit', { skip: MEASURE_ONLY }, () => {
      assert.ok(downAt !== null && downAt - limitAt <= 5000, `B's consumer moved down after ${figures.downAfterS} s (> 5 s or never)`);
    });
    await t.test('B freezes under 1 s in all after the switch', { skip: MEASURE_ONLY }, () => {
      assert.ok(freezeAfterSwitch < 1, `B froze ${figures.freezeAfterSwitchS} s after the switch`);
    });
  }, ctx.diagnostics);
});

for (const codec of ['vp8', 'h264']) {
  test(`quality temporal (${codec}): B's frame rate follows its preferred temporal layer`, { timeout: 120_000, skip: only !== null && !only.includes('temporal') }, async (t) => {
    const ctx = await setup(t, { publish: { width: 640, height: 360, fps: 30, codec, scalabilityMode: 'L1T3' } });
    await withDiagnostics(async () => {
      const fpsOver = async (ms) => {
        const a = await ctx.sample();
        await sleep(ms);
        const b = await ctx.sample();
        const v0 = a.b.inbound.video, v1 = b.b.inbound.video;
        return {
          fps: ((v1.framesDecoded - v0.framesDecoded) * 1000) / (b.at - a.at),
          freezeS: (v1.totalFreezesDuration ?? 0) - (v0.totalFreezesDuration ?? 0),
          sentFps: b.a.outbound.video?.framesPerSecond,
          kbps: ((v1.bytesReceived - v0.bytesReceived) * 8) / (b.at - a.at),
        };
      };
      await sleep(4000);
      const full = await fpsOver(4000);
      await ctx.videoConsumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 0 });
      await sleep(2000);
      const low = await fpsOver(4000);
      const dumpLow = await ctx.videoConsumer.dump();
      await ctx.videoConsumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 2 });
      await sleep(2000);
      const back = await fpsOver(4000);
      const r = (x) => Number(x.toFixed(1));
      const figures = {
        consumerType: ctx.videoConsumer.type,
        fullFps: r(full.fps), fullKbps: r(full.kbps), sentFps: full.sentFps,
        t0Fps: r(low.fps), t0Kbps: r(low.kbps), t0FreezeS: r(low.freezeS),
        t0TargetTemporal: dumpLow.targetTemporalLayer ?? dumpLow.data?.targetTemporalLayer,
        backFps: r(back.fps), backFreezeS: r(back.freezeS),
      };
      report(`temporal-${codec}`, figures);
      check(full.fps >= 15, `B decoded ${figures.fullFps} fps on all layers`);
      check(low.fps > 0 && low.fps <= full.fps * 0.35, `B decoded ${figures.t0Fps} fps on temporal layer 0 (full ${figures.fullFps})`);
      check(low.freezeS < 0.5, `B froze ${figures.t0FreezeS} s on temporal layer 0`);
      check(back.fps >= full.fps * 0.7, `B decoded ${figures.backFps} fps back on layer 2 (full ${figures.fullFps})`);
    }, ctx.diagnostics);
  });
}

test('quality loss: 5 % loss on A\'s uplink is repaired (B loses < 1 %), A reports NACKs', { timeout: 120_000, skip: only !== null && !only.includes('loss') }, async (t) => {
  const ctx = await setup(t, { publish: { width: 1280, height: 720, fps: 30 }, relays: { send: { up: { lossPct: 5 } } } });
  await withDiagnostics(async () => {
    const first = await ctx.sample();
    const s = await samples(ctx, 20_000);
    const end = s[s.length - 1];
    const v0 = first.b.inbound.video, v1 = end.b.inbound.video;
    const lost = v1.packetsLost - v0.packetsLost;
    const received = v1.packetsReceived - v0.packetsReceived;
    const relay = ctx.server.state.relays.send.stats();
    const pv = [...ctx.server.state.producers.values()].find((p) => p.kind === 'video');
    const ps = (await pv.producer.getStats())[0] ?? {};
    const cs = (await ctx.videoConsumer.getStats()).find((x) => x.type === 'outbound-rtp') ?? {};
    const figures = {
      sfuIn: { lost: ps.packetsLost, repaired: ps.packetsRepaired, rtxDiscarded: ps.rtxPacketsDiscarded, nacks: ps.nackCount, nackPackets: ps.nackPacketCount, plis: ps.pliCount, firs: ps.firCount },
      sfuOut: { nacks: cs.nackCount, nackPackets: cs.nackPacketCount, retransmitted: cs.packetsRetransmitted, plis: cs.pliCount, firs: cs.firCount, lost: cs.packetsLost },
      relayLossPct: Number(((relay.up.lost / Math.max(1, relay.up.in)) * 100).toFixed(1)),
      bLostPct: Number(((lost / Math.max(1, lost + received)) * 100).toFixed(2)),
      bWidth: v1.frameWidth,
      bFps: v1.framesPerSecond,
      bFreezeS: Number((v1.totalFreezesDuration - v0.totalFreezesDuration).toFixed(2)),
      aNacksReceived: end.a.outbound.video.nackCount,
      aRetransmitted: end.a.outbound.video.retransmittedPacketsSent,
      aAudioNacks: end.a.outbound.audio?.nackCount ?? 0,
    };
    report('loss', figures);
    check(figures.relayLossPct >= 4, `the relay dropped only ${figures.relayLossPct} %`);
    check(figures.bLostPct < 1, `B lost ${figures.bLostPct} % of its video packets after repair`);
    check(figures.aNacksReceived > 0, 'A received no NACK');
  }, ctx.diagnostics);
});
