// Which node serves a request for a call. Every /rtc route that acts on one
// call declares where its call id is (route config `call`); this preHandler
// (after the route's authentication and schema validation) checks that the
// token may act on that call, here where the request landed, and then in
// cluster mode asks the directory: a call owned by another node is forwarded
// there (REST through @fastify/reply-from, the event socket through WsRelay);
// the owner authenticates and authorizes the forwarded request again, as it
// does any request. A forwarded request is never forwarded again: if the
// owner changed meanwhile it answers 503 (retry).
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requireCall, requireParticipant } from '../auth';
import { ApiError, type ErrorCode } from '../errors';
import type { ClusterNode } from './node';
import { RelayRefused, WsRelay } from './ws-relay';

export interface CallRouteSpec {
  /** Where the call id is: the query's, body's or params' `callId`, or the token's call. */
  from: 'query' | 'body' | 'params' | 'token';
  /** Service tokens may use the route (reads, cleanup). */
  service?: boolean;
  /** A participant's first use creates the call (RTC-01, the event socket). */
  create?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    call?: CallRouteSpec;
  }
  interface FastifyRequest {
    /** Event socket of a remote call: the relay to its owner, opened by the preHandler. */
    relay?: WsRelay;
    /** Event socket of a call whose node died: the handler tells the client room_closed "node_lost". */
    callLost?: { node?: string };
  }
}

/** Marks a request forwarded by a node (its id); it is not forwarded again. */
export const FORWARDED_HEADER = 'x-sfu-forwarded-by';
/** On every response in cluster mode: the node that served it. */
export const NODE_HEADER = 'x-sfu-node';
const FORWARD_TIMEOUT_MS = 15_000;

export function callIdOf(req: FastifyRequest, spec: CallRouteSpec): string {
  if (spec.from === 'token') return requireParticipant(req.principal);
  const source = (spec.from === 'query' ? req.query : spec.from === 'body' ? req.body : req.params) as
    { callId?: unknown } | undefined;
  const callId = source?.callId;
  if (typeof callId !== 'string') throw new ApiError('INVALID_REQUEST', `${spec.from}/callId is required`);
  requireCall(req.principal, callId, { allowService: spec.service === true });
  return callId;
}

export function callRouting(app: FastifyInstance): preHandlerAsyncHookHandler {
  return async function routeCall(req: FastifyRequest, reply: FastifyReply) {
    const spec = req.routeOptions.config.call;
    if (!spec) return;
    const callId = callIdOf(req, spec);
    const cluster = app.cluster;
    if (!cluster) return;
    const ws = req.ws === true;
    const where = await cluster.locate(callId, { create: spec.create === true && !req.principal.service, keepLost: ws });
    if (where.kind === 'lost') {
      if (ws) req.callLost = { node: where.node };
      return;
    }
    if (where.kind !== 'remote') return;
    const from = req.headers[FORWARDED_HEADER];
    if (from !== undefined) {
      throw new ApiError('SERVICE_UNAVAILABLE', `call ${callId} is on node ${where.node} now; retry`);
    }
    req.log.debug({ callId, owner: where.node, ws }, 'forwarding to the owner of the call');
    if (ws) {
      req.relay = await openRelay(cluster, req, callId, where);
      cluster.stats.forwardedWs++;
      return;
    }
    cluster.stats.forwardedHttp++;
    return forwardHttp(cluster, req, reply, callId, where);
  };
}

function unreachable(callId: string, node: string): ApiError {
  return new ApiError('SERVICE_UNAVAILABLE', `node ${node}, which holds call ${callId}, did not answer; retry`);
}

function forwardHttp(cluster: ClusterNode, req: FastifyRequest, reply: FastifyReply, callId: string,
  where: { node: string; url: string }): FastifyReply {
  return reply.from(req.url, {
    getUpstream: () => where.url,
    rewriteRequestHeaders: (_req, headers) => ({ ...headers, [FORWARDED_HEADER]: cluster.self.id }),
    timeout: FORWARD_TIMEOUT_MS,
    // Never replay a request on another attempt: RTC routes are not idempotent.
    retryDelay: () => null,
    onError: (r, { error }) => {
      req.log.warn({ callId, owner: where.node, err: error.message }, 'forwarding failed');
      const e = unreachable(callId, where.node);
      r.code(e.statusCode).header('retry-after', '1').send({ error: e.code, message: e.message });
    },
  });
}

async function openRelay(cluster: ClusterNode, req: FastifyRequest, callId: string,
  where: { node: string; url: string }): Promise<WsRelay> {
  const url = `${where.url.replace(/^http/, 'ws')}${req.url}`;
  const headers: Record<string, string> = { [FORWARDED_HEADER]: cluster.self.id };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  try {
    return await WsRelay.open(url, headers, FORWARD_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof RelayRefused) {
      // The owner refused the upgrade: its answer goes to the client as is.
      const body = err.body as { error?: string; message?: string } | null;
      if (body && typeof body.error === 'string') {
        throw new ApiError(body.error as ErrorCode, body.message ?? '', err.status);
      }
    }
    req.log.warn({ callId, owner: where.node, err: (err as Error).message }, 'event socket relay failed');
    throw unreachable(callId, where.node);
  }
}
