// Call-membership auth: `Authorization: Bearer <JWT>` (HS256, JWT_SECRET),
// or a `token` query parameter for the event WebSocket (browsers cannot set
// headers there). Claims: sub = user id, callId = the call the bearer may
// join, role "service" = the app backend (may read and clean up any call).
import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors';

export interface Principal {
  userId: string;
  /** The call a participant token is for; undefined for service tokens without one. */
  callId?: string;
  service: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    authenticate: (req: FastifyRequest) => Promise<void>;
  }
}

interface Claims {
  sub?: unknown;
  callId?: unknown;
  role?: unknown;
}

function tokenOf(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (h !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) throw new ApiError('UNAUTHORIZED', 'Authorization header must be "Bearer <token>"');
    return m[1];
  }
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && q.length > 0) return q;
  throw new ApiError('UNAUTHORIZED', 'missing bearer token');
}

function describe(err: unknown): string {
  const code = (err as { code?: string })?.code ?? '';
  if (code.includes('EXPIRED')) return 'token expired';
  if (code.includes('INVALID_SIGNATURE')) return 'token signature is invalid';
  if (code.includes('INACTIVE')) return 'token is not active yet';
  if (code.includes('ALGORITHM')) return 'token algorithm is not allowed';
  return 'token is malformed';
}

export function principalOf(claims: Claims): Principal {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
    throw new ApiError('UNAUTHORIZED', 'token has no "sub" claim');
  }
  const service = claims.role === 'service';
  const callId = typeof claims.callId === 'string' && claims.callId.length > 0 ? claims.callId : undefined;
  if (!service && callId === undefined) throw new ApiError('UNAUTHORIZED', 'token has no "callId" claim');
  return { userId: claims.sub, callId, service };
}

/** 403 unless the principal belongs to callId (or is a service and services are allowed). */
export function requireCall(p: Principal, callId: string, opts: { allowService: boolean }): void {
  if (p.service) {
    if (opts.allowService) return;
    throw new ApiError('FORBIDDEN', 'service tokens may only read and clean up calls');
  }
  if (p.callId !== callId) throw new ApiError('FORBIDDEN', `this token is not for call ${callId}`);
}

/** 403 for service tokens on participant-only routes; the participant's call id otherwise. */
export function requireParticipant(p: Principal): string {
  if (p.service || p.callId === undefined) {
    throw new ApiError('FORBIDDEN', 'only call participants may do this');
  }
  return p.callId;
}

async function authPlugin(app: FastifyInstance, opts: { secret: string }): Promise<void> {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    verify: { algorithms: ['HS256'] },
  });
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorate('authenticate', async (req: FastifyRequest) => {
    const token = tokenOf(req);
    let claims: Claims;
    try {
      claims = app.jwt.verify<Claims>(token);
    } catch (err) {
      throw new ApiError('UNAUTHORIZED', describe(err));
    }
    req.principal = principalOf(claims);
  });
}

export default fp(authPlugin, { name: 'sfu-auth' });
