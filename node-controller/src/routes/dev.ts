// The demo page and development helpers. GET / and GET /demo.js serve the page
// built by demo/build.mjs (demo/dist). Outside production (NODE_ENV !==
// 'production') two more routes exist for local work and the end-to-end tests:
// POST /dev/token mints a token, GET /dev/workers/dump (service token) dumps
// every worker. Neither is registered in production.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';

const demoDir = path.resolve(__dirname, '..', '..', '..', 'demo', 'dist');

async function sendFile(reply: import('fastify').FastifyReply, file: string, type: string) {
  try {
    const body = await fs.readFile(path.join(demoDir, file));
    return reply.type(type).send(body);
  } catch {
    throw new ApiError('NOT_FOUND', `demo page not built: run node demo/build.mjs (${file})`);
  }
}

export default async function devRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  app.get('/demo.js', { schema: { hide: true } }, async (_req, reply) =>
    sendFile(reply, 'demo.js', 'application/javascript; charset=utf-8'));

  if (process.env.NODE_ENV === 'production') return;

  app.post<{ Body: { userId: string; callId?: string; role?: string } }>('/dev/token', {
    schema: {
      summary: 'Development only: mint a token (a participant of callId, or a service token)',
      tags: ['dev'],
      body: {
        type: 'object',
        required: ['userId'],
        additionalProperties: false,
        properties: {
          userId: { type: 'string', minLength: 1, maxLength: 128 },
          callId: { type: 'string', minLength: 1, maxLength: 128 },
          role: { type: 'string', enum: ['service'] },
        },
      },
    },
  }, async (req) => {
    const { userId, callId, role } = req.body;
    if (role !== 'service' && callId === undefined) throw new ApiError('INVALID_REQUEST', 'body/callId is required');
    const claims: Record<string, unknown> = { sub: userId };
    if (role === 'service') claims.role = 'service';
    else claims.callId = callId;
    return { token: app.jwt.sign(claims, { expiresIn: '12h' }) };
  });

  app.get('/dev/workers/dump', {
    schema: { summary: 'Development only: every worker dump (service token)', tags: ['dev'] },
    onRequest: app.authenticate,
  }, async (req) => {
    if (!req.principal.service) throw new ApiError('FORBIDDEN', 'service token required');
    const workers = await Promise.all(app.pool.workers.map(async (w) => ({ pid: w.pid, dump: await w.dump() })));
    return { workers };
  });
}
