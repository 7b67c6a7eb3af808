// GET /healthz and GET /metrics (Prometheus text format).
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', {
    schema: {
      summary: 'Liveness: 200 while at least one media worker runs, 503 otherwise',
      tags: ['ops'],
      response: {
        200: { type: 'object', properties: { status: { type: 'string' }, workers: { type: 'integer' }, rooms: { type: 'integer' } } },
        503: { type: 'object', properties: { status: { type: 'string' }, workers: { type: 'integer' }, rooms: { type: 'integer' } } },
      },
    },
  }, async (_req, reply) => {
    const workers = app.pool.workers.length;
    return reply.code(workers > 0 ? 200 : 503).send({ status: workers > 0 ? 'ok' : 'degraded', workers, rooms: app.rooms.size });
  });

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics', tags: ['ops'], response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    const body = await app.metrics.registry.metrics();
    return reply.type(app.metrics.registry.contentType).send(body);
  });
}
