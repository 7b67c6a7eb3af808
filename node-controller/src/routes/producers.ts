// RTC-04 POST /rtc/producers; pause, resume and close of the caller's own producers.
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { requireCall, requireParticipant } from '../auth';
import * as media from '../rooms/media';
import { bearer, callId, errors, id, idParams, rtpParameters } from './schemas';
import { roomOr404 } from './common';

interface ProduceBody {
  callId: string;
  transportId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  appData?: Record<string, unknown>;
}

export default async function producerRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: ProduceBody }>('/rtc/producers', {
    onRequest: app.authenticate,
    config: { call: { from: 'body' } },
    schema: {
      summary: 'RTC-04: start sending a track (audio, optionally video)',
      tags: ['rtc'],
      security: bearer,
      body: {
        type: 'object',
        required: ['callId', 'transportId', 'kind', 'rtpParameters'],
        properties: {
          callId,
          transportId: id,
          kind: { type: 'string', enum: ['audio', 'video'] },
          rtpParameters,
          appData: { type: 'object', additionalProperties: true },
        },
      },
      response: { 201: { type: 'object', properties: { producerId: { type: 'string' } } }, ...errors(404, 422) },
    },
  }, async (req, reply) => {
    const b = req.body;
    requireCall(req.principal, b.callId, { allowService: false });
    const room = roomOr404(app, b.callId);
    const producerId = await room.run(() =>
      media.produce(room, req.principal.userId, b.transportId, b.kind, b.rtpParameters, b.appData));
    return reply.code(201).send({ producerId });
  });

  const action = (verb: 'pause' | 'resume') =>
    app.post<{ Params: { id: string } }>(`/rtc/producers/:id/${verb}`, {
      onRequest: app.authenticate,
      config: { call: { from: 'token' } },
      schema: {
        summary: `${verb} one of the caller's producers (peers are told)`,
        tags: ['rtc'],
        security: bearer,
        params: idParams,
        response: { 200: { type: 'object', properties: { paused: { type: 'boolean' } } }, ...errors(404) },
      },
    }, async (req) => {
      const room = roomOr404(app, requireParticipant(req.principal), 'PRODUCER_NOT_FOUND');
      await room.run(() => media.setProducerPaused(room, req.principal.userId, req.params.id, verb === 'pause'));
      return { paused: verb === 'pause' };
    });
  action('pause');
  action('resume');

  app.delete<{ Params: { id: string } }>('/rtc/producers/:id', {
    onRequest: app.authenticate,
    config: { call: { from: 'token' } },
    schema: {
      summary: "close one of the caller's producers (its consumers close too)",
      tags: ['rtc'],
      security: bearer,
      params: idParams,
      response: { 200: { type: 'object', properties: { closed: { type: 'boolean' } } }, ...errors(404) },
    },
  }, async (req) => {
    const room = roomOr404(app, requireParticipant(req.principal), 'PRODUCER_NOT_FOUND');
    await room.run(() => media.closeProducer(room, req.principal.userId, req.params.id));
    return { closed: true };
  });
}
