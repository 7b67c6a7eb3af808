// GET /rtc/rooms/:callId, DELETE /rtc/rooms/:callId/participants/me, RTC-07 DELETE /rtc/rooms/:callId/cleanup.
import type { FastifyInstance } from 'fastify';
import { requireCall } from '../auth';
import { noneReleased } from '../rooms/participant';
import type { Room } from '../rooms/room';
import { bearer, callIdParams, errors } from './schemas';
import { roomOr404 } from './common';

const released = {
  type: 'object',
  properties: {
    transports: { type: 'integer' }, producers: { type: 'integer' }, consumers: { type: 'integer' },
    dataProducers: { type: 'integer' }, dataConsumers: { type: 'integer' },
  },
} as const;

const roomSchema = {
  type: 'object',
  properties: {
    callId: { type: 'string' },
    /** Unique per room: a call whose room was replaced (its node died, say) has a new one. */
    roomId: { type: 'string' },
    /** Cluster mode: the node that holds the room (media goes to its address). */
    node: {
      type: 'object',
      properties: { id: { type: 'string' }, url: { type: 'string' }, mediaAddress: { type: 'string' } },
    },
    createdAt: { type: 'string' },
    connected: { type: 'boolean' },
    connectedAt: { type: ['string', 'null'] },
    /** The billable time so far: from call_connected, while two participants have media. */
    connectedDurationMs: { type: 'integer' },
    participants: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          userId: { type: 'string' },
          online: { type: 'boolean' },
          /** The pool slot of the media worker holding the participant's router (once it has a transport). */
          worker: { type: 'integer' },
          transports: { type: 'integer' },
          consumers: { type: 'integer' },
          dataConsumers: { type: 'integer' },
          dataProducers: {
            type: 'array',
            items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' }, protocol: { type: 'string' } } },
          },
          producers: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' }, kind: { type: 'string' }, paused: { type: 'boolean' },
                /** The silence monitor reported it (no RTP for RTC_SILENCE_THRESHOLD_MS). */
                silent: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
} as const;

function describeRoom(app: FastifyInstance, room: Room) {
  const self = app.cluster?.self;
  return {
    callId: room.callId,
    roomId: room.id,
    ...(self ? { node: { id: self.id, url: self.url, mediaAddress: self.media } } : {}),
    createdAt: room.createdAt.toISOString(),
    connected: room.callConnected.connected,
    connectedAt: room.callConnected.at?.toISOString() ?? null,
    connectedDurationMs: room.clock.durationMs(),
    participants: [...room.participants.values()].map((p) => ({
      userId: p.userId,
      online: room.events.has(p.userId),
      ...(room.routers.of(p.userId) ? { worker: room.routers.of(p.userId)!.slot } : {}),
      transports: p.transports.size,
      consumers: p.consumers.size,
      dataConsumers: p.dataConsumers.size,
      dataProducers: [...p.dataProducers.values()].map((d) => ({ id: d.id, label: d.label, protocol: d.protocol })),
      producers: [...p.producers.values()].map((pr) => ({
        id: pr.id, kind: pr.kind, paused: pr.paused, silent: room.monitor.state(pr.id)?.silent ?? false,
      })),
    })),
  };
}

export default async function roomRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { callId: string } }>('/rtc/rooms/:callId', {
    onRequest: app.authenticate,
    config: { call: { from: 'params', service: true } },
    schema: {
      summary: 'The room: participants, their producers, whether the call is connected',
      tags: ['rooms'],
      security: bearer,
      params: callIdParams,
      response: { 200: roomSchema, ...errors(404) },
    },
  }, async (req) => {
    requireCall(req.principal, req.params.callId, { allowService: true });
    const room = roomOr404(app, req.params.callId);
    return room.run(() => describeRoom(app, room));
  });

  app.delete<{ Params: { callId: string } }>('/rtc/rooms/:callId/participants/me', {
    onRequest: app.authenticate,
    config: { call: { from: 'params' } },
    schema: {
      summary: 'The caller leaves: only its own resources close',
      tags: ['rooms'],
      security: bearer,
      params: callIdParams,
      response: { 200: { type: 'object', properties: { left: { type: 'boolean' }, released } }, ...errors(404) },
    },
  }, async (req) => {
    requireCall(req.principal, req.params.callId, { allowService: false });
    const room = roomOr404(app, req.params.callId);
    const out = await room.run(() => room.leave(req.principal.userId, 'left'));
    // Idempotent: a second leave (button, then pagehide) answers left: false.
    return { left: out !== undefined, released: out ?? noneReleased() };
  });

  app.delete<{ Params: { callId: string } }>('/rtc/rooms/:callId/cleanup', {
    onRequest: app.authenticate,
    config: { call: { from: 'params', service: true } },
    schema: {
      summary: 'RTC-07: close every consumer, producer and transport of the call, then the router',
      tags: ['rooms'],
      security: bearer,
      params: callIdParams,
      response: { 200: { type: 'object', properties: { cleaned: { type: 'boolean' }, released } }, ...errors(404) },
    },
  }, async (req) => {
    requireCall(req.principal, req.params.callId, { allowService: true });
    const room = roomOr404(app, req.params.callId);
    const out = await room.run(() => room.cleanup());
    return { cleaned: true, released: out };
  });
}
