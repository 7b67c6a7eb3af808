// Publishes the lifecycle of every room of this node on the call event bus.
import type { RoomRegistry } from '../rooms/registry';
import type { CallEventBus } from './bus';

export function publishLifecycle(rooms: RoomRegistry, bus: CallEventBus, nodeId?: string): void {
  rooms.on('room', (room) => {
    const callId = room.callId;
    const publish = (type: string, fields: Record<string, unknown> = {}) =>
      bus.publish({ type, callId, ...(nodeId ? { node: nodeId } : {}), ts: Date.now(), ...fields });
    room.on('open', () => publish('room_opened', { roomId: room.id }));
    room.on('joined', (userId) => publish('participant_joined', { userId }));
    room.on('left', (userId, reason) => publish('participant_left', { userId, reason }));
    room.on('connected', (at) => publish('call_connected', { connectedAt: at.toISOString() }));
    room.on('silence', (i) => publish('media_silence', {
      userId: i.userId, producerId: i.producerId, kind: i.kind,
      lastRtpAt: i.lastRtpAt === null ? null : new Date(i.lastRtpAt).toISOString(), silentSince: new Date(i.silentSince).toISOString(),
    }));
    room.on('resumed', (i) => publish('media_resumed', { userId: i.userId, producerId: i.producerId, kind: i.kind, silentMs: i.silentMs }));
    room.once('close', (reason) => publish('room_closed', {
      reason, roomId: room.id, connectedDurationMs: room.ended?.connectedDurationMs ?? 0,
    }));
  });
}
