// The demo call page: joins a call through the controller's REST API with
// mediasoup-client, sends the microphone (camera optional), plays every peer,
// has a text chat over data channels (one data producer labelled 'chat' per
// participant, consumed by every other one), shows connection state, and cleans up on Leave, on tab close and when the
// event socket is lost for good. Bundled by demo/build.mjs (esbuild) into
// dist/demo.js; served by the controller from its own origin.
//
// URL parameters (all optional): ?callId=&token=&userId=&camera=1&autojoin=1&relay=1.
// RTC-01's iceServers (TURN with time-limited credentials) go to both
// transports; relay=1 forces iceTransportPolicy "relay" (everything through TURN).
// Without a token, Join asks the dev-only POST /dev/token {userId, callId}.
// In a cluster, a call whose node died is joined again (a fresh room on a
// live node): on room_closed "node_lost", or when a reconnect finds another
// room (roomId) than the one joined.
// window.demo exposes the state and {join, leave, stats, ids, sendChat} for tests.
import { Device } from 'mediasoup-client';

const $ = (id) => document.getElementById(id);
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000]; // then give up (7.5 s)
const REJOIN_DELAYS_MS = [0, 500, 1000, 2000, 4000]; // a call whose node died: join again
const JOIN_503_RETRIES = 3; // RTC-01 answered 503 (call directory busy, owner unreachable): retry after 1 s

const state = {
  phase: 'idle', // idle | joining | joined | left
  callId: null,
  token: null,
  userId: null,
  device: null,
  ws: null,
  socket: 'closed',
  sendTransport: null,
  recvTransport: null,
  localStream: null,
  producers: new Map(), // producerId -> Producer
  consumers: new Map(), // consumerId -> {consumer, userId, el}
  wanted: new Map(), // producerId -> {userId, kind}: announced, not yet consumed
  chatProducer: null, // our DataProducer 'chat'
  dataConsumers: new Map(), // dataConsumerId -> {dataConsumer, userId}
  wantedData: new Map(), // dataProducerId -> userId: a peer's chat, not yet consumed
  chat: [], // {at, from, text, own}: the messages shown
  peers: new Map(), // userId -> tile element
  callConnected: false,
  session: 0, // one per join: a reconnect loop of an earlier join stops
  reconnecting: null, // the session whose event socket is being reconnected
  rejoining: false,
  rejoins: 0, // joins again after the call's node died
  roomId: null, // the room joined (GET /rtc/rooms roomId)
  iceServers: [], // RTC-01's (STUN/TURN)
  relay: false, // iceTransportPolicy "relay"
  silent: new Set(), // producer ids the SFU reported silent (media_silence)
  events: [], // every event-socket message (except volumes), with a time
  log: [],
  work: Promise.resolve(), // consumes run one at a time
};

// ------------------------------------------------------------------ ui
function log(text, cls) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  state.log.push(line);
  if (state.log.length > 500) state.log.shift();
  const el = document.createElement('div');
  el.textContent = line;
  if (cls) el.className = cls;
  $('log').prepend(el);
}
function show(id, text, cls = '') {
  $(id).textContent = text;
  $(id).className = cls;
}
function setPhase(phase, why) {
  state.phase = phase;
  show('phase', why ? `${phase} (${why})` : phase, phase === 'joined' ? 'ok' : '');
  $('join').disabled = phase === 'joining' || phase === 'joined';
  $('leave').disabled = phase !== 'joining' && phase !== 'joined';
}
function peerTile(userId) {
  let tile = state.peers.get(userId);
  if (!tile) {
    tile = document.createElement('div');
    tile.className = 'peer';
    tile.dataset.userId = userId;
    tile.innerHTML = '<b></b><div class="media"></div>';
    tile.querySelector('b').textContent = userId;
    $('peers').append(tile);
    state.peers.set(userId, tile);
  }
  return tile;
}
function removePeer(userId) {
  state.peers.get(userId)?.remove();
  state.peers.delete(userId);
}

// ------------------------------------------------------------------ REST
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(`${method} ${path.split('?')[0]}: ${res.status} ${data?.error ?? ''} ${data?.message ?? ''}`.trim());
    err.status = res.status;
    err.code = data?.error;
    throw err;
  }
  return data;
}
const roomPath = () => `/rtc/rooms/${encodeURIComponent(state.callId)}`;

function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

// ------------------------------------------------------------------ join
async function join({ callId, token, userId, camera } = {}) {
  if (state.phase === 'joining' || state.phase === 'joined') return;
  state.callId = callId ?? $('callId').value.trim();
  state.token = token ?? $('token').value.trim();
  userId = userId ?? $('userId').value.trim();
  camera = camera ?? $('camera').checked;
  setPhase('joining');
  state.session++;
  state.callConnected = false;
  show('call', 'not connected');
  try {
    if (!state.callId) throw new Error('no call id');
    if (!state.token) {
      if (!userId) throw new Error('no token and no user id');
      state.token = (await api('POST', '/dev/token', { userId, callId: state.callId })).token;
      $('token').value = state.token;
    }
    state.userId = claimsOf(state.token).sub;
    state.roomId = null;
    const { routerRtpCapabilities, iceServers } = await capabilities();
    state.iceServers = iceServers ?? [];
    if (state.iceServers.length) log(`ICE servers: ${state.iceServers.map((s) => s.urls.join(' ')).join(', ')}${state.relay ? ' (relay only)' : ''}`);
    state.device = new Device();
    await state.device.load({ routerRtpCapabilities });
    await openEvents();
    await createTransport('send');
    state.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: camera });
    for (const track of state.localStream.getTracks()) {
      const producer = await state.sendTransport.produce({ track, appData: { source: track.kind === 'audio' ? 'mic' : 'camera' } });
      state.producers.set(producer.id, producer);
      log(`producing ${track.kind} ${producer.id}`);
    }
    // The chat: a data channel of ours that every other participant consumes.
    state.chatProducer = await state.sendTransport.produceData({ ordered: true, label: 'chat', protocol: 'text' });
    log(`chat data producer ${state.chatProducer.id}`);
    await createTransport('recv');
    await syncRoom();
    setPhase('joined');
    $('chatText').disabled = false;
    $('chatSend').disabled = false;
  } catch (err) {
    log(`join failed: ${err.message}`, 'bad');
    await leave(`join failed: ${err.message}`);
    throw err;
  }
}

/** RTC-01, retried a few times on 503 (Retry-After): a cluster node may be busy or failing over. */
async function capabilities() {
  for (let i = 0; ; i++) {
    try {
      return await api('GET', `/rtc/capabilities?callId=${encodeURIComponent(state.callId)}`);
    } catch (err) {
      if (err.status !== 503 || i >= JOIN_503_RETRIES) throw err;
      log(`RTC-01: ${err.message}; retrying`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function createTransport(direction) {
  // Its sctpParameters carry the data channels (the chat).
  const { transport: info } = await api('POST', '/rtc/transports', { callId: state.callId, direction });
  const params = {
    id: info.id, iceParameters: info.iceParameters, iceCandidates: info.iceCandidates,
    dtlsParameters: info.dtlsParameters, sctpParameters: info.sctpParameters,
    iceServers: state.iceServers, iceTransportPolicy: state.relay ? 'relay' : 'all',
  };
  const transport = direction === 'send'
    ? state.device.createSendTransport(params)
    : state.device.createRecvTransport(params);
  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    api('POST', `/rtc/transports/${transport.id}/connect`, { dtlsParameters }).then(() => done(), fail);
  });
  transport.on('connectionstatechange', (s) => {
    show(direction, s, s === 'connected' ? 'ok' : s === 'failed' || s === 'disconnected' ? 'bad' : '');
    log(`${direction} transport ${s}`);
    if (s === 'failed' && state.phase === 'joined') leave(`${direction} transport failed`);
  });
  if (direction === 'send') {
    transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
      api('POST', '/rtc/producers', { callId: state.callId, transportId: transport.id, kind, rtpParameters, appData })
        .then(({ producerId }) => done({ id: producerId }), fail);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, done, fail) => {
      api('POST', '/rtc/data-producers', { callId: state.callId, transportId: transport.id, sctpStreamParameters, label, protocol, appData })
        .then(({ dataProducerId }) => done({ id: dataProducerId }), fail);
    });
    state.sendTransport = transport;
  } else {
    state.recvTransport = transport;
  }
  show(direction, transport.connectionState);
  return transport;
}

// ------------------------------------------------------------------ consume
/** Queues a consume of producerId (skips our own and ones already consumed). */
function want(producerId, userId, kind) {
  if (userId === state.userId || state.producers.has(producerId)) return;
  peerTile(userId);
  state.wanted.set(producerId, { userId, kind });
  state.work = state.work.then(() => consume(producerId)).catch((err) => log(`consume ${producerId}: ${err.message}`, 'bad'));
}

async function consume(producerId) {
  const w = state.wanted.get(producerId);
  if (!w || !state.recvTransport || state.recvTransport.closed) return;
  for (const c of state.consumers.values()) if (c.consumer.producerId === producerId) return;
  const data = await api('POST', '/rtc/consumers', {
    callId: state.callId, transportId: state.recvTransport.id, producerId, rtpCapabilities: state.device.rtpCapabilities,
  });
  if (!state.wanted.has(producerId)) return; // closed while we asked
  const consumer = await state.recvTransport.consume({
    id: data.id, producerId, kind: data.kind, rtpParameters: data.rtpParameters,
  });
  const el = document.createElement(consumer.kind);
  el.autoplay = true;
  el.playsInline = true;
  el.controls = consumer.kind === 'audio';
  el.srcObject = new MediaStream([consumer.track]);
  peerTile(w.userId).querySelector('.media').append(el);
  el.play().catch((err) => log(`play ${consumer.kind}: ${err.message} (click the page)`));
  state.consumers.set(consumer.id, { consumer, userId: w.userId, el });
  await api('POST', `/rtc/consumers/${consumer.id}/resume`);
  log(`consuming ${consumer.kind} of ${w.userId}`, 'ok');
}

// ------------------------------------------------------------------ chat
/** Queues a consume of a peer's chat data producer. */
function wantData(dataProducerId, userId, label) {
  if (userId === state.userId || label !== 'chat') return;
  state.wantedData.set(dataProducerId, userId);
  state.work = state.work.then(() => consumeData(dataProducerId))
    .catch((err) => log(`consume data ${dataProducerId}: ${err.message}`, 'bad'));
}

async function consumeData(dataProducerId) {
  const userId = state.wantedData.get(dataProducerId);
  if (userId === undefined || !state.recvTransport || state.recvTransport.closed) return;
  for (const d of state.dataConsumers.values()) if (d.dataConsumer.dataProducerId === dataProducerId) return;
  const data = await api('POST', '/rtc/data-consumers', {
    callId: state.callId, transportId: state.recvTransport.id, dataProducerId,
  });
  if (!state.wantedData.has(dataProducerId)) return; // closed while we asked
  const dataConsumer = await state.recvTransport.consumeData({
    id: data.id, dataProducerId, sctpStreamParameters: data.sctpStreamParameters, label: data.label, protocol: data.protocol,
  });
  dataConsumer.on('message', (m) => {
    addChat(userId, typeof m === 'string' ? m : new TextDecoder().decode(m), false);
  });
  state.dataConsumers.set(dataConsumer.id, { dataConsumer, userId });
  log(`receiving ${userId}'s chat`, 'ok');
}

function dropDataConsumer(pred) {
  for (const [id, d] of state.dataConsumers) {
    if (!pred(d)) continue;
    d.dataConsumer.close();
    state.dataConsumers.delete(id);
  }
}
function dropDataProducer(dataProducerId) {
  state.wantedData.delete(dataProducerId);
  dropDataConsumer((d) => d.dataConsumer.dataProducerId === dataProducerId);
}

const CHAT_MAX_CHARS = 2000;
const CHAT_KEEP = 200;

function addChat(from, text, own) {
  text = String(text).slice(0, CHAT_MAX_CHARS);
  const entry = { at: Date.now(), from, text, own };
  state.chat.push(entry);
  if (state.chat.length > CHAT_KEEP) state.chat.shift();
  const li = document.createElement('li');
  if (own) li.className = 'own';
  const who = document.createElement('b');
  who.textContent = `${own ? 'you' : from}: `;
  li.append(who, document.createTextNode(text)); // never HTML: a peer's text is untrusted
  $('chat').append(li);
  while ($('chat').children.length > CHAT_KEEP) $('chat').firstChild.remove();
  li.scrollIntoView({ block: 'nearest' });
}

/** Sends one chat message to everyone (our data producer); shown here at once. */
function sendChat(text) {
  text = String(text ?? '').trim().slice(0, CHAT_MAX_CHARS);
  if (!text) return false;
  const dp = state.chatProducer;
  if (!dp || dp.closed || dp.readyState !== 'open') {
    log('chat: not connected yet', 'bad');
    return false;
  }
  dp.send(text);
  addChat(state.userId, text, true);
  return true;
}

function dropConsumer(pred) {
  for (const [id, c] of state.consumers) {
    if (!pred(c)) continue;
    c.consumer.close();
    c.el.srcObject = null;
    c.el.remove();
    state.consumers.delete(id);
  }
}
function dropProducer(producerId) {
  state.wanted.delete(producerId);
  dropConsumer((c) => c.consumer.producerId === producerId);
}

/**
 * Consumes what the room has and we lack; drops consumers of producers gone.
 * -> 'in' (still in), 'out' (removed meanwhile) or 'replaced' (the call has
 * another room than the one joined: ours went with its node)
 */
async function syncRoom({ prune = false } = {}) {
  const room = await api('GET', roomPath());
  if (room.roomId) {
    if (state.roomId === null) state.roomId = room.roomId;
    else if (room.roomId !== state.roomId) {
      log(`the call has a new room (${room.roomId}); ours is gone`, 'bad');
      return 'replaced';
    }
  }
  const live = new Set();
  let present = false;
  for (const p of room.participants ?? []) {
    if (p.userId === state.userId) { present = true; continue; }
    peerTile(p.userId);
    for (const x of p.producers ?? []) {
      const id = x.producerId ?? x.id;
      live.add(id);
      if (![...state.consumers.values()].some((c) => c.consumer.producerId === id)) want(id, p.userId, x.kind);
    }
    for (const d of p.dataProducers ?? []) {
      live.add(d.id);
      if (![...state.dataConsumers.values()].some((c) => c.dataConsumer.dataProducerId === d.id)) wantData(d.id, p.userId, d.label);
    }
  }
  if (prune) { // after a reconnect: what closed meanwhile goes
    for (const id of [...state.wanted.keys()]) if (!live.has(id)) dropProducer(id);
    for (const id of [...state.wantedData.keys()]) if (!live.has(id)) dropDataProducer(id);
    for (const userId of [...state.peers.keys()]) {
      if (!(room.participants ?? []).some((p) => p.userId === userId)) removePeer(userId);
    }
  }
  if (room.connected) markConnected();
  await state.work;
  return present ? 'in' : 'out';
}

function markConnected() {
  state.callConnected = true;
  show('call', 'connected', 'ok');
}

// ------------------------------------------------------------------ events
function openEvents() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = `callId=${encodeURIComponent(state.callId)}&token=${encodeURIComponent(state.token)}`;
    const ws = new WebSocket(`${scheme}://${location.host}/rtc/events?${q}`);
    let opened = false;
    state.ws = ws;
    ws.onopen = () => {
      opened = true;
      show('socket', 'open', 'ok');
      resolve();
    };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      onEvent(msg);
    };
    ws.onclose = (ev) => {
      if (state.ws === ws) state.ws = null;
      show('socket', `closed (${ev.code})`, 'bad');
      if (!opened) reject(new Error(`event socket closed before opening (${ev.code})`));
      else onSocketLost(ev);
    };
  });
}

function onEvent(msg) {
  if (msg.type !== 'volumes') {
    state.events.push({ at: Date.now(), ...msg });
    if (state.events.length > 1000) state.events.shift();
    log(`event ${JSON.stringify(msg)}`);
  }
  switch (msg.type) {
    case 'participant_joined': if (msg.userId !== state.userId) peerTile(msg.userId); break;
    case 'participant_left':
      dropConsumer((c) => c.userId === msg.userId);
      for (const [id, w] of state.wanted) if (w.userId === msg.userId) state.wanted.delete(id);
      dropDataConsumer((d) => d.userId === msg.userId);
      for (const [id, u] of state.wantedData) if (u === msg.userId) state.wantedData.delete(id);
      removePeer(msg.userId);
      break;
    case 'new_producer': want(msg.producerId, msg.userId, msg.kind); break;
    case 'producer_closed': dropProducer(msg.producerId); break;
    case 'consumer_closed': dropConsumer((c) => c.consumer.id === msg.consumerId); break;
    case 'new_data_producer': wantData(msg.dataProducerId, msg.userId, msg.label); break;
    case 'data_producer_closed': dropDataProducer(msg.dataProducerId); break;
    case 'data_consumer_closed': dropDataConsumer((d) => d.dataConsumer.id === msg.dataConsumerId); break;
    case 'call_connected': markConnected(); break;
    case 'media_silence':
      state.silent.add(msg.producerId);
      show('media', `${msg.userId === state.userId ? 'your' : `${msg.userId}'s`} ${msg.kind} is not reaching the SFU`, 'bad');
      break;
    case 'media_resumed':
      state.silent.delete(msg.producerId);
      show('media', state.silent.size ? 'some media is silent' : 'flowing', state.silent.size ? 'bad' : 'ok');
      break;
    case 'room_closed':
      if (msg.reason === 'node_lost') rejoin('the node of the call died');
      else teardown(`room closed: ${msg.reason ?? '?'}`);
      break;
    default: break;
  }
}

/**
 * The event socket dropped: reconnect with backoff and resync. If it cannot
 * come back (or the controller dropped us meanwhile), leave: a best-effort
 * DELETE, then everything in this tab is released.
 */
async function onSocketLost(ev) {
  const session = state.session;
  const active = () => state.session === session && (state.phase === 'joined' || state.phase === 'joining');
  if (!active() || state.reconnecting === session) return;
  state.reconnecting = session;
  log(`event socket lost (${ev.code}); reconnecting`, 'bad');
  try {
    for (const delay of RECONNECT_DELAYS_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (!active()) return;
      show('socket', 'reconnecting');
      try {
        await openEvents();
        if (!active()) return; // e.g. room_closed "node_lost" on the new socket: joining again
        const where = await syncRoom({ prune: true });
        if (!active()) return;
        if (where === 'out') {
          teardown('removed from the call while disconnected');
          return;
        }
        if (where === 'replaced') {
          rejoin('the call has a new room');
          return;
        }
        if (state.ws?.readyState === WebSocket.OPEN) {
          log('event socket back', 'ok');
          return;
        }
      } catch (err) {
        log(`reconnect: ${err.message}`);
      }
    }
    if (active()) await leave('event socket lost');
  } finally {
    if (state.reconnecting === session) state.reconnecting = null;
  }
}

/** The call's room is gone with its node: release everything here, then join again (a fresh room). */
async function rejoin(why) {
  if (state.rejoining) return;
  state.rejoining = true;
  const { callId, token } = state;
  const camera = (state.localStream?.getVideoTracks().length ?? 0) > 0;
  teardown(why);
  try {
    for (const delay of REJOIN_DELAYS_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (state.phase !== 'left') return; // joined or joining by hand meanwhile
      log(`joining again: ${why}`);
      try {
        await join({ callId, token, camera });
        state.rejoins++;
        return;
      } catch (err) {
        log(`join again: ${err.message}`, 'bad');
      }
    }
  } finally {
    state.rejoining = false;
  }
}

// ------------------------------------------------------------------ leave
/** Leave: tell the controller (only our own resources close), then tear down. */
async function leave(why = 'left') {
  if (state.phase !== 'joining' && state.phase !== 'joined') return;
  state.phase = 'leaving';
  try {
    await api('DELETE', `${roomPath()}/participants/me`);
  } catch (err) {
    log(`leave: ${err.message}`);
  }
  teardown(why);
}

/** Releases everything in this tab (no request). */
function teardown(why) {
  if (state.phase === 'left' || state.phase === 'idle') return;
  const ws = state.ws;
  state.ws = null;
  state.phase = 'left';
  if (ws) { ws.onclose = null; ws.close(1000); show('socket', 'closed'); }
  dropConsumer(() => true);
  state.wanted.clear();
  dropDataConsumer(() => true);
  state.wantedData.clear();
  state.chatProducer?.close();
  state.chatProducer = null;
  $('chatText').disabled = true;
  $('chatSend').disabled = true;
  for (const p of state.producers.values()) p.close();
  state.producers.clear();
  state.sendTransport?.close();
  state.recvTransport?.close();
  state.localStream?.getTracks().forEach((t) => t.stop());
  state.localStream = null;
  for (const userId of [...state.peers.keys()]) removePeer(userId);
  show('send', 'closed');
  show('recv', 'closed');
  log(`left: ${why}`);
  setPhase('left', why);
}

// Tab close / navigation: a keepalive request outlives the page.
addEventListener('pagehide', () => {
  if (state.phase !== 'joined' && state.phase !== 'joining') return;
  fetch(`${roomPath()}/participants/me`, {
    method: 'DELETE', keepalive: true, headers: { authorization: `Bearer ${state.token}` },
  }).catch(() => {});
  teardown('page closed');
});

// ------------------------------------------------------------------ test hooks
function pick(report, type) {
  for (const s of report.values()) if (s.type === type) return s;
  return null;
}
async function stats() {
  const out = { inbound: [], outbound: [], transports: {} };
  for (const p of state.producers.values()) {
    const s = pick(await p.getStats(), 'outbound-rtp');
    out.outbound.push({ id: p.id, kind: p.kind, bytesSent: s?.bytesSent ?? 0 });
  }
  for (const { consumer, userId } of state.consumers.values()) {
    const s = pick(await consumer.getStats(), 'inbound-rtp');
    out.inbound.push({
      id: consumer.id, userId, kind: consumer.kind, bytesReceived: s?.bytesReceived ?? 0,
      packetsReceived: s?.packetsReceived ?? 0, audioLevel: s?.audioLevel ?? 0, totalAudioEnergy: s?.totalAudioEnergy ?? 0,
    });
  }
  if (state.sendTransport) out.transports.send = state.sendTransport.connectionState;
  if (state.recvTransport) out.transports.recv = state.recvTransport.connectionState;
  return out;
}
/** The selected ICE candidate pair of each transport: local/remote candidate types, addresses, bytes. */
async function transportStats() {
  const out = {};
  for (const [dir, t] of [['send', state.sendTransport], ['recv', state.recvTransport]]) {
    if (!t || t.closed) continue;
    const report = await t.getStats();
    const byId = new Map([...report.values()].map((s) => [s.id, s]));
    let pair = null;
    for (const s of report.values()) {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId) ?? pair;
    }
    if (!pair) for (const s of report.values()) if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    if (!pair) { out[dir] = null; continue; }
    const l = byId.get(pair.localCandidateId) ?? {};
    const r = byId.get(pair.remoteCandidateId) ?? {};
    out[dir] = {
      state: pair.state, bytesSent: pair.bytesSent ?? 0, bytesReceived: pair.bytesReceived ?? 0,
      local: { type: l.candidateType, protocol: l.protocol, relayProtocol: l.relayProtocol, address: l.address ?? l.ip, port: l.port, url: l.url },
      remote: { type: r.candidateType, protocol: r.protocol, address: r.address ?? r.ip, port: r.port },
    };
  }
  return out;
}

/** Stops the microphone track (its sender goes quiet: no RTP), or puts a fresh one in. */
async function stopMic() {
  for (const p of state.producers.values()) {
    if (p.kind !== 'audio' || !p.track) continue;
    p.track.stop();
    await p.replaceTrack({ track: null });
  }
  log('microphone stopped');
}
async function restartMic() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const track = stream.getAudioTracks()[0];
  for (const p of state.producers.values()) if (p.kind === 'audio') await p.replaceTrack({ track });
  log('microphone restarted');
}

/** Ids of our live server-side objects (the test looks for them in the worker's dump). */
function ids() {
  return {
    transports: [state.sendTransport, state.recvTransport].filter((t) => t && !t.closed).map((t) => t.id),
    producers: [...state.producers.keys()],
    consumers: [...state.consumers.keys()],
    dataProducers: state.chatProducer && !state.chatProducer.closed ? [state.chatProducer.id] : [],
    dataConsumers: [...state.dataConsumers.keys()],
  };
}
window.demo = { state, join, leave, stats, ids, transportStats, stopMic, restartMic, sendChat };

// ------------------------------------------------------------------ start
const params = new URLSearchParams(location.search);
$('callId').value = params.get('callId') ?? '';
$('token').value = params.get('token') ?? '';
$('userId').value = params.get('userId') ?? '';
$('camera').checked = params.get('camera') === '1';
state.relay = params.get('relay') === '1';
$('join').onclick = () => join().catch(() => {});
$('leave').onclick = () => leave();
$('chatForm').onsubmit = (ev) => {
  ev.preventDefault();
  if (sendChat($('chatText').value)) $('chatText').value = '';
};
setPhase('idle');
if (params.get('autojoin') === '1') join().catch(() => {});
