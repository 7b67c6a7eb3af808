// The browser side of the e2e test, bundled by esbuild with mediasoup-client
// and loaded from the test server's own 127.0.0.1 origin. The test drives it
// through window.e2e with Playwright's page.evaluate():
//   await e2e.init()                      Device.load(router RTP capabilities)
//   await e2e.publish()                   fake camera+mic -> Opus + VP8 producers
//   await e2e.subscribe([producerIds])    consumers (paused on the server, then resumed)
//   await e2e.stats()                     counters from getStats()
// Every failure is thrown as "<step>: <message>" so the test can say which
// step broke and what the server (the worker) answered.
import { Device } from 'mediasoup-client';

const state = { device: null, sendTransport: null, recvTransport: null, producers: [], consumers: [], log: [] };

function log(text) {
  state.log.push(text);
  // Best effort: the server keeps the page's lines for failure messages.
  fetch('/api/log', { method: 'POST', body: JSON.stringify({ text }) }).catch(() => {});
}

async function api(route, body = {}) {
  let res;
  try {
    res = await fetch(`/api/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`fetch /api/${route}: ${err.message}`);
  }
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status} without JSON` }));
  if (!res.ok) throw new Error(`server ${data.error ?? `HTTP ${res.status}`}`);
  return data;
}

async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    const msg = `${name}: ${err && err.message ? err.message : String(err)}`;
    log(`FAILED ${msg}`);
    throw new Error(msg);
  }
}

function wireTransport(transport, direction) {
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    api('connect', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('connectionstatechange', (s) => log(`${direction} transport connectionstate ${s}`));
  transport.on('icegatheringstatechange', (s) => log(`${direction} transport icegatheringstate ${s}`));
  if (direction === 'send') {
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      api('produce', { transportId: transport.id, kind, rtpParameters, appData })
        .then(({ id }) => callback({ id }), errback);
    });
  }
}

async function init() {
  const caps = await step('get router rtpCapabilities', () => api('rtpCapabilities'));
  const device = await step('new Device', async () => new Device());
  await step('Device.load', () => device.load({ routerRtpCapabilities: caps }));
  state.device = device;
  const info = {
    handlerName: device.handlerName,
    canProduceAudio: device.canProduce('audio'),
    canProduceVideo: device.canProduce('video'),
    codecs: device.rtpCapabilities.codecs.map((c) => c.mimeType),
    userAgent: navigator.userAgent,
  };
  log(`device loaded: ${JSON.stringify(info)}`);
  return info;
}

async function publish({ audio = true, video = true, width = 640, height = 360, fps = 30, simulcast = false,
  codec = 'vp8', scalabilityMode } = {}) {
  const device = state.device;
  const stream = await step('getUserMedia (fake devices)', () => navigator.mediaDevices.getUserMedia({
    audio, video: video ? { width: { exact: width }, height: { exact: height }, frameRate: fps } : false,
  }));
  const params = await step('createTransport (send)', () => api('createTransport', { direction: 'send' }));
  const transport = await step('device.createSendTransport', async () => device.createSendTransport(params));
  wireTransport(transport, 'send');
  state.sendTransport = transport;
  const out = [];
  const audioTrack = stream.getAudioTracks()[0];
  if (audio) {
    const opus = device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
    const producer = await step('produce audio (Opus)', () => transport.produce({ track: audioTrack, codec: opus }));
    state.producers.push(producer);
    out.push({ id: producer.id, kind: 'audio', codec: producer.rtpParameters.codecs[0].mimeType });
  }
  const videoTrack = stream.getVideoTracks()[0];
  if (video) {
    const vc = device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === `video/${codec}`);
    if (!vc) throw new Error(`the device cannot send video/${codec}`);
    // Simulcast: mediasoup-client's usual three layers (1/4, 1/2, full resolution).
    const encodings = simulcast ? [
      { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 200_000 },
      { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 700_000 },
      { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 2_500_000 },
    ] : scalabilityMode ? [{ scalabilityMode }] : undefined;
    const producer = await step(`produce video (${codec})`, () => transport.produce({ track: videoTrack, codec: vc, encodings }));
    state.producers.push(producer);
    out.push({ id: producer.id, kind: 'video', codec: producer.rtpParameters.codecs[0].mimeType });
  }
  log(`published ${JSON.stringify(out)}`);
  return { producers: out, tracks: stream.getTracks().map((t) => `${t.kind}:${t.label}:${t.readyState}`) };
}

/* playAudio: audio elements unmuted, so Chromium plays the audio out and
 * reports its energy (totalAudioEnergy stays 0 for a muted element). */
async function subscribe(producerIds, { playAudio = false } = {}) {
  const device = state.device;
  const params = await step('createTransport (recv)', () => api('createTransport', { direction: 'recv' }));
  const transport = await step('device.createRecvTransport', async () => device.createRecvTransport(params));
  wireTransport(transport, 'recv');
  state.recvTransport = transport;
  const out = [];
  for (const producerId of producerIds) {
    const data = await step(`consume ${producerId.slice(0, 8)} (server)`,
      () => api('consume', { transportId: transport.id, producerId, rtpCapabilities: device.rtpCapabilities }));
    const consumer = await step(`recvTransport.consume ${data.kind}`, () => transport.consume({
      id: data.id, producerId, kind: data.kind, rtpParameters: data.rtpParameters,
    }));
    state.consumers.push(consumer);
    const el = document.createElement(consumer.kind === 'audio' ? 'audio' : 'video');
    el.autoplay = true;
    el.muted = !(playAudio && consumer.kind === 'audio'); // headless autoplay policy: muted media always plays
    el.playsInline = true;
    el.srcObject = new MediaStream([consumer.track]);
    document.getElementById('media').appendChild(el);
    el.play().catch((err) => log(`play() ${consumer.kind}: ${err.message}`));
    await step(`resume ${data.kind} consumer (server)`, () => api('resume', { consumerId: consumer.id }));
    out.push({ id: consumer.id, kind: consumer.kind, codec: consumer.rtpParameters.codecs[0].mimeType });
  }
  log(`subscribed ${JSON.stringify(out)}`);
  return { consumers: out };
}

function pick(report, type, kind) {
  for (const s of report.values()) {
    if (s.type === type && (s.kind === kind || s.mediaType === kind)) return s;
  }
  return null;
}

/* The outbound-rtp entry with the highest resolution (simulcast has one per layer). */
function pickTop(report, kind) {
  let best = null;
  for (const s of report.values()) {
    if (s.type !== 'outbound-rtp' || (s.kind ?? s.mediaType) !== kind) continue;
    if (!best || (s.frameWidth ?? 0) > (best.frameWidth ?? 0)) best = s;
  }
  return best;
}

async function stats() {
  const res = { outbound: {}, inbound: {}, transports: {}, candidatePair: {} };
  for (const p of state.producers) {
    const report = await p.getStats();
    const s = pickTop(report, p.kind);
    let bytesSent = 0, packetsSent = 0, nackCount = 0, retransmitted = 0, layers = 0;
    const layerFps = []; // per encoding, smallest first, as width:fps
    for (const r of report.values()) {
      if (r.type !== 'outbound-rtp' || (r.kind ?? r.mediaType) !== p.kind) continue;
      layers++;
      bytesSent += r.bytesSent ?? 0;
      packetsSent += r.packetsSent ?? 0;
      nackCount += r.nackCount ?? 0;
      retransmitted += r.retransmittedPacketsSent ?? 0;
      layerFps.push([r.frameWidth ?? 0, r.framesPerSecond ?? 0]);
    }
    layerFps.sort((x, y) => x[0] - y[0]);
    res.outbound[p.kind] = s ? {
      bytesSent, packetsSent, nackCount, retransmittedPacketsSent: retransmitted, layers,
      framesEncoded: s.framesEncoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
      framesPerSecond: s.framesPerSecond, qualityLimitationReason: s.qualityLimitationReason,
      layerFps: layerFps.map(([w, f]) => `${w}:${f}`).join(' '),
    } : null;
  }
  for (const c of state.consumers) {
    const s = pick(await c.getStats(), 'inbound-rtp', c.kind);
    res.inbound[c.kind] = s ? {
      bytesReceived: s.bytesReceived ?? 0, packetsReceived: s.packetsReceived ?? 0,
      framesDecoded: s.framesDecoded, framesReceived: s.framesReceived, framesDropped: s.framesDropped,
      keyFramesDecoded: s.keyFramesDecoded, pliCount: s.pliCount, totalSamplesReceived: s.totalSamplesReceived,
      frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesPerSecond: s.framesPerSecond,
      packetsLost: s.packetsLost ?? 0, nackCount: s.nackCount ?? 0,
      freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0,
      jitterBufferDelay: s.jitterBufferDelay, jitterBufferEmittedCount: s.jitterBufferEmittedCount,
      totalAudioEnergy: s.totalAudioEnergy, audioLevel: s.audioLevel,
    } : null;
  }
  for (const t of [state.sendTransport, state.recvTransport]) {
    if (!t) continue;
    res.transports[t.direction] = t.connectionState;
    for (const r of (await t.getStats()).values()) {
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        res.candidatePair[t.direction] = {
          availableOutgoingBitrate: r.availableOutgoingBitrate, availableIncomingBitrate: r.availableIncomingBitrate,
          currentRoundTripTime: r.currentRoundTripTime, bytesSent: r.bytesSent, bytesReceived: r.bytesReceived,
        };
      }
    }
  }
  return res;
}

window.e2e = { init, publish, subscribe, stats, log: state.log };
window.e2eReady = true;
