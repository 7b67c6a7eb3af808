// The data channel e2e page (tests/e2e/datachannel.test.mjs), bundled by
// esbuild with mediasoup-client. The test drives it through window.e2e:
//   await e2e.init()                         Device.load, send + recv transports with SCTP
//   await e2e.produce(label, opts)           sendTransport.produceData -> {id}
//   await e2e.consume(dataProducerId)        recvTransport.consumeData (messages collected)
//   await e2e.sendSeries(label, sizes, bin)  random messages, waits for bufferedAmount; -> SHA-256 list
//   await e2e.received(label, n, ms)         -> [{ hash, binary, size }] once n arrived
//   await e2e.flood(label, n, size)          n binary messages as fast as bufferedAmount allows (bench)
//   e2e.count(label)                         messages and bytes received so far (consume(id, false))
// Every failure is thrown as "<step>: <message>".
import { Device } from 'mediasoup-client';

const state = { device: null, send: null, recv: null, producers: new Map(), received: new Map() };

async function api(route, body = {}) {
  const res = await fetch(`/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status} without JSON` }));
  if (!res.ok) throw new Error(`server ${data.error ?? `HTTP ${res.status}`}`);
  return data;
}

async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${name}: ${err && err.message ? err.message : String(err)}`);
  }
}

async function sha256(buf) {
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function transport(direction) {
  const p = await api('createTransport', { direction, sctpCapabilities: state.device.sctpCapabilities });
  const t = direction === 'send' ? state.device.createSendTransport(p) : state.device.createRecvTransport(p);
  t.on('connect', ({ dtlsParameters }, cb, eb) => {
    api('connect', { transportId: t.id, dtlsParameters }).then(() => cb(), eb);
  });
  if (direction === 'send') {
    t.on('producedata', ({ sctpStreamParameters, label, protocol }, cb, eb) => {
      api('produceData', { transportId: t.id, sctpStreamParameters, label, protocol }).then(cb, eb);
    });
  }
  return t;
}

function randomBytes(n) {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  return b;
}

function randomText(n) {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += abc[b[i] % abc.length];
  return s;
}

window.e2e = {
  async init() {
    state.device = new Device();
    const caps = await step('rtpCapabilities', () => api('rtpCapabilities'));
    await step('device.load', () => state.device.load({ routerRtpCapabilities: caps }));
    state.send = await step('createSendTransport', () => transport('send'));
    state.recv = await step('createRecvTransport', () => transport('recv'));
    return { sctp: state.device.sctpCapabilities };
  },
  async produce(label, opts = {}) {
    const dp = await step(`produceData ${label}`, () => state.send.produceData({ label, ...opts }));
    await step(`open ${label}`, () => new Promise((resolve, reject) => {
      if (dp.readyState === 'open') resolve();
      dp.on('open', resolve);
      dp.on('error', reject);
      setTimeout(() => reject(new Error(`not open after 10 s (${dp.readyState})`)), 10000);
    }));
    dp.bufferedAmountLowThreshold = 65536;
    state.producers.set(label, dp);
    return { id: dp.id };
  },
  async consume(dataProducerId, hash = true) {
    const p = await step('consumeData (server)', () => api('consumeData', { transportId: state.recv.id, dataProducerId }));
    const dc = await step('consumeData', () => state.recv.consumeData(p));
    const list = [];
    list.count = 0;
    list.bytes = 0;
    state.received.set(dc.label, list);
    dc.on('message', (m) => {
      list.count++;
      list.bytes += typeof m === 'string' ? m.length : m.byteLength;
      if (!hash) return;
      const binary = typeof m !== 'string';
      const buf = binary ? m : new TextEncoder().encode(m);
      list.push(sha256(buf).then((hash) => ({ hash, binary, size: buf.byteLength })));
    });
    if (dc.readyState !== 'open') await new Promise((r) => dc.on('open', r));
    return { label: dc.label, ordered: dc.sctpStreamParameters.ordered };
  },
  async sendSeries(label, sizes, binary) {
    const dp = state.producers.get(label);
    const out = [];
    for (const n of sizes) {
      while (dp.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 5));
      if (binary) {
        const b = randomBytes(n);
        out.push({ hash: await sha256(b), size: n });
        dp.send(b);
      } else {
        const s = randomText(n);
        out.push({ hash: await sha256(new TextEncoder().encode(s)), size: n });
        dp.send(s);
      }
    }
    return out;
  },
  async flood(label, n, size) {
    const dp = state.producers.get(label);
    const b = randomBytes(size);
    dp.bufferedAmountLowThreshold = 256 * 1024;
    for (let i = 0; i < n; i++) {
      if (dp.bufferedAmount > 1 << 20) await new Promise((r) => dp.once('bufferedamountlow', r));
      dp.send(b);
    }
    return n;
  },
  count(label) {
    const list = state.received.get(label);
    return { count: list.count, bytes: list.bytes };
  },
  async received(label, n, ms) {
    const list = state.received.get(label);
    const end = Date.now() + ms;
    while (list.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return Promise.all(list);
  },
};
window.e2eReady = true;
