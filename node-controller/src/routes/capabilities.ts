// RTC-01 GET /rtc/capabilities?callId= : the room is created on first use by a participant.
import type { FastifyInstance } from 'fastify';
import { requireCall } from '../auth';
import { anyJson, bearer, callIdQuery, errors } from './schemas';
import { roomOr404 } from './common';

export default async function capabilitiesRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { callId: string } }>('/rtc/capabilities', {
    onRequest: app.authenticate,
    config: { call: { from: 'query', service: true, create: true } },
    schema: {
      summary: 'RTC-01: the router RTP capabilities of the call (joins and creates the room)',
      tags: ['rtc'],
      security: bearer,
      querystring: callIdQuery,
      response: { 200: { type: 'object', properties: { routerRtpCapabilities: anyJson } }, ...errors(404, 503) },
    },
  }, async (req) => {
    const { callId } = req.query;
    const p = req.principal;
    requireCall(p, callId, { allowService: true });
    const room = p.service ? roomOr404(app, callId) : app.rooms.getOrCreate(callId);
    return room.run(() => {
      if (!p.service) room.join(p.userId);
      return { routerRtpCapabilities: room.router!.rtpCapabilities };
    });
  });
}
