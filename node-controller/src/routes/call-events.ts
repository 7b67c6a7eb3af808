// GET /rtc/calls/events?callId= : call lifecycle events for the service
// backend (service token; without callId: every call). In cluster mode they
// come through Redis pub/sub, so any node serves every call's events. First
// message: {type: "subscribed", callId}; then {type, callId, node?, at, ...}
// for call_assigned, room_opened, participant_joined, participant_left,
// call_connected, room_closed, call_lost (see events/bus.ts). Client
// messages are ignored.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { ApiError } from '../errors';
import { bearer, callId, errors } from './schemas';

export default async function callEventRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { callId?: string; token?: string } }>('/rtc/calls/events', {
    websocket: true,
    onRequest: app.authenticate,
    preHandler: async (req) => {
      if (!req.principal.service) throw new ApiError('FORBIDDEN', 'service token required');
    },
    schema: {
      summary: 'Lifecycle events of one call or of every call, from any node (service token; WebSocket)',
      tags: ['rtc'],
      security: bearer,
      querystring: { type: 'object', properties: { callId, token: { type: 'string' } } },
      response: errors(),
    },
  }, (socket: WebSocket, req) => {
    const callId = req.query.callId ?? null;
    const sub = app.bus.subscribe(callId, (e) => {
      if (socket.readyState !== socket.OPEN) return;
      const { ts, ...rest } = e;
      try { socket.send(JSON.stringify({ ...rest, at: new Date(ts).toISOString() })); } catch { /* closing */ }
    });
    socket.on('close', () => sub.close());
    socket.on('error', () => undefined);
    sub.ready.then(
      () => { if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'subscribed', callId })); },
      () => socket.close(1011, 'event bus unavailable'),
    );
  });
}
