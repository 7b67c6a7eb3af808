// Development routes, registered only with RTC_DEV_ROUTES=1 (npm run dev
// sets it; npm start does not): POST /dev/token mints a token for any user
// and call (the demo page uses it), GET /dev/workers/dump (service token)
// dumps every worker (the end-to-end tests use it). Without the variable
// both answer 404 like any unknown route.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';

export default async function devRoutes(app: FastifyInstance): Promise<void> {
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
