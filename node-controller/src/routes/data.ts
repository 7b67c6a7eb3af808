// Data channels in the style of RTC-04/RTC-05: POST /rtc/data-producers,
// POST /rtc/data-consumers, and closing the caller's own ones.
import type { FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import { requireCall, requireParticipant } from '../auth';
import * as media from '../rooms/media';
import { anyJson, bearer, callId, dataLabel, errors, id, idParams, sctpStreamParameters } from './schemas';
import { roomOr404 } from './common';
import { ApiError } from '../errors';

interface DataProduceBody {
  callId: string;
  transportId: string;
  sctpStreamParameters: types.SctpStreamParameters;
  label?: string;
  protocol?: string;
  appData?: Record<string, unknown>;
}

interface DataConsumeBody {
  callId: string;
  transportId: string;
  dataProducerId: string;
}

export default async function dataRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: DataProduceBody }>('/rtc/data-producers', {
    onRequest: app.authenticate,
    config: { call: { from: 'body' } },
    schema: {
      summary: "start sending on a data channel (mediasoup-client's producedata; the send transport carries SCTP)",
      tags: ['rtc'],
      security: bearer,
      body: {
        type: 'object',
        required: ['callId', 'transportId', 'sctpStreamParameters'],
        properties: {
          callId,
          transportId: id,
          sctpStreamParameters,
          label: dataLabel,
          protocol: dataLabel,
          appData: { type: 'object', additionalProperties: true },
        },
      },
      response: { 201: { type: 'object', properties: { dataProducerId: { type: 'string' } } }, ...errors(404, 422) },
    },
  }, async (req, reply) => {
    const b = req.body;
    requireCall(req.principal, b.callId, { allowService: false });
    const p = b.sctpStreamParameters;
    if (p.maxPacketLifeTime !== undefined && p.maxRetransmits !== undefined) {
      throw new ApiError('INVALID_REQUEST', 'sctpStreamParameters: maxPacketLifeTime and maxRetransmits are exclusive');
    }
    const room = roomOr404(app, b.callId);
    const dataProducerId = await room.run(() => media.produceData(room, req.principal.userId, b.transportId, {
      sctpStreamParameters: p, label: b.label, protocol: b.protocol, appData: b.appData,
    }));
    return reply.code(201).send({ dataProducerId });
  });

  app.post<{ Body: DataConsumeBody }>('/rtc/data-consumers', {
    onRequest: app.authenticate,
    config: { call: { from: 'body' } },
    schema: {
      summary: "receive a peer's data channel on the caller's recv transport",
      tags: ['rtc'],
      security: bearer,
      body: {
        type: 'object',
        required: ['callId', 'transportId', 'dataProducerId'],
        properties: { callId, transportId: id, dataProducerId: id },
      },
      response: {
        201: {
          type: 'object',
          properties: {
            id: { type: 'string' }, dataProducerId: { type: 'string' }, sctpStreamParameters: anyJson,
            label: { type: 'string' }, protocol: { type: 'string' }, userId: { type: 'string' },
          },
        },
        ...errors(404, 422),
      },
    },
  }, async (req, reply) => {
    const b = req.body;
    requireCall(req.principal, b.callId, { allowService: false });
    const room = roomOr404(app, b.callId);
    const out = await room.run(() => media.consumeData(room, req.principal.userId, b.transportId, b.dataProducerId));
    return reply.code(201).send(out);
  });

  const close = (what: 'data-producers' | 'data-consumers') =>
    app.delete<{ Params: { id: string } }>(`/rtc/${what}/:id`, {
      onRequest: app.authenticate,
      config: { call: { from: 'token' } },
      schema: {
        summary: what === 'data-producers'
          ? "close one of the caller's data producers (its data consumers close too)"
          : "close one of the caller's data consumers",
        tags: ['rtc'],
        security: bearer,
        params: idParams,
        response: { 200: { type: 'object', properties: { closed: { type: 'boolean' } } }, ...errors(404) },
      },
    }, async (req) => {
      const code = what === 'data-producers' ? 'DATA_PRODUCER_NOT_FOUND' : 'DATA_CONSUMER_NOT_FOUND';
      const room = roomOr404(app, requireParticipant(req.principal), code);
      await room.run(() => (what === 'data-producers'
        ? media.closeDataProducer(room, req.principal.userId, req.params.id)
        : media.closeDataConsumer(room, req.principal.userId, req.params.id)));
      return { closed: true };
    });
  close('data-producers');
  close('data-consumers');
}
