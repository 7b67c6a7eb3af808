// RTC-02 POST /rtc/transports, RTC-03 POST /rtc/transports/:transportId/connect.
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { requireCall, requireParticipant } from '../auth';
import * as media from '../rooms/media';
import type { Direction } from '../rooms/participant';
import { anyJson, bearer, callId, dtlsParameters, errors, id, sctpCapabilities } from './schemas';
import { roomOr404 } from './common';

interface CreateBody { callId: string; direction: Direction; sctpCapabilities?: media.SctpCapabilities }
interface ConnectBody { dtlsParameters: types.DtlsParameters }

export default async function transportRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: CreateBody }>('/rtc/transports', {
    onRequest: app.authenticate,
    config: { call: { from: 'body' } },
    schema: {
      summary: 'RTC-02: a WebRTC transport for the caller (reused until connected; replaced on reconnect)',
      tags: ['rtc'],
      security: bearer,
      body: {
        type: 'object',
        required: ['callId', 'direction'],
        properties: { callId, direction: { type: 'string', enum: ['send', 'recv'] }, sctpCapabilities },
      },
      response: {
        201: {
          type: 'object',
          properties: {
            transport: {
              type: 'object',
              properties: {
                id: { type: 'string' }, iceParameters: anyJson, iceCandidates: anyJson,
                dtlsParameters: anyJson, sctpParameters: anyJson,
              },
            },
            reused: { type: 'boolean' },
          },
        },
        ...errors(404, 503),
      },
    },
  }, async (req, reply) => {
    const { callId: cid, direction, sctpCapabilities: sctp } = req.body;
    requireCall(req.principal, cid, { allowService: false });
    const room = roomOr404(app, cid);
    const out = await room.run(() => media.createTransport(room, req.principal.userId, direction, sctp));
    return reply.code(201).send(out);
  });

  app.post<{ Params: { transportId: string }; Body: ConnectBody }>('/rtc/transports/:transportId/connect', {
    onRequest: app.authenticate,
    config: { call: { from: 'token' } },
    schema: {
      summary: 'RTC-03: DTLS parameters of the client side of a transport',
      tags: ['rtc'],
      security: bearer,
      params: { type: 'object', required: ['transportId'], properties: { transportId: id } },
      body: { type: 'object', required: ['dtlsParameters'], properties: { dtlsParameters } },
      response: { 200: { type: 'object', properties: { connected: { type: 'boolean' } } }, ...errors(404) },
    },
  }, async (req) => {
    const cid = requireParticipant(req.principal);
    const room = roomOr404(app, cid, 'TRANSPORT_NOT_FOUND');
    await room.run(() => media.connectTransport(room, req.principal.userId, req.params.transportId, req.body.dtlsParameters));
    return { connected: true };
  });
}
