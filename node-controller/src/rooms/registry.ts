// The rooms of this controller, one per callId. Creation is synchronous
// (the room queues its own router creation first), so concurrent first
// requests for a call get the same room. A closed room removes itself.
// 'room' tells listeners (lifecycle events, the cluster directory) of each
// new room before anything happens in it.
import { EventEmitter } from 'node:events';
import type { RoomDeps, RoomCloseReason } from './room';
import { Room } from './room';

export class RoomRegistry extends EventEmitter<{ room: [room: Room] }> {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly deps: RoomDeps) {
    super();
  }

  /** The room of callId if it is not closed. */
  get(callId: string): Room | undefined {
    const room = this.rooms.get(callId);
    return room && room.state !== 'closed' ? room : undefined;
  }

  getOrCreate(callId: string): Room {
    const existing = this.get(callId);
    if (existing) return existing;
    const room = new Room(callId, this.deps);
    this.rooms.set(callId, room);
    room.once('close', () => {
      if (this.rooms.get(callId) === room) this.rooms.delete(callId);
    });
    this.emit('room', room);
    return room;
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }

  get size(): number {
    return this.rooms.size;
  }

  closeAll(reason: RoomCloseReason): void {
    for (const room of this.all()) room.close(reason);
  }

  totals(): { rooms: number; participants: number; transports: number; producers: number; consumers: number; dataProducers: number; dataConsumers: number } {
    const t = { rooms: this.rooms.size, participants: 0, transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0 };
    for (const room of this.rooms.values()) {
      const c = room.counts();
      t.participants += c.participants;
      t.transports += c.transports;
      t.producers += c.producers;
      t.consumers += c.consumers;
      t.dataProducers += c.dataProducers;
      t.dataConsumers += c.dataConsumers;
    }
    return t;
  }
}
