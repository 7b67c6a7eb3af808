// Operators' view of the calls (service tokens):
//   GET /rtc/calls?limit=            the live calls: in single-node mode this
//                                    node's rooms; in cluster mode every call of
//                                    the directory's live nodes (rooms held here
//                                    with their counts)
//   GET /rtc/rooms/:callId/stats?windowS=&userId=
//                                    per participant and stream: bitrate, packets,
//                                    loss, jitter, RTT, score, one sample every
//                                    RTC_STATS_INTERVAL_MS over the last windowS
//                                    seconds (<= RTC_STATS_WINDOW_S); in cluster
//                                    mode forwarded to the call's owner
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import type { Room } from '../rooms/room';
import { bearer, callIdParams, errors } from './schemas';
import { roomOr404 } from './common';

const serviceOnly = async (req: { principal: { service: boolean } }) => {
  if (!req.principal.service) throw new ApiError('FORBIDDEN', 'service token required');
};

const sample = {
  type: 'object',
  properties: {
    t: { type: 'integer' }, bitrate: { type: 'integer' }, packets: { type: 'integer' }, lost: { type: 'integer' },
    lossPct: { type: 'number' }, jitterMs: { type: 'number' }, rttMs: { type: 'number' }, score: { type: 'integer' },
  },
} as const;

/** A data channel of a participant, its counters read from the worker when asked. */
const dataChannel = {
  type: 'object',
  properties: {
    id: { type: 'string' }, direction: { type: 'string', enum: ['send', 'recv'] }, dataProducerId: { type: 'string' },
    fromUserId: { type: 'string' }, label: { type: 'string' }, protocol: { type: 'string' },
    messages: { type: 'integer' }, bytes: { type: 'integer' }, bufferedAmount: { type: 'integer' },
  },
} as const;

const stream = {
  type: 'object',
  properties: {
    id: { type: 'string' }, kind: { type: 'string' }, direction: { type: 'string', enum: ['send', 'recv'] },
    producerId: { type: 'string' }, fromUserId: { type: 'string' }, mimeType: { type: 'string' },
    silent: { type: 'boolean' }, paused: { type: 'boolean' },
    latest: { anyOf: [sample, { type: 'null' }] },
    samples: { type: 'array', items: sample },
  },
} as const;

const callSummary = {
  type: 'object',
  properties: {
    callId: { type: 'string' }, roomId: { type: ['string', 'null'] }, node: { type: ['string', 'null'] },
    state: { type: 'string' }, local: { type: 'boolean' },
    createdAt: { type: ['string', 'null'] }, connected: { type: 'boolean' }, connectedAt: { type: ['string', 'null'] },
    connectedDurationMs: { type: ['integer', 'null'] },
    participants: { type: 'array', items: { type: 'string' } },
    producers: { type: ['integer', 'null'] }, consumers: { type: ['integer', 'null'] },
    dataProducers: { type: ['integer', 'null'] }, dataConsumers: { type: ['integer', 'null'] },
  },
} as const;

const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : null);

function localSummary(app: FastifyInstance, room: Room) {
  const c = room.counts();
  return {
    callId: room.callId,
    roomId: room.id,
    node: app.cluster?.self.id ?? null,
    state: room.state,
    local: true,
    createdAt: room.createdAt.toISOString(),
    connected: room.callConnected.connected,
    connectedAt: room.callConnected.at?.toISOString() ?? null,
    connectedDurationMs: room.clock.durationMs(),
    participants: [...room.participants.keys()],
    producers: c.producers,
    consumers: c.consumers,
    dataProducers: c.dataProducers,
    dataConsumers: c.dataConsumers,
  };
}

export default async function statsRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { limit?: number } }>('/rtc/calls', {
    onRequest: app.authenticate,
    preHandler: serviceOnly,
    schema: {
      summary: 'The live calls (this node, or every node of the cluster) (service token)',
      tags: ['ops'],
      security: bearer,
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } } },
      response: { 200: { type: 'object', properties: { calls: { type: 'array', items: callSummary }, truncated: { type: 'boolean' } } }, ...errors(503) },
    },
  }, async (req) => {
    const limit = req.query.limit ?? 200;
    const local = app.rooms.all().filter((r) => r.open).map((r) => localSummary(app, r));
    const cluster = app.cluster;
    let calls: Array<ReturnType<typeof localSummary> | Record<string, unknown>> = local;
    if (cluster) {
      const here = new Set(local.map((c) => c.callId));
      let remote: Array<Record<string, unknown>> = [];
      try {
        for (const n of await cluster.nodes()) {
          if (n.id === cluster.self.id) continue;
          for (const callId of await cluster.directory.callsOf(n.id)) {
            if (here.has(callId)) continue;
            const e = await cluster.entry(callId);
            if (!e || e.state === 'lost') continue;
            remote.push({
              callId, roomId: e.roomId ?? null, node: e.node ?? null, state: e.state, local: false,
              createdAt: iso(e.createdAt), connected: e.connectedAt !== undefined, connectedAt: iso(e.connectedAt),
              connectedDurationMs: null, participants: e.participants, producers: null, consumers: null, dataProducers: null, dataConsumers: null,
            });
            if (local.length + remote.length > limit) break;
          }
        }
      } catch {
        throw new ApiError('SERVICE_UNAVAILABLE', 'call directory unavailable; retry');
      }
      calls = [...local, ...remote];
    }
    calls.sort((a, b) => String(a.callId).localeCompare(String(b.callId)));
    return { calls: calls.slice(0, limit), truncated: calls.length > limit };
  });

  app.get<{ Params: { callId: string }; Querystring: { windowS?: number; userId?: string } }>('/rtc/rooms/:callId/stats', {
    onRequest: app.authenticate,
    // Cluster mode: forwarded to the call's owner (it holds the samples).
    config: { call: { from: 'params', service: true } },
    preHandler: serviceOnly,
    schema: {
      summary: 'Call quality per participant and stream over the last minutes (service token)',
      tags: ['ops'],
      security: bearer,
      params: callIdParams,
      querystring: {
        type: 'object',
        properties: {
          windowS: { type: 'integer', minimum: 1, maximum: 3600 },
          userId: { type: 'string', minLength: 1, maxLength: 128 },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            callId: { type: 'string' }, roomId: { type: 'string' }, node: { type: 'string' }, at: { type: 'string' },
            intervalMs: { type: 'integer' }, windowS: { type: 'integer' },
            connected: { type: 'boolean' }, connectedAt: { type: ['string', 'null'] }, connectedDurationMs: { type: 'integer' },
            participants: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  userId: { type: 'string' }, online: { type: 'boolean' },
                  /** Sum of the latest bitrates of its send (recv) streams. */
                  sendBitrate: { type: 'integer' }, recvBitrate: { type: 'integer' },
                  /** The SFU's RTT towards it (the latest of its receive streams; 0 unknown). */
                  rttMs: { type: 'number' },
                  streams: { type: 'array', items: stream },
                  /** Data producers (send: messages/bytes received by the SFU) and consumers (recv: sent to it). */
                  dataChannels: { type: 'array', items: dataChannel },
                },
              },
            },
          },
        },
        ...errors(404),
      },
    },
  }, async (req) => {
    const { callId } = req.params;
    const max = app.config.statsWindowS;
    const windowS = req.query.windowS ?? max;
    if (windowS > max) throw new ApiError('INVALID_REQUEST', `querystring/windowS must be <= ${max} (RTC_STATS_WINDOW_S)`);
    const room = roomOr404(app, callId);
    const series = room.quality.snapshot(windowS);
    const users = req.query.userId !== undefined ? [req.query.userId] : [...room.participants.keys()];
    if (req.query.userId !== undefined && !room.participants.has(req.query.userId)) {
      throw new ApiError('NOT_FOUND', `no participant ${req.query.userId} in call ${callId}`);
    }
    const participants = await Promise.all(users.map(async (userId) => {
      const p = room.participants.get(userId)!;
      const streams = (series.get(userId) ?? []).map((s) => {
        const producer = s.direction === 'send' ? p.producers.get(s.id) : undefined;
        return {
          ...s,
          latest: s.samples.at(-1) ?? null,
          ...(producer ? { paused: producer.paused, silent: room.monitor.state(s.id)?.silent ?? false } : {}),
        };
      });
      const sum = (dir: string) => streams.filter((s) => s.direction === dir).reduce((a, s) => a + (s.latest?.bitrate ?? 0), 0);
      return {
        userId,
        online: room.events.has(userId),
        sendBitrate: sum('send'),
        recvBitrate: sum('recv'),
        rttMs: Math.max(0, ...streams.filter((s) => s.direction === 'recv').map((s) => s.latest?.rttMs ?? 0)),
        streams,
        dataChannels: await dataChannels(room, userId),
      };
    }));
    return {
      callId,
      roomId: room.id,
      ...(app.cluster ? { node: app.cluster.self.id } : {}),
      at: new Date().toISOString(),
      intervalMs: room.quality.intervalMs,
      windowS,
      connected: room.callConnected.connected,
      connectedAt: room.callConnected.at?.toISOString() ?? null,
      connectedDurationMs: room.clock.durationMs(),
      participants,
    };
  });
}

/** userId's data producers and consumers with the worker's counters (one closing meanwhile is left out). */
async function dataChannels(room: Room, userId: string) {
  const p = room.participants.get(userId);
  if (!p) return [];
  const fromUser = (dataProducerId: string) => {
    for (const q of room.participants.values()) if (q.dataProducers.has(dataProducerId)) return q.userId;
    return undefined;
  };
  const sends = [...p.dataProducers.values()].map(async (d) => {
    const [st] = await d.getStats();
    return { id: d.id, direction: 'send', dataProducerId: d.id, label: d.label, protocol: d.protocol,
      messages: st?.messagesReceived ?? 0, bytes: st?.bytesReceived ?? 0 };
  });
  const recvs = [...p.dataConsumers.values()].map(async (d) => {
    const [st] = await d.getStats();
    const from = fromUser(d.dataProducerId);
    return { id: d.id, direction: 'recv', dataProducerId: d.dataProducerId, ...(from ? { fromUserId: from } : {}),
      label: d.label, protocol: d.protocol, messages: st?.messagesSent ?? 0, bytes: st?.bytesSent ?? 0,
      bufferedAmount: st?.bufferedAmount ?? 0 };
  });
  const out = await Promise.allSettled([...sends, ...recvs]);
  return out.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}
