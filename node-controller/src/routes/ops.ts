// GET /ops: the operators' page (service token, in the Authorization header
// or, for a browser, ?token=: tokens in query strings are not logged). It
// lists the live calls and charts each participant's streams from GET
// /rtc/calls and GET /rtc/rooms/:callId/stats, which it calls with the same
// token. GET /ops/ops.js is its script (no data in it, served to anyone).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors';
import { errors } from './schemas';

const opsDir = path.resolve(__dirname, '..', '..', '..', 'ops');
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

async function sendFile(reply: FastifyReply, file: string, type: string) {
  let body: Buffer;
  try {
    body = await fs.readFile(path.join(opsDir, file));
  } catch {
    throw new ApiError('NOT_FOUND', `ops page file missing: ${file}`);
  }
  return reply.type(type).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
    .header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').send(body);
}

export default async function opsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/ops', {
    onRequest: app.authenticate,
    preHandler: async (req) => {
      if (!req.principal.service) throw new ApiError('FORBIDDEN', 'service token required');
    },
    schema: {
      summary: 'The operators\' page: live calls and their quality charts (service token; ?token= for a browser)',
      tags: ['ops'],
      querystring: { type: 'object', properties: { token: { type: 'string' } } },
      response: errors(),
    },
  }, async (_req, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  app.get('/ops/ops.js', { schema: { hide: true } }, async (_req, reply) => sendFile(reply, 'ops.js', 'application/javascript; charset=utf-8'));
}
