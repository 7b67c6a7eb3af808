// The browser test's server: one HTTP origin on 127.0.0.1 that serves the
// page (index.html + the esbuild bundle of page/*.js) and a tiny
// JSON-over-HTTP signalling API driving a mediasoup Router:
//
//   GET  /                      the page
//   GET  /bundle.js             mediasoup-client + page/main.js
//   POST /api/rtpCapabilities   -> router.rtpCapabilities
//   POST /api/createTransport   {direction}              -> {id, iceParameters, iceCandidates, dtlsParameters}
//   POST /api/connect           {transportId, dtlsParameters}
//   POST /api/produce           {transportId, kind, rtpParameters, appData} -> {id}
//   POST /api/consume           {transportId, producerId, rtpCapabilities}  -> {id, producerId, kind, rtpParameters} (paused)
//   POST /api/resume            {consumerId}
//   POST /api/log               {text}   (page console lines, kept for failure messages)
//
// Errors answer 500 {error: "<route>: <message>"}; the message of a worker
// error is passed through unchanged ("... method not implemented ...").
//
// With `fake: true` no transport reaches the worker: transports get synthetic
// ICE/DTLS parameters, produce/consume run mediasoup's own ORTC code
// (validation, producer->consumer parameter mapping) in this process. The
// browser then negotiates both pages completely (no media can flow): this is
// how the harness checks itself while the worker has no media path.
import http from 'node:http';
import crypto from 'node:crypto';
import { ortc, mediaCodecs, withTimeout } from './common.mjs';
import { startRelay } from './relay.mjs';

/** How long one worker request may take before the route fails with "no answer". */
export const WORKER_REQUEST_TIMEOUT_MS = Number(process.env.SFU_E2E_REQUEST_TIMEOUT_MS ?? 10_000);

/** Awaits a worker request; a request the worker never answers fails instead of hanging the test. */
export function ask(what, promise) {
  return withTimeout(promise, WORKER_REQUEST_TIMEOUT_MS, `${what}: no answer from the worker`);
}

/** WebRtcTransport options: loopback only, UDP preferred, TCP too, big socket buffers. */
export const webRtcTransportOptions = {
  listenInfos: [
    { protocol: 'udp', ip: '127.0.0.1', sendBufferSize: 1 << 20, recvBufferSize: 1 << 20 },
    { protocol: 'tcp', ip: '127.0.0.1', sendBufferSize: 1 << 20, recvBufferSize: 1 << 20 },
  ],
  enableUdp: true,
  enableTcp: true,
  preferUdp: true,
  initialAvailableOutgoingBitrate: 1_000_000,
};

function fakeTransportParams() {
  const fp = crypto.randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':');
  return {
    id: crypto.randomUUID(),
    iceParameters: {
      usernameFragment: crypto.randomBytes(8).toString('hex'),
      password: crypto.randomBytes(16).toString('hex'),
      iceLite: true,
    },
    // Port 9 (discard): nothing answers, the browser just keeps checking.
    iceCandidates: [{
      foundation: 'udpcandidate', priority: 1076302079, address: '127.0.0.1', ip: '127.0.0.1',
      protocol: 'udp', port: 9, type: 'host',
    }],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: fp }] },
  };
}

/**
 * startSfuServer({ router, bundle, fake }) -> { url, state, close(), describe() }
 * router: a mediasoup Router (may be omitted with fake: true);
 * bundle: the page's JavaScript (string).
 */
export async function startSfuServer({ router, bundle, fake = false, relays = {} }) {
  const rtpCapabilities = router ? router.rtpCapabilities : ortc.generateRouterRtpCapabilities(mediaCodecs);
  const state = {
    transports: new Map(), // id -> { transport|null, direction, events: [] }
    producers: new Map(), // id -> { producer|null, kind, consumable }
    consumers: new Map(), // id -> { consumer|null, kind }
    pageLog: [],
    requests: [],
    relays: {}, // direction -> relay (tests/e2e/lib/relay.mjs), when relays[direction] is given
  };

  function transportEntry(id) {
    const t = state.transports.get(id);
    if (!t) throw new Error(`unknown transport ${id}`);
    return t;
  }

  const routes = {
    async rtpCapabilities() { return rtpCapabilities; },

    async createTransport({ direction }) {
      if (fake) {
        const p = fakeTransportParams();
        state.transports.set(p.id, { transport: null, direction, events: [] });
        return p;
      }
      const transport = await ask('router.createWebRtcTransport',
        router.createWebRtcTransport({ ...webRtcTransportOptions, appData: { direction } }));
      const entry = { transport, direction, events: [] };
      const note = (what) => entry.events.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
      transport.on('icestatechange', (s) => note(`ice ${s}`));
      transport.on('dtlsstatechange', (s) => note(`dtls ${s}`));
      transport.on('iceselectedtuplechange', (t) => note(`tuple ${t.protocol} ${t.remoteIp}:${t.remotePort}`));
      state.transports.set(transport.id, entry);
      let iceCandidates = transport.iceCandidates;
      if (relays[direction]) {
        // The browser reaches this transport only through a relay (UDP only).
        const udp = iceCandidates.find((c) => c.protocol === 'udp');
        const relay = await startRelay({ target: { ip: udp.address ?? udp.ip, port: udp.port }, ...relays[direction] });
        state.relays[direction] = relay;
        entry.relay = relay;
        iceCandidates = [{ ...udp, port: relay.port }];
      }
      return {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates,
        dtlsParameters: transport.dtlsParameters,
      };
    },

    async connect({ transportId, dtlsParameters }) {
      const entry = transportEntry(transportId);
      entry.remoteDtlsRole = dtlsParameters.role;
      if (!fake) await ask('webRtcTransport.connect', entry.transport.connect({ dtlsParameters }));
      return {};
    },

    async produce({ transportId, kind, rtpParameters, appData }) {
      const entry = transportEntry(transportId);
      if (fake) {
        // What Transport.produce() does in the library before it asks the worker.
        const params = structuredClone(rtpParameters);
        ortc.validateAndNormalizeRtpParameters(params);
        const rtpMapping = ortc.getProducerRtpParametersMapping(params, rtpCapabilities);
        const consumable = ortc.getConsumableRtpParameters(kind, params, rtpCapabilities, rtpMapping);
        const id = crypto.randomUUID();
        state.producers.set(id, { producer: null, kind, consumable, rtpParameters: params });
        return { id };
      }
      const producer = await ask('transport.produce', entry.transport.produce({ kind, rtpParameters, appData }));
      state.producers.set(producer.id, { producer, kind, rtpParameters });
      return { id: producer.id };
    },

    async consume({ transportId, producerId, rtpCapabilities: caps }) {
      const entry = transportEntry(transportId);
      const p = state.producers.get(producerId);
      if (!p) throw new Error(`unknown producer ${producerId}`);
      if (fake) {
        if (!ortc.canConsume(p.consumable, caps)) throw new Error('cannot consume (capabilities)');
        const rtpParameters = ortc.getConsumerRtpParameters({
          consumableRtpParameters: p.consumable, remoteRtpCapabilities: caps, pipe: false, enableRtx: true,
        });
        const id = crypto.randomUUID();
        state.consumers.set(id, { consumer: null, kind: p.kind });
        return { id, producerId, kind: p.kind, rtpParameters };
      }
      if (!router.canConsume({ producerId, rtpCapabilities: caps })) {
        throw new Error(`router.canConsume() is false for producer ${producerId}`);
      }
      const consumer = await ask('transport.consume',
        entry.transport.consume({ producerId, rtpCapabilities: caps, paused: true }));
      state.consumers.set(consumer.id, { consumer, kind: consumer.kind });
      return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
    },

    async resume({ consumerId }) {
      const c = state.consumers.get(consumerId);
      if (!c) throw new Error(`unknown consumer ${consumerId}`);
      if (!fake) await ask('consumer.resume', c.consumer.resume());
      return {};
    },

    async log({ text }) {
      state.pageLog.push(String(text).slice(0, 2000));
      if (state.pageLog.length > 200) state.pageLog.shift();
      return {};
    },
  };

  const page = '<!doctype html><html><head><meta charset="utf-8"><title>sfu e2e</title></head>'
    + '<body><div id="media"></div><script src="/bundle.js"></script></body></html>';

  const server = http.createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?'))) return send(200, 'text/html', page);
      if (req.method === 'GET' && req.url === '/bundle.js') return send(200, 'text/javascript', bundle);
      if (req.method === 'GET' && req.url === '/favicon.ico') return send(204, 'text/plain', '');
      const m = /^\/api\/(\w+)$/.exec(req.url);
      if (req.method !== 'POST' || !m || !Object.hasOwn(routes, m[1])) return send(404, 'text/plain', 'not found');
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      let data;
      try {
        data = await routes[m[1]](body);
        if (m[1] !== 'log') state.requests.push(`${m[1]} ok`);
      } catch (err) {
        state.requests.push(`${m[1]} FAILED: ${err.message}`);
        return send(500, 'application/json', JSON.stringify({ error: `${m[1]}: ${err.message}` }));
      }
      return send(200, 'application/json', JSON.stringify(data ?? {}));
    } catch (err) {
      return send(400, 'application/json', JSON.stringify({ error: `bad request: ${err.message}` }));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;

  return {
    url,
    state,
    rtpCapabilities,
    /** Multi-line summary of signalling and transport events, for failure messages. */
    describe() {
      const lines = [`signalling: ${state.requests.join('; ') || '(no request)'}`];
      for (const [id, t] of state.transports) {
        lines.push(`transport ${t.direction} ${id.slice(0, 8)}: ${t.events.join(', ') || '(no ice/dtls event)'}`);
      }
      if (state.pageLog.length) lines.push(`page log (last 20):\n  ${state.pageLog.slice(-20).join('\n  ')}`);
      return lines.join('\n');
    },
    async close() {
      for (const r of Object.values(state.relays)) r.close();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
