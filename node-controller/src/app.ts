// build(opts) -> the Fastify instance (conventions item 16). Plugin order:
// ecosystem plugins, ours, decorators, hooks, routes. Workers close in onClose.
// With REDIS_URL the app is a cluster node (cluster/node.ts): it registers
// after its workers start, and the call routing hook forwards requests for
// calls other nodes own.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import replyFrom from '@fastify/reply-from';
import './decorators';
import { loadConfig, type Config } from './config';
import auth from './auth';
import { ApiError, errorBodySchema } from './errors';
import { WorkerPool } from './workers';
import { RoomRegistry } from './rooms/registry';
import { WorkerTotals } from './rooms/quality';
import { createMetrics } from './metrics';
import { ClusterNode } from './cluster/node';
import { callRouting, NODE_HEADER } from './cluster/routing';
import { LocalBus, type CallEventBus } from './events/bus';
import { publishLifecycle } from './events/lifecycle';
import { WebhookSender } from './webhooks/sender';
import { callWebhooks } from './webhooks/call-webhooks';
import healthRoutes from './routes/health';
import capabilitiesRoutes from './routes/capabilities';
import transportRoutes from './routes/transports';
import producerRoutes from './routes/producers';
import consumerRoutes from './routes/consumers';
import dataRoutes from './routes/data';
import roomRoutes from './routes/rooms';
import eventRoutes from './routes/events';
import demoRoutes from './routes/demo';
import devRoutes from './routes/dev';
import clusterRoutes from './routes/cluster';
import callEventRoutes from './routes/call-events';
import statsRoutes from './routes/stats';
import opsRoutes from './routes/ops';

/** On shutdown, webhooks still queued get this long to be delivered. */
const WEBHOOK_DRAIN_MS = 5000;

export interface BuildOptions {
  /** Configuration; defaults to loadConfig(process.env). */
  config?: Config;
  /** Fastify options (logger...); the logger defaults to pino at config.logLevel. */
  fastify?: FastifyServerOptions;
  /** Cluster mode: the Redis key prefix (tests isolate clusters on one Redis); default "sfu:". */
  clusterPrefix?: string;
}

/** A URL as logged: the value of a `token` query parameter (event sockets, /ops) is not. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1***');
}

/** Fastify's request serializer, minus tokens in query strings. */
const serializers = {
  req(req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
    return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
  },
};

/** pino's options: JSON lines, or readable lines through pino-pretty (a
 * development dependency) when LOG_FORMAT=pretty. */
function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  if (config.logFormat !== 'pretty') return { level: config.logLevel, serializers };
  let target: string;
  try {
    target = require.resolve('pino-pretty');
  } catch {
    process.emitWarning('LOG_FORMAT=pretty needs the pino-pretty package (npm ci without --omit=dev); logging JSON');
    return { level: config.logLevel, serializers };
  }
  return {
    level: config.logLevel,
    serializers,
    transport: { target, options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } },
  };
}

export async function build(opts: BuildOptions = {}): Promise<FastifyInstance> {
  const config = opts.config ?? loadConfig();
  // TLS_CERT_FILE/TLS_KEY_FILE: HTTPS, and so WSS for the event sockets (the
  // same server takes their upgrades).
  const fastifyOpts = { ...opts.fastify };
  // A caller's logger options (tests) keep the token redaction.
  if (fastifyOpts.logger && typeof fastifyOpts.logger === 'object') fastifyOpts.logger = { serializers, ...fastifyOpts.logger };
  const app = Fastify({
    logger: loggerOptions(config),
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key } } : {}),
    ...fastifyOpts,
  }) as unknown as FastifyInstance;
  if (config.tls) {
    app.log.info({ certFile: config.tls.certFile, subject: config.tls.subject, validTo: config.tls.validTo.toISOString() }, 'TLS: HTTPS and WSS');
    const days = (config.tls.validTo.getTime() - Date.now()) / 86_400_000;
    if (days < 14) app.log.warn({ validTo: config.tls.validTo.toISOString() }, `TLS certificate expires in ${days.toFixed(1)} days`);
  }

  const pool = new WorkerPool(config, app.log);
  const totals = new WorkerTotals();
  const rooms = new RoomRegistry({
    cfg: config, log: app.log, totals,
    pickWorker: () => pool.pick(),
    pickOtherWorker: (exclude) => pool.pickOther(exclude),
    pipeSupported: () => pool.pipeSupported,
  });
  const cluster = config.cluster
    ? new ClusterNode(config.cluster, app.log, rooms, pool, { prefix: opts.clusterPrefix })
    : null;
  const bus: CallEventBus = cluster ? cluster.bus : new LocalBus(app.log);
  publishLifecycle(rooms, bus, cluster?.self.id);
  // WEBHOOK_URL: the app backend hears every call this node holds (signed, retried, never blocking).
  const webhooks = config.webhook ? new WebhookSender(config.webhook, app.log.child({ subsystem: 'webhooks' })) : null;
  const webhookWiring = webhooks ? callWebhooks(rooms, webhooks, app.log, cluster, bus) : null;
  // Before @fastify/websocket's own preClose (which closes every socket):
  // rooms first, so their sockets hear room_closed "shutdown".
  app.addHook('preClose', async () => { rooms.closeAll('shutdown'); });

  // 1. ecosystem plugins
  await app.register(swagger, {
    openapi: {
      info: { title: 'SFU controller RTC API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // Forwarding to the owner of a call (routes ask per request; no fixed upstream).
  if (cluster) await app.register(replyFrom, { disableRequestLogging: true });

  // 2. ours
  await app.register(auth, { secret: config.jwtSecret });
  app.addSchema(errorBodySchema);

  // 3. decorators
  app.decorate('config', config);
  app.decorate('pool', pool);
  app.decorate('rooms', rooms);
  app.decorate('metrics', createMetrics(rooms, pool, cluster, webhooks, totals));
  app.decorate('webhooks', webhooks);
  app.decorate('cluster', cluster);
  app.decorate('bus', bus);

  // 4. hooks
  app.addHook('onReady', async () => {
    await pool.start();
    if (!cluster) return;
    try {
      await cluster.start();
    } catch (err) {
      pool.close();
      throw err;
    }
  });
  app.addHook('onClose', async () => {
    rooms.closeAll('shutdown');
    if (webhooks) {
      // call_ended of the rooms just closed (billing) gets a few seconds to go out.
      const left = await webhooks.drain(WEBHOOK_DRAIN_MS);
      if (left > 0) app.log.warn({ undelivered: left }, 'webhooks: shutting down with undelivered events');
      webhooks.close();
      webhookWiring?.close();
    }
    await cluster?.stop();
    await bus.close();
    pool.close();
  });
  // Authorizes the call of every /rtc call route where the request lands;
  // in cluster mode forwards it to the call's owner.
  app.addHook('preHandler', callRouting(app));
  if (cluster) {
    app.addHook('onSend', async (_req, reply) => {
      // A forwarded answer already carries its owner's id.
      if (!reply.hasHeader(NODE_HEADER)) reply.header(NODE_HEADER, cluster.self.id);
    });
  }
  app.addHook('onResponse', async (req, reply) => {
    app.metrics.apiLatency.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) {
      if (err.statusCode === 503) reply.header('retry-after', '1');
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'INVALID_REQUEST', message: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'INVALID_REQUEST', message: err.message });
    }
    // The detail goes to the log (with the request id), never to the client.
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL_ERROR', message: 'internal error', requestId: req.id });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  // 5. routes
  await app.register(healthRoutes);
  await app.register(capabilitiesRoutes);
  await app.register(transportRoutes);
  await app.register(producerRoutes);
  await app.register(consumerRoutes);
  await app.register(dataRoutes);
  await app.register(roomRoutes);
  await app.register(eventRoutes);
  await app.register(callEventRoutes);
  await app.register(clusterRoutes);
  await app.register(statsRoutes);
  await app.register(opsRoutes);
  await app.register(demoRoutes);
  if (config.devRoutes) {
    app.log.warn('RTC_DEV_ROUTES=1: development routes are on (POST /dev/token mints tokens for anyone)');
    await app.register(devRoutes);
  }
  return app;
}
