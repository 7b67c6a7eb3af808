// The event sockets of one room, by user: JSON messages {type, ...}.

/** What the room needs of a WebSocket (ws.WebSocket satisfies it). */
export interface EventSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

export type RoomEvent =
  | { type: 'participant_joined'; userId: string }
  | { type: 'participant_left'; userId: string; reason: string }
  | { type: 'new_producer'; producerId: string; userId: string; kind: string }
  | { type: 'producer_closed'; producerId: string; userId: string }
  | { type: 'producer_paused'; producerId: string; userId: string }
  | { type: 'producer_resumed'; producerId: string; userId: string }
  | { type: 'consumer_closed'; consumerId: string; producerId: string }
  | { type: 'new_data_producer'; dataProducerId: string; userId: string; label: string; protocol: string }
  | { type: 'data_producer_closed'; dataProducerId: string; userId: string }
  | { type: 'data_consumer_closed'; dataConsumerId: string; dataProducerId: string }
  | { type: 'call_connected'; callId: string; at: string }
  | { type: 'silence' }
  | { type: 'media_silence'; callId: string; producerId: string; userId: string; kind: string; lastRtpAt: string | null; silentSince: string }
  | { type: 'media_resumed'; callId: string; producerId: string; userId: string; kind: string; silentMs: number }
  | { type: 'volumes'; volumes: Array<{ producerId: string; userId: string; volume: number }> }
  | { type: 'room_closed'; callId: string; reason: string };

export class RoomEvents {
  private readonly sockets = new Map<string, Set<EventSocket>>();

  add(userId: string, socket: EventSocket): void {
    let set = this.sockets.get(userId);
    if (!set) this.sockets.set(userId, (set = new Set()));
    set.add(socket);
  }

  /** Removes a socket; true if the user has no socket left. */
  remove(userId: string, socket: EventSocket): boolean {
    const set = this.sockets.get(userId);
    if (!set) return true;
    set.delete(socket);
    if (set.size > 0) return false;
    this.sockets.delete(userId);
    return true;
  }

  has(userId: string): boolean {
    return (this.sockets.get(userId)?.size ?? 0) > 0;
  }

  get count(): number {
    let n = 0;
    for (const s of this.sockets.values()) n += s.size;
    return n;
  }

  sendTo(userId: string, event: RoomEvent): void {
    const set = this.sockets.get(userId);
    if (!set) return;
    const data = JSON.stringify(event);
    for (const s of set) send(s, data);
  }

  /** To every socket, or every user but `except`. */
  broadcast(event: RoomEvent, except?: string): void {
    const data = JSON.stringify(event);
    for (const [userId, set] of this.sockets) {
      if (userId === except) continue;
      for (const s of set) send(s, data);
    }
  }

  /** Closes (and forgets) the sockets of one user, or of everyone. */
  close(code: number, reason: string, userId?: string): void {
    const users = userId === undefined ? [...this.sockets.keys()] : [userId];
    for (const u of users) {
      const set = this.sockets.get(u);
      this.sockets.delete(u);
      for (const s of set ?? []) {
        try { s.close(code, reason); } catch { /* already gone */ }
      }
    }
  }
}

function send(s: EventSocket, data: string): void {
  if (s.readyState !== OPEN) return;
  try { s.send(data); } catch { /* the close handler deals with it */ }
}
