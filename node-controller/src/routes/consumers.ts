// RTC-05 POST /rtc/consumers (created paused); resume, pause and close of the caller's own consumers.
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { requireCall, requireParticipant } from '../auth';
import * as media from '../rooms/media';
import { anyJson, bearer, callId, errors, id, idParams, rtpCapabilities } from './schemas';
import { roomOr404 } from './common';

interface ConsumeBody {
  callId: string;
  transportId: string;
  producerId: string;
  rtpCapabilities: types.RtpCapabilities;
}

export default async function consumerRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: ConsumeBody }>('/rtc/consumers', {
    onRequest: app.authenticate,
    config: { call: { from: 'body' } },
    schema: {
      summary: "RTC-05: receive a peer's producer (created paused: resume it when the track is ready)",
      tags: ['rtc'],
      security: bearer,
      body: {
        type: 'object',
        required: ['callId', 'transportId', 'producerId', 'rtpCapabilities'],
        properties: { callId, transportId: id, producerId: id, rtpCapabilities },
      },
      response: {
        201: {
          type: 'object',
          properties: {
            id: { type: 'string' }, producerId: { type: 'string' }, kind: { type: 'string' },
            rtpParameters: anyJson, type: { type: 'string' }, producerPaused: { type: 'boolean' },
          },
        },
        ...errors(404, 422),
      },
    },
  }, async (req, reply) => {
    const b = req.body;
    requireCall(req.principal, b.callId, { allowService: false });
    const room = roomOr404(app, b.callId);
    const out = await room.run(() =>
      media.consume(room, req.principal.userId, b.transportId, b.producerId, b.rtpCapabilities));
    return reply.code(201).send(out);
  });

  const action = (verb: 'pause' | 'resume') =>
    app.post<{ Params: { id: string } }>(`/rtc/consumers/:id/${verb}`, {
      onRequest: app.authenticate,
      config: { call: { from: 'token' } },
      schema: {
        summary: `${verb} one of the caller's consumers`,
        tags: ['rtc'],
        security: bearer,
        params: idParams,
        response: { 200: { type: 'object', properties: { paused: { type: 'boolean' } } }, ...errors(404) },
      },
    }, async (req) => {
      const room = roomOr404(app, requireParticipant(req.principal), 'CONSUMER_NOT_FOUND');
      await room.run(() => media.setConsumerPaused(room, req.principal.userId, req.params.id, verb === 'pause'));
      return { paused: verb === 'pause' };
    });
  action('pause');
  action('resume');

  app.delete<{ Params: { id: string } }>('/rtc/consumers/:id', {
    onRequest: app.authenticate,
    config: { call: { from: 'token' } },
    schema: {
      summary: "close one of the caller's consumers",
      tags: ['rtc'],
      security: bearer,
      params: idParams,
      response: { 200: { type: 'object', properties: { closed: { type: 'boolean' } } }, ...errors(404) },
    },
  }, async (req) => {
    const room = roomOr404(app, requireParticipant(req.principal), 'CONSUMER_NOT_FOUND');
    await room.run(() => media.closeConsumer(room, req.principal.userId, req.params.id));
    return { closed: true };
  });
}
