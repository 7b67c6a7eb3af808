// RTC-01 GET /rtc/capabilities?callId= : the room is created on first use by a
// participant. Participants also get iceServers (TURN_URLS: STUN as is, TURN
// with time-limited coturn REST API credentials, see turn.ts); service tokens
// get an empty list.
import type { FastifyInstance } from 'fastify';
import { requireCall } from '../auth';
import { anyJson, bearer, callIdQuery, errors } from './schemas';
import { roomOr404 } from './common';
import { iceServersFor } from '../turn';

const iceServers = {
  type: 'array',
  items: {
    type: 'object',
    required: ['urls'],
    properties: { urls: { type: 'array', items: { type: 'string' } }, username: { type: 'string' }, credential: { type: 'string' } },
  },
} as const;

export default async function capabilitiesRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { callId: string } }>('/rtc/capabilities', {
    onRequest: app.authenticate,
    config: { call: { from: 'query', service: true, create: true } },
    schema: {
      summary: 'RTC-01: the router RTP capabilities of the call (joins and creates the room)',
      tags: ['rtc'],
      security: bearer,
      querystring: callIdQuery,
      response: { 200: { type: 'object', properties: { routerRtpCapabilities: anyJson, iceServers } }, ...errors(404, 503) },
    },
  }, async (req) => {
    const { callId } = req.query;
    const p = req.principal;
    requireCall(p, callId, { allowService: true });
    const room = p.service ? roomOr404(app, callId) : app.rooms.getOrCreate(callId);
    return room.run(() => {
      if (!p.service) room.join(p.userId);
      return {
        routerRtpCapabilities: room.router!.rtpCapabilities,
        iceServers: p.service ? [] : iceServersFor(app.config.turn, p.userId),
      };
    });
  });
}
