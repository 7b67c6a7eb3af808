// This controller as a node of a cluster (REDIS_URL set): it registers in the
// call directory with a TTL heartbeat, sweeps nodes whose heartbeat expired,
// tells the routes where a call lives (locate), and keeps the directory entry
// of each call it owns in line with its room (state, participants, connected,
// deleted when the room closes).
//
// Failure handling:
//   - start: Redis unreachable for REDIS_CONNECT_TIMEOUT_MS -> start() throws.
//     A record of this NODE_ID from another process: if its heartbeat still
//     advances, start() throws (two processes with one NODE_ID); if it does
//     not for 1.5 heartbeat periods (a restart after a crash), what it left
//     is swept (its calls become lost tombstones, clients told node_lost)
//     and this process registers.
//   - Redis lost while running: local rooms go on (routes for calls held here
//     need no Redis); requests that need the directory answer 503; heartbeats
//     are skipped and logged once. Back: the heartbeat re-registers if the
//     record expired, and reconcile() keeps the calls the directory still
//     gives this node, reclaims those it forgot (Redis restarted empty) and
//     closes those it gave away meanwhile (the node was declared dead: room
//     closed "node_lost").
//   - another node dead: the next sweep (every heartbeat, on every node)
//     turns its calls into lost tombstones; assignment treats an owner whose
//     heartbeat expired as gone even before a sweep.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterConfig } from '../config';
import { ApiError } from '../errors';
import { RedisBus } from '../events/bus';
import type { RoomRegistry } from '../rooms/registry';
import type { WorkerPool } from '../workers';
import { CallDirectory, DEFAULT_PREFIX, type CallEntry, type NodeRecord } from './directory';
import { connectRedis, createRedis } from './redis';

export type Placement =
  /** This node holds (or is to create) the room. */
  | { kind: 'local' }
  /** Another live node owns the call. */
  | { kind: 'remote'; node: string; url: string }
  /** The call's node died (tombstone, or owner heartbeat expired); nothing created. */
  | { kind: 'lost'; node?: string }
  /** No entry, nothing created: the local handler answers (404). */
  | { kind: 'absent' };

export interface NodeInfo {
  id: string;
  url: string;
  media: string;
}

/** An entry assigned to this node without a room for this long is dropped (the forwarded request never came). */
const ORPHAN_GRACE_MS = 30_000;

export class ClusterNode {
  readonly redis: Redis;
  readonly sub: Redis;
  readonly directory: CallDirectory;
  readonly bus: RedisBus;
  readonly instance = randomUUID();
  readonly self: NodeInfo;
  /** The last heartbeat reached Redis. */
  redisUp = false;
  /** Live nodes at the last sweep (this one included). */
  liveNodes = 0;
  readonly stats = { forwardedHttp: 0, forwardedWs: 0, nodesSwept: 0, callsLost: 0, conflicts: 0 };
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;
  private fenced = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly cfg: ClusterConfig,
    private readonly log: FastifyBaseLogger,
    private readonly rooms: RoomRegistry,
    private readonly pool: WorkerPool,
    opts: { prefix?: string } = {},
  ) {
    this.self = { id: cfg.nodeId, url: cfg.publicUrl, media: cfg.mediaAddress };
    this.redis = createRedis(cfg.redisUrl, log, `sfu:${cfg.nodeId}`);
    this.sub = createRedis(cfg.redisUrl, log, `sfu:${cfg.nodeId}:sub`, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.directory = new CallDirectory(this.redis, {
      prefix, nodeId: cfg.nodeId, instance: this.instance, nodeTtlMs: cfg.nodeTtlMs,
    });
    this.bus = new RedisBus(this.redis, this.sub, prefix, log);
    rooms.on('room', (room) => {
      const callId = room.callId;
      const write = (fields: Record<string, string>) => {
        this.directory.update(callId, fields).catch((err: Error) =>
          this.log.debug({ callId, err: err.message }, 'directory update skipped (redis)'));
      };
      const participants = () => JSON.stringify([...room.participants.keys()]);
      room.on('open', () => write({ state: 'open', openedAt: '=now', roomId: room.id }));
      room.on('joined', () => write({ participants: participants() }));
      room.on('left', () => write({ participants: participants() }));
      room.on('connected', () => write({ connectedAt: '=now' }));
      room.once('close', () => {
        this.directory.release(callId).catch((err: Error) =>
          this.log.debug({ callId, err: err.message }, 'directory release skipped (redis): reconcile drops it later'));
      });
    });
  }

  /** Connects, cleans up after a previous process of this node, registers, sweeps; then a heartbeat every heartbeatMs. */
  async start(): Promise<void> {
    const { redisUrl, redisConnectTimeoutMs } = this.cfg;
    try {
      await connectRedis(this.redis, redisUrl, redisConnectTimeoutMs);
      await connectRedis(this.sub, redisUrl, redisConnectTimeoutMs);
      await this.takeOver();
      const r = await this.directory.heartbeat(this.record());
      if (r === 'conflict') throw new Error(`cluster mode: NODE_ID ${this.cfg.nodeId} was registered by another process meanwhile`);
      this.redisUp = true;
      await this.sweep();
    } catch (err) {
      this.redis.disconnect();
      this.sub.disconnect();
      throw err;
    }
    this.log.info({ node: this.self, ttlMs: this.cfg.nodeTtlMs, capacity: this.cfg.capacity }, 'cluster node registered');
    this.schedule();
  }

  /** Leaves the cluster: whatever calls are still registered here become lost; the record goes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    try {
      if (this.redis.status === 'ready') await this.directory.sweepNode(this.cfg.nodeId, this.instance);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cluster: could not deregister (the record expires by itself)');
    }
    await this.bus.close();
    await Promise.all([quit(this.redis), quit(this.sub)]);
  }

  /**
   * Where callId lives. A room held here answers at once (no Redis). With
   * create, a call without live owner is assigned now (to the least loaded
   * node: maybe this one), unless keepLost and it was lost (the event socket
   * then tells the client node_lost instead of creating a room).
   */
  async locate(callId: string, opts: { create: boolean; keepLost?: boolean }): Promise<Placement> {
    if (this.rooms.get(callId)) return { kind: 'local' };
    if (this.fenced) throw new ApiError('SERVICE_UNAVAILABLE', 'this node is not registered in the call directory');
    let entry: CallEntry | undefined;
    try {
      entry = await this.directory.lookup(callId);
      if (entry?.node && entry.alive) return this.placement(entry.node, entry.nodeUrl ?? '');
      const lost = entry !== undefined && (entry.state === 'lost' || !entry.alive);
      if (lost && (!opts.create || opts.keepLost)) return { kind: 'lost', node: entry!.lostNode ?? entry!.node };
      if (!opts.create) return { kind: 'absent' };
      const owner = await this.directory.assign(callId);
      if (!owner) throw new ApiError('SERVICE_UNAVAILABLE', 'every node of the cluster is at capacity');
      if (owner.assigned) this.log.info({ callId, owner: owner.node }, 'call assigned');
      return this.placement(owner.node, owner.url);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      this.log.warn({ callId, err: (err as Error).message }, 'call directory unavailable');
      throw new ApiError('SERVICE_UNAVAILABLE', 'call directory unavailable; retry');
    }
  }

  /** A node whose heartbeat is this old is dead (CLUSTER_NODE_TTL_MS). */
  get ttlMs(): number {
    return this.cfg.nodeTtlMs;
  }

  /** The directory entry of a call (undefined without one). */
  entry(callId: string): Promise<CallEntry | undefined> {
    return this.directory.lookup(callId);
  }

  nodes(): Promise<NodeRecord[]> {
    return this.directory.nodes();
  }

  private placement(node: string, url: string): Placement {
    return node === this.cfg.nodeId ? { kind: 'local' } : { kind: 'remote', node, url };
  }

  private record(): Record<string, string | number> {
    const t = this.rooms.totals();
    return {
      url: this.cfg.publicUrl,
      media: this.cfg.mediaAddress,
      workers: this.pool.workers.length,
      rooms: t.rooms,
      participants: t.participants,
      capacity: this.cfg.capacity,
      pid: process.pid,
      startedAt: this.startedAt,
    };
  }

  /**
   * A record of this NODE_ID from another process: a live duplicate if its
   * heartbeat advances, a dead predecessor (a restart after a crash) once
   * its last beat is 1.5 periods old without a new one; then what it left is
   * swept. A restart right after a crash waits at most that long.
   */
  private async takeOver(): Promise<void> {
    const id = this.cfg.nodeId;
    const prev = await this.directory.readNode(id);
    if (prev && prev.instance !== this.instance) {
      const staleAfter = prev.beatAt + 1.5 * this.cfg.heartbeatMs + 200;
      for (;;) {
        const [sec, usec] = await this.redis.time();
        const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        const cur = await this.directory.readNode(id);
        if (!cur) break;
        if (cur.instance !== prev.instance || cur.beatAt !== prev.beatAt) {
          throw new Error(`cluster mode: NODE_ID ${id} is in use by a live node (pid ${cur.pid}, ${cur.url}); `
            + 'give each node its own NODE_ID (default HOST:PORT)');
        }
        if (now >= staleAfter) break;
        await new Promise((r) => setTimeout(r, Math.min(200, staleAfter - now)));
      }
    }
    const lost = await this.directory.sweepNode(id);
    if (prev || lost > 0) this.log.warn({ node: id, lostCalls: lost }, 'cluster: cleaned up after a previous process of this node');
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { void this.tick(); }, this.cfg.heartbeatMs);
    this.timer.unref();
  }

  /** Heartbeat, reconcile, sweep. Never throws. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const r = await this.directory.heartbeat(this.record());
      if (!this.redisUp) this.log.info('cluster: heartbeat reaches Redis again');
      this.redisUp = true;
      if (r === 'conflict') {
        if (!this.fenced) {
          this.log.error({ node: this.cfg.nodeId }, 'cluster: another process registered this NODE_ID; closing local rooms');
          this.fenced = true;
          for (const room of this.rooms.all()) room.close('node_lost');
        }
        return;
      }
      if (r === 'new') this.log.warn('cluster: this node\'s record had expired; registered again');
      this.fenced = false;
      const local = this.rooms.all().filter((room) => room.state !== 'closed')
        .map((room) => ({ callId: room.callId, participants: [...room.participants.keys()] }));
      const conflicts = await this.directory.reconcile(local, ORPHAN_GRACE_MS);
      for (const callId of conflicts) {
        this.stats.conflicts++;
        this.log.warn({ callId }, 'cluster: the directory gave this call to another node meanwhile; closing the room here');
        this.rooms.get(callId)?.close('node_lost');
      }
      await this.sweep();
    } catch (err) {
      if (this.redisUp) this.log.warn({ err: (err as Error).message }, 'cluster: heartbeat failed (Redis unreachable); local rooms go on');
      this.redisUp = false;
    } finally {
      this.ticking = false;
      this.schedule();
    }
  }

  private async sweep(): Promise<void> {
    for (const s of await this.directory.sweep()) {
      this.stats.nodesSwept++;
      this.stats.callsLost += s.lostCalls;
      this.log.warn({ node: s.node, lostCalls: s.lostCalls }, 'cluster: node heartbeat expired; its calls are lost');
    }
    this.liveNodes = (await this.directory.nodes()).length;
  }
}

async function quit(r: Redis): Promise<void> {
  if (r.status === 'end') return;
  try {
    await Promise.race([r.quit(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  } catch { /* closing anyway */ }
  r.disconnect();
}
