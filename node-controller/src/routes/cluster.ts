// GET /rtc/cluster: the nodes of the cluster; GET /rtc/cluster/calls/:callId:
// a call's directory entry (service tokens). Single-node mode answers
// {mode: "single"} and 404 for entries.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import { bearer, callIdParams, errors } from './schemas';

const nodeSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, url: { type: 'string' }, mediaAddress: { type: 'string' },
    workers: { type: 'integer' }, rooms: { type: 'integer' }, participants: { type: 'integer' },
    calls: { type: 'integer' }, capacity: { type: 'integer' }, pid: { type: 'integer' },
    startedAt: { type: 'string' }, heartbeatAt: { type: 'string' },
  },
} as const;

const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : null);

export default async function clusterRoutes(app: FastifyInstance): Promise<void> {
  const serviceOnly = async (req: { principal: { service: boolean } }) => {
    if (!req.principal.service) throw new ApiError('FORBIDDEN', 'service token required');
  };

  app.get('/rtc/cluster', {
    onRequest: app.authenticate,
    preHandler: serviceOnly,
    schema: {
      summary: 'The cluster: this node and every live node (service token)',
      tags: ['cluster'],
      security: bearer,
      response: {
        200: {
          type: 'object',
          properties: {
            mode: { type: 'string', enum: ['single', 'cluster'] },
            node: { type: 'string' },
            redis: { type: 'string', enum: ['up', 'down'] },
            nodes: { type: 'array', items: nodeSchema },
          },
        },
        ...errors(503),
      },
    },
  }, async () => {
    const cluster = app.cluster;
    if (!cluster) return { mode: 'single' };
    let nodes;
    try {
      nodes = await cluster.nodes();
    } catch {
      throw new ApiError('SERVICE_UNAVAILABLE', 'call directory unavailable; retry');
    }
    return {
      mode: 'cluster',
      node: cluster.self.id,
      redis: cluster.redisUp ? 'up' : 'down',
      nodes: nodes.map((n) => ({
        id: n.id, url: n.url, mediaAddress: n.media, workers: n.workers, rooms: n.rooms,
        participants: n.participants, calls: n.calls, capacity: n.capacity, pid: n.pid,
        startedAt: iso(n.startedAt), heartbeatAt: iso(n.beatAt),
      })),
    };
  });

  app.get<{ Params: { callId: string } }>('/rtc/cluster/calls/:callId', {
    onRequest: app.authenticate,
    preHandler: serviceOnly,
    schema: {
      summary: "A call's entry in the directory: its node (never a dead one), state and participants (service token)",
      tags: ['cluster'],
      security: bearer,
      params: callIdParams,
      response: {
        200: {
          type: 'object',
          properties: {
            callId: { type: 'string' },
            state: { type: 'string', enum: ['assigned', 'open', 'lost'] },
            node: { type: ['object', 'null'], properties: { id: { type: 'string' }, url: { type: 'string' }, mediaAddress: { type: 'string' } } },
            participants: { type: 'array', items: { type: 'string' } },
            roomId: { type: ['string', 'null'] },
            createdAt: { type: ['string', 'null'] },
            openedAt: { type: ['string', 'null'] },
            connectedAt: { type: ['string', 'null'] },
            lostNode: { type: ['string', 'null'] },
            lostAt: { type: ['string', 'null'] },
          },
        },
        ...errors(404, 503),
      },
    },
  }, async (req) => {
    const { callId } = req.params;
    const cluster = app.cluster;
    if (!cluster) throw new ApiError('NOT_FOUND', 'single-node mode has no call directory');
    let e;
    try {
      e = await cluster.entry(callId);
    } catch {
      throw new ApiError('SERVICE_UNAVAILABLE', 'call directory unavailable; retry');
    }
    if (!e) throw new ApiError('ROOM_NOT_FOUND', `no call ${callId} in the directory`);
    // An owner whose heartbeat expired is reported as what it is: lost.
    const alive = e.node !== undefined && e.alive;
    return {
      callId,
      state: alive ? e.state : 'lost',
      node: alive ? { id: e.node, url: e.nodeUrl, mediaAddress: e.nodeMedia } : null,
      participants: e.participants,
      roomId: e.roomId ?? null,
      createdAt: iso(e.createdAt),
      openedAt: iso(e.openedAt),
      connectedAt: iso(e.connectedAt),
      lostNode: alive ? null : (e.lostNode ?? e.node ?? null),
      lostAt: iso(e.lostAt),
    };
  });
}
