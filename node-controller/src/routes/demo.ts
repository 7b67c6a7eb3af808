// The demo call page: GET / and GET /demo.js serve what demo/build.mjs built
// (demo/dist). Without a token in its URL the page asks POST /dev/token,
// which only exists with RTC_DEV_ROUTES=1 (routes/dev.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors';

const demoDir = path.resolve(__dirname, '..', '..', '..', 'demo', 'dist');

async function sendFile(reply: FastifyReply, file: string, type: string) {
  try {
    const body = await fs.readFile(path.join(demoDir, file));
    return reply.type(type).send(body);
  } catch {
    throw new ApiError('NOT_FOUND', `demo page not built: run node demo/build.mjs (${file})`);
  }
}

export default async function demoRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  app.get('/demo.js', { schema: { hide: true } }, async (_req, reply) =>
    sendFile(reply, 'demo.js', 'application/javascript; charset=utf-8'));
}
