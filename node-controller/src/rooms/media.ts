// Media operations of one room: transports (RTC-02/03), producers (RTC-04),
// consumers (RTC-05), pause/resume/close. Each runs inside room.run() and
// checks that the caller owns what it touches (404 if not in this room,
// 403 if someone else's).
import type { types } from 'mediasoup';
import { ApiError } from '../errors';
import type { Room } from './room';
import type { Direction, Participant, TransportEntry } from './participant';

/** mediasoup-client's device.sctpCapabilities: asking for one enables SCTP (data channels). */
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
  room: Room, userId: string, direction: Direction, sctpCapabilities?: SctpCapabilities,
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
    enableSctp: sctpCapabilities !== undefined,
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
}

/** Closes a transport: its consumers, then its producers, then itself. */
function closeTransport(room: Room, entry: TransportEntry): void {
  const owner = room.participants.get(String(entry.transport.appData.userId));
  if (owner) {
    for (const c of [...owner.consumers.values()]) if (transportOf(c) === entry.transport.id) c.close();
    for (const pr of [...owner.producers.values()]) if (transportOf(pr) === entry.transport.id) pr.close();
  }
  entry.transport.close();
}

function transportOf(o: types.Producer | types.Consumer): string {
  return String(o.appData.transportId ?? '');
}

function owned<T>(room: Room, userId: string, what: 'transport' | 'producer' | 'consumer', id: string,
  pick: (p: Participant) => T | undefined): T {
  for (const p of room.participants.values()) {
    const found = pick(p);
    if (found === undefined) continue;
    if (p.userId !== userId) throw new ApiError('FORBIDDEN', `${what} ${id} belongs to another participant`);
    return found;
  }
  const code = what === 'transport' ? 'TRANSPORT_NOT_FOUND' : what === 'producer' ? 'PRODUCER_NOT_FOUND' : 'CONSUMER_NOT_FOUND';
  throw new ApiError(code, `${what} ${id} not found in call ${room.callId}`);
}

const ownTransport = (room: Room, userId: string, id: string) => owned(room, userId, 'transport', id, (p) => p.transports.get(id));
const ownProducer = (room: Room, userId: string, id: string) => owned(room, userId, 'producer', id, (p) => p.producers.get(id));
const ownConsumer = (room: Room, userId: string, id: string) => owned(room, userId, 'consumer', id, (p) => p.consumers.get(id));

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
