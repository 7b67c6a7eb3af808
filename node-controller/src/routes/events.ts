// GET /rtc/events?callId= : the event WebSocket of a participant (token in
// the Authorization header or the `token` query parameter). Opening it joins
// the room; when the last socket of a participant closes, its grace period
// starts (RTC_DISCONNECT_GRACE_MS), after which it is cleaned up.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { bearer, callIdQuery, errors } from './schemas';

export default async function eventRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { callId: string; token?: string } }>('/rtc/events', {
    websocket: true,
    onRequest: app.authenticate,
    // The call routing preHandler checks the token's call (403), and in
    // cluster mode relays a socket of a call owned elsewhere.
    config: { call: { from: 'query', create: true } },
    schema: {
      summary: 'Event WebSocket (JSON messages {type, ...}; see README)',
      tags: ['rtc'],
      security: bearer,
      querystring: callIdQuery,
      response: errors(),
    },
  }, (socket: WebSocket, req) => {
    const { callId } = req.query;
    if (req.relay) {
      req.relay.pipe(socket);
      return;
    }
    if (req.callLost) {
      // Cluster mode: the node that held this call died. The client learns
      // it as it would have from that node; RTC-01 starts a fresh room.
      socket.send(JSON.stringify({ type: 'room_closed', callId, reason: 'node_lost' }));
      socket.close(1000, 'node_lost');
      return;
    }
    const userId = req.principal.userId;
    const log = req.log.child({ callId, userId });
    let room: ReturnType<typeof app.rooms.getOrCreate> | undefined;
    let closed = false;
    socket.on('close', () => {
      closed = true;
      room?.detachSocket(userId, socket);
    });
    socket.on('error', (err) => log.debug({ err }, 'event socket error'));
    // Client messages are ignored: this socket only carries server events.
    const target = app.rooms.getOrCreate(callId);
    target.run(() => {
      if (closed) return;
      target.attachSocket(userId, socket);
      room = target;
    }).catch((err) => {
      log.warn({ err }, 'event socket could not join the room');
      socket.close(1011, 'room unavailable');
    });
  });
}
