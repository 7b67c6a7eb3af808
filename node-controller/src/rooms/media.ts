// Media operations of one room: transports (RTC-02/03), producers (RTC-04),
// consumers (RTC-05), data producers/consumers (SCTP data channels, in the
// style of RTC-04/05), pause/resume/close. Each runs inside room.run() and
// checks that the caller owns what it touches (404 if not in this room,
// 403 if someone else's).
import type { types } from 'mediasoup';
import { ApiError } from '../errors';
import type { Room } from './room';
import type { Direction, Participant, TransportEntry } from './participant';

/** Older mediasoup-client's device.sctpCapabilities: accepted, not needed (every transport has SCTP). */
export interface SctpCapabilities {
  numStreams: { OS: number; MIS: number };
}

export interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
  sctpParameters?: types.SctpParameters;
}

function describeTransport(t: types.WebRtcTransport): TransportInfo {
  return {
    id: t.id,
    iceParameters: t.iceParameters,
    iceCandidates: t.iceCandidates,
    dtlsParameters: t.dtlsParameters,
    ...(t.sctpParameters ? { sctpParameters: t.sctpParameters } : {}),
  };
}

/**
 * Data channel message limit both ways (what Chromium and Firefox accept:
 * 256 KiB). mediasoup 3.27 has no numSctpStreams any more: the association
 * negotiates 65535 streams each way.
 */
export const SCTP_MAX_MESSAGE_SIZE = 262_144;

function listenInfos(room: Room): types.TransportListenInfo[] {
  const { rtcListenIp, rtcAnnouncedIp, rtcMinPort, rtcMaxPort } = room.cfg;
  return (['udp', 'tcp'] as const).map((protocol) => ({
    protocol,
    ip: rtcListenIp,
    ...(rtcAnnouncedIp ? { announcedAddress: rtcAnnouncedIp } : {}),
    portRange: { min: rtcMinPort, max: rtcMaxPort },
  }));
}

/** RTC-02: a send or recv transport for userId, reused or replaced (see README). */
export async function createTransport(
  room: Room, userId: string, direction: Direction, _sctpCapabilities?: SctpCapabilities,
): Promise<{ transport: TransportInfo; reused: boolean }> {
  const p = room.join(userId);
  const existing = p.transportFor(direction);
  if (existing && !existing.transport.closed) {
    if (!existing.connected) return { transport: describeTransport(existing.transport), reused: true };
    // A reconnect: the old transport and everything on it go first; peers
    // hear producer_closed through the producers' close handlers.
    closeTransport(room, existing);
  }
  // The participant's router: the home one, or another worker's when the room outgrew it.
  let router: types.Router;
  try {
    ({ router } = await room.place(userId));
  } catch (err) {
    if (!room.open) throw new ApiError('ROOM_NOT_FOUND', `no room for call ${room.callId}`);
    room.log.error({ err, userId }, 'no router for the participant');
    throw new ApiError('SERVICE_UNAVAILABLE', 'no media worker for this participant');
  }
  const transport = await router.createWebRtcTransport({
    listenInfos: listenInfos(room),
    enableUdp: true,
    enableTcp: true,
    preferUdp: true,
    // Every participant transport can carry data channels (sctpParameters in
    // the answer): mediasoup-client 3.24 has no device.sctpCapabilities any
    // more, so a client cannot be expected to ask. `sctpCapabilities` is
    // still accepted from older clients and not needed: the association
    // negotiates its streams itself (mediasoup 3.27 has no numSctpStreams).
    enableSctp: true,
    maxSendMessageSize: SCTP_MAX_MESSAGE_SIZE,
    maxReceiveMessageSize: SCTP_MAX_MESSAGE_SIZE,
    appData: { userId, direction },
  });
  if (!room.open) {
    transport.close();
    throw new ApiError('ROOM_NOT_FOUND', `no room for call ${room.callId}`);
  }
  const entry: TransportEntry = { transport, direction, connected: false };
  p.addTransport(entry);
  watchTransport(room, entry);
  return { transport: describeTransport(transport), reused: false };
}

/** Closes a transport whose ICE stays disconnected or whose DTLS failed. */
function watchTransport(room: Room, entry: TransportEntry): void {
  const { transport } = entry;
  const closeLater = (why: string) => {
    room.run(() => {
      if (!transport.closed) {
        room.log.info({ transportId: transport.id, why }, 'closing transport that did not recover');
        closeTransport(room, entry);
      }
    }).catch(() => undefined);
  };
  transport.on('icestatechange', (state) => {
    clearTimeout(entry.recoveryTimer);
    entry.recoveryTimer = undefined;
    if (state === 'disconnected') {
      entry.recoveryTimer = setTimeout(() => closeLater('ice disconnected'), room.cfg.transportRecoveryMs);
      entry.recoveryTimer.unref();
    } else if (state === 'closed') {
      closeLater('ice closed');
    }
  });
  transport.on('dtlsstatechange', (state) => {
    if (state === 'failed' || state === 'closed') closeLater(`dtls ${state}`);
  });
  // Media goes on without SCTP; the operator learns why a chat went quiet.
  transport.on('sctpstatechange', (state) => {
    if (state === 'failed') {
      room.log.warn({ transportId: transport.id, userId: transport.appData.userId }, 'SCTP association failed: no data channels on this transport');
    }
  });
}

/** Closes a transport: its consumers, then its producers (data ones too), then itself. */
function closeTransport(room: Room, entry: TransportEntry): void {
  const owner = room.participants.get(String(entry.transport.appData.userId));
  if (owner) {
    const id = entry.transport.id;
    for (const c of [...owner.consumers.values()]) if (transportOf(c) === id) c.close();
    for (const c of [...owner.dataConsumers.values()]) if (transportOf(c) === id) c.close();
    for (const pr of [...owner.producers.values()]) if (transportOf(pr) === id) pr.close();
    for (const pr of [...owner.dataProducers.values()]) if (transportOf(pr) === id) pr.close();
  }
  entry.transport.close();
}

function transportOf(o: { appData: Record<string, unknown> }): string {
  return String(o.appData.transportId ?? '');
}

type Owned = 'transport' | 'producer' | 'consumer' | 'data producer' | 'data consumer';
const NOT_FOUND = {
  transport: 'TRANSPORT_NOT_FOUND',
  producer: 'PRODUCER_NOT_FOUND',
  consumer: 'CONSUMER_NOT_FOUND',
  'data producer': 'DATA_PRODUCER_NOT_FOUND',
  'data consumer': 'DATA_CONSUMER_NOT_FOUND',
} as const;

function owned<T>(room: Room, userId: string, what: Owned, id: string,
  pick: (p: Participant) => T | undefined): T {
  for (const p of room.participants.values()) {
    const found = pick(p);
    if (found === undefined) continue;
    if (p.userId !== userId) throw new ApiError('FORBIDDEN', `${what} ${id} belongs to another participant`);
    return found;
  }
  throw new ApiError(NOT_FOUND[what], `${what} ${id} not found in call ${room.callId}`);
}

const ownTransport = (room: Room, userId: string, id: string) => owned(room, userId, 'transport', id, (p) => p.transports.get(id));
const ownProducer = (room: Room, userId: string, id: string) => owned(room, userId, 'producer', id, (p) => p.producers.get(id));
const ownConsumer = (room: Room, userId: string, id: string) => owned(room, userId, 'consumer', id, (p) => p.consumers.get(id));
const ownDataProducer = (room: Room, userId: string, id: string) =>
  owned(room, userId, 'data producer', id, (p) => p.dataProducers.get(id));
const ownDataConsumer = (room: Room, userId: string, id: string) =>
  owned(room, userId, 'data consumer', id, (p) => p.dataConsumers.get(id));

/** RTC-03. */
export async function connectTransport(room: Room, userId: string, transportId: string,
  dtlsParameters: types.DtlsParameters): Promise<void> {
  const entry = ownTransport(room, userId, transportId);
  try {
    await entry.transport.connect({ dtlsParameters });
  } catch (err) {
    if (err instanceof TypeError) throw new ApiError('INVALID_REQUEST', `dtlsParameters: ${err.message}`);
    throw new ApiError('INVALID_REQUEST', `connect failed: ${(err as Error).message}`);
  }
  entry.connected = true;
}

/** RTC-04. */
export async function produce(room: Room, userId: string, transportId: string, kind: types.MediaKind,
  rtpParameters: types.RtpParameters, appData: Record<string, unknown> = {}): Promise<string> {
  const entry = ownTransport(room, userId, transportId);
  if (entry.direction !== 'send') throw new ApiError('INVALID_REQUEST', 'transportId: not a send transport');
  let producer: types.Producer;
  try {
    producer = await entry.transport.produce({ kind, rtpParameters, appData: { ...appData, userId, transportId } });
  } catch (err) {
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    throw new ApiError('UNSUPPORTED_RTP_PARAMETERS', (err as Error).message);
  }
  const p = room.participants.get(userId);
  if (!p || producer.closed) {
    producer.close();
    throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
  }
  p.addProducer(producer);
  producer.observer.once('close', () => {
    room.broadcast({ type: 'producer_closed', producerId: producer.id, userId });
  });
  room.callConnected.track(producer);
  room.broadcast({ type: 'new_producer', producerId: producer.id, userId, kind }, userId);
  room.callConnected.check();
  await room.observeAudio(producer);
  return producer.id;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  type: types.ConsumerType;
  producerPaused: boolean;
}

/** RTC-05: created paused; the client resumes it once its track is ready. */
export async function consume(room: Room, userId: string, transportId: string, producerId: string,
  rtpCapabilities: types.RtpCapabilities): Promise<ConsumerInfo> {
  const entry = ownTransport(room, userId, transportId);
  if (entry.direction !== 'recv') throw new ApiError('INVALID_REQUEST', 'transportId: not a recv transport');
  const owner = [...room.participants.values()].find((p) => p.producers.has(producerId));
  if (!owner) throw new ApiError('PRODUCER_NOT_FOUND', `producer ${producerId} not found in call ${room.callId}`);
  const from = room.routers.routerFor(owner.userId)!;
  const to = room.routers.routerFor(userId)!;
  let ok = false;
  try {
    ok = from.router.canConsume({ producerId, rtpCapabilities });
  } catch (err) {
    throw new ApiError('CANNOT_CONSUME', `rtpCapabilities: ${(err as Error).message}`);
  }
  if (!ok) throw new ApiError('CANNOT_CONSUME', `rtpCapabilities cannot receive producer ${producerId}`);
  // A producer on another router of the room is piped here first (once).
  try {
    await room.routers.pipe(producerId, from, to);
  } catch (err) {
    if (!owner.producers.has(producerId)) throw new ApiError('PRODUCER_NOT_FOUND', `producer ${producerId} closed`);
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    room.log.error({ err, producerId, from: from.slot, to: to.slot }, 'pipeToRouter failed');
    throw new ApiError('SERVICE_UNAVAILABLE', `producer ${producerId} cannot reach this participant's media worker`);
  }
  let consumer: types.Consumer;
  try {
    consumer = await entry.transport.consume({ producerId, rtpCapabilities, paused: true,
      appData: { userId, transportId } });
  } catch (err) {
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    throw new ApiError('CANNOT_CONSUME', (err as Error).message);
  }
  const p = room.participants.get(userId);
  if (!p || consumer.closed) {
    consumer.close();
    throw new ApiError('PRODUCER_NOT_FOUND', `producer ${producerId} closed`);
  }
  p.addConsumer(consumer);
  consumer.observer.once('close', () => {
    room.sendTo(userId, { type: 'consumer_closed', consumerId: consumer.id, producerId });
  });
  return {
    id: consumer.id,
    producerId,
    kind: consumer.kind,
    rtpParameters: consumer.rtpParameters,
    type: consumer.type,
    producerPaused: consumer.producerPaused,
  };
}

export async function setProducerPaused(room: Room, userId: string, producerId: string, paused: boolean): Promise<void> {
  const producer = ownProducer(room, userId, producerId);
  if (paused) await producer.pause();
  else await producer.resume();
  room.broadcast({ type: paused ? 'producer_paused' : 'producer_resumed', producerId, userId }, userId);
}

export async function setConsumerPaused(room: Room, userId: string, consumerId: string, paused: boolean): Promise<void> {
  const consumer = ownConsumer(room, userId, consumerId);
  if (paused) await consumer.pause();
  else await consumer.resume();
}

export function closeProducer(room: Room, userId: string, producerId: string): void {
  ownProducer(room, userId, producerId).close();
}

export function closeConsumer(room: Room, userId: string, consumerId: string): void {
  ownConsumer(room, userId, consumerId).close();
}

/** A transport of userId that can carry data channels (SCTP), of the given direction. */
function sctpTransport(room: Room, userId: string, transportId: string, direction: Direction): TransportEntry {
  const entry = ownTransport(room, userId, transportId);
  if (entry.direction !== direction) throw new ApiError('INVALID_REQUEST', `transportId: not a ${direction} transport`);
  if (!entry.transport.sctpParameters) {
    throw new ApiError('INVALID_REQUEST', 'transportId: transport has no SCTP (data channels)');
  }
  return entry;
}

export interface DataProduceOptions {
  sctpStreamParameters: types.SctpStreamParameters;
  label?: string;
  protocol?: string;
  appData?: Record<string, unknown>;
}

/** A data channel from userId (mediasoup-client's `producedata`); the others hear new_data_producer. */
export async function produceData(room: Room, userId: string, transportId: string, o: DataProduceOptions): Promise<string> {
  const entry = sctpTransport(room, userId, transportId, 'send');
  let dataProducer: types.DataProducer;
  try {
    dataProducer = await entry.transport.produceData({
      sctpStreamParameters: o.sctpStreamParameters, label: o.label ?? '', protocol: o.protocol ?? '',
      appData: { ...(o.appData ?? {}), userId, transportId },
    });
  } catch (err) {
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    throw new ApiError('UNSUPPORTED_SCTP_PARAMETERS', (err as Error).message);
  }
  const p = room.participants.get(userId);
  if (!p || dataProducer.closed) {
    dataProducer.close();
    throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
  }
  p.addDataProducer(dataProducer);
  const { id, label, protocol } = dataProducer;
  dataProducer.observer.once('close', () => {
    room.broadcast({ type: 'data_producer_closed', dataProducerId: id, userId });
  });
  room.broadcast({ type: 'new_data_producer', dataProducerId: id, userId, label, protocol }, userId);
  return id;
}

export interface DataConsumerInfo {
  id: string;
  dataProducerId: string;
  sctpStreamParameters?: types.SctpStreamParameters;
  label: string;
  protocol: string;
  /** Who produces it. */
  userId: string;
}

/** A peer's data producer to userId's recv transport (its own SCTP stream there). */
export async function consumeData(room: Room, userId: string, transportId: string, dataProducerId: string): Promise<DataConsumerInfo> {
  const entry = sctpTransport(room, userId, transportId, 'recv');
  const owner = [...room.participants.values()].find((p) => p.dataProducers.has(dataProducerId));
  if (!owner) throw new ApiError('DATA_PRODUCER_NOT_FOUND', `data producer ${dataProducerId} not found in call ${room.callId}`);
  const from = room.routers.routerFor(owner.userId)!;
  const to = room.routers.routerFor(userId)!;
  try {
    await room.routers.pipeData(dataProducerId, from, to);
  } catch (err) {
    if (!owner.dataProducers.has(dataProducerId)) throw new ApiError('DATA_PRODUCER_NOT_FOUND', `data producer ${dataProducerId} closed`);
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    room.log.error({ err, dataProducerId, from: from.slot, to: to.slot }, 'pipeToRouter (data) failed');
    throw new ApiError('SERVICE_UNAVAILABLE', `data producer ${dataProducerId} cannot reach this participant's media worker`);
  }
  let dataConsumer: types.DataConsumer;
  try {
    dataConsumer = await entry.transport.consumeData({ dataProducerId, appData: { userId, transportId } });
  } catch (err) {
    if (entry.transport.closed) throw new ApiError('TRANSPORT_NOT_FOUND', `transport ${transportId} closed`);
    if (!owner.dataProducers.has(dataProducerId)) throw new ApiError('DATA_PRODUCER_NOT_FOUND', `data producer ${dataProducerId} closed`);
    throw new ApiError('CANNOT_CONSUME', (err as Error).message);
  }
  const p = room.participants.get(userId);
  if (!p || dataConsumer.closed) {
    dataConsumer.close();
    throw new ApiError('DATA_PRODUCER_NOT_FOUND', `data producer ${dataProducerId} closed`);
  }
  p.addDataConsumer(dataConsumer);
  // The data producer closing closes this one (mediasoup's dataproducerclose),
  // as do its transport and the router: the owner hears it either way.
  dataConsumer.observer.once('close', () => {
    room.sendTo(userId, { type: 'data_consumer_closed', dataConsumerId: dataConsumer.id, dataProducerId });
  });
  return {
    id: dataConsumer.id,
    dataProducerId,
    ...(dataConsumer.sctpStreamParameters ? { sctpStreamParameters: dataConsumer.sctpStreamParameters } : {}),
    label: dataConsumer.label,
    protocol: dataConsumer.protocol,
    userId: owner.userId,
  };
}

export function closeDataProducer(room: Room, userId: string, dataProducerId: string): void {
  ownDataProducer(room, userId, dataProducerId).close();
}

export function closeDataConsumer(room: Room, userId: string, dataConsumerId: string): void {
  ownDataConsumer(room, userId, dataConsumerId).close();
}
