// GET /healthz and GET /metrics (Prometheus text format).
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Cluster mode adds this node's id and whether its last heartbeat reached
  // Redis; Redis down does not make the node unhealthy (its calls go on).
  const health = {
    type: 'object',
    properties: {
      status: { type: 'string' }, workers: { type: 'integer' }, rooms: { type: 'integer' },
      node: { type: 'string' }, redis: { type: 'string', enum: ['up', 'down'] },
    },
  } as const;
  app.get('/healthz', {
    schema: {
      summary: 'Liveness: 200 while at least one media worker runs, 503 otherwise',
      tags: ['ops'],
      response: { 200: health, 503: health },
    },
  }, async (_req, reply) => {
    const workers = app.pool.workers.length;
    const cluster = app.cluster ? { node: app.cluster.self.id, redis: app.cluster.redisUp ? 'up' : 'down' } : {};
    return reply.code(workers > 0 ? 200 : 503).send({ status: workers > 0 ? 'ok' : 'degraded', workers, rooms: app.rooms.size, ...cluster });
  });

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics', tags: ['ops'], response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    const body = await app.metrics.registry.metrics();
    return reply.type(app.metrics.registry.contentType).send(body);
  });
}
