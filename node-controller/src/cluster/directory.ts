// The call directory in Redis, as one node sees it: its own registration
// and heartbeat, the sweep of dead nodes, call assignment and lookup, and the
// owner's updates of its calls. Every decision that several nodes could race
// on is one Lua script (scripts.ts, which also lists the keys). No timers
// here: ClusterNode drives the heartbeat.
import type { Redis } from 'ioredis';
import * as lua from './scripts';

export const DEFAULT_PREFIX = 'sfu:';

export interface NodeRecord {
  id: string;
  url: string;
  /** The address clients send media to. */
  media: string;
  workers: number;
  rooms: number;
  participants: number;
  capacity: number;
  /** Calls assigned to the node (its load in the assignment). */
  calls: number;
  instance: string;
  pid: number;
  startedAt: number;
  beatAt: number;
}

export type CallState = 'assigned' | 'open' | 'lost';

export interface CallEntry {
  callId: string;
  state: CallState;
  /** The owner; absent once the call is lost. */
  node?: string;
  /** The owner's heartbeat is current. */
  alive: boolean;
  nodeUrl?: string;
  nodeMedia?: string;
  createdAt?: number;
  openedAt?: number;
  connectedAt?: number;
  participants: string[];
  roomId?: string;
  lostNode?: string;
  lostAt?: number;
}

export interface Owner {
  node: string;
  url: string;
  media: string;
  /** Assigned by this call (the call had no live owner). */
  assigned: boolean;
}

export interface DirectoryOptions {
  prefix?: string;
  nodeId: string;
  /** Random per process: tells a restarted node from its previous process. */
  instance: string;
  nodeTtlMs: number;
  /** How long a lost call's tombstone stays (reconnecting clients learn node_lost). */
  tombstoneTtlMs?: number;
}

type Scripted = Redis & Record<'sfuHeartbeat' | 'sfuSweep' | 'sfuAssign' | 'sfuLookup' | 'sfuUpdate'
  | 'sfuRelease' | 'sfuReconcile', (...args: string[]) => Promise<unknown>>;

const SCRIPTS: Record<string, string> = {
  sfuHeartbeat: lua.HEARTBEAT,
  sfuSweep: lua.SWEEP,
  sfuAssign: lua.ASSIGN,
  sfuLookup: lua.LOOKUP,
  sfuUpdate: lua.UPDATE,
  sfuRelease: lua.RELEASE,
  sfuReconcile: lua.RECONCILE,
};

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

function participantsOf(raw: string | undefined): string[] {
  try {
    const v = JSON.parse(raw ?? '[]');
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export class CallDirectory {
  readonly prefix: string;
  readonly nodeId: string;
  readonly instance: string;
  private readonly redis: Scripted;
  private readonly ttl: string;
  private readonly tombstoneTtl: string;

  constructor(redis: Redis, opts: DirectoryOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.nodeId = opts.nodeId;
    this.instance = opts.instance;
    this.ttl = String(opts.nodeTtlMs);
    this.tombstoneTtl = String(opts.tombstoneTtlMs ?? 60_000);
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.redis = redis as Scripted;
  }

  /** Renews this node's record (and TTL). 'new': the record was missing (first beat, or it expired meanwhile). */
  async heartbeat(fields: Record<string, string | number>): Promise<'new' | 'ok' | 'conflict'> {
    const flat = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    return await this.redis.sfuHeartbeat(this.prefix, this.nodeId, this.instance, this.ttl, ...flat) as 'new' | 'ok' | 'conflict';
  }

  async readNode(id: string): Promise<NodeRecord | undefined> {
    const [h, calls] = await Promise.all([
      this.redis.hgetall(`${this.prefix}node:${id}`),
      this.redis.scard(`${this.prefix}node:${id}:calls`),
    ]);
    if (!h || Object.keys(h).length === 0) return undefined;
    return {
      id,
      url: h.url ?? '',
      media: h.media ?? '',
      workers: num(h.workers) ?? 0,
      rooms: num(h.rooms) ?? 0,
      participants: num(h.participants) ?? 0,
      capacity: num(h.capacity) ?? 0,
      calls,
      instance: h.instance ?? '',
      pid: num(h.pid) ?? 0,
      startedAt: num(h.startedAt) ?? 0,
      beatAt: num(h.beatAt) ?? 0,
    };
  }

  /** The live nodes (registered, heartbeat current), by id. */
  async nodes(): Promise<NodeRecord[]> {
    const ids = (await this.redis.smembers(`${this.prefix}nodes`)).sort();
    const recs = await Promise.all(ids.map((id) => this.readNode(id)));
    return recs.filter((r): r is NodeRecord => r !== undefined);
  }

  /** The calls a node owns (its P node:<id>:calls set). */
  async callsOf(id: string): Promise<string[]> {
    return (await this.redis.smembers(`${this.prefix}node:${id}:calls`)).sort();
  }

  /** Sweeps every node whose heartbeat expired (see SWEEP). -> the nodes swept, with their lost calls. */
  async sweep(): Promise<Array<{ node: string; lostCalls: number }>> {
    return this.sweepResult(await this.redis.sfuSweep(this.prefix, this.tombstoneTtl, '', ''));
  }

  /** Cleans up a node now, alive or not (restart cleanup, or leaving); with instance, only that process's record. */
  async sweepNode(id: string, instance = ''): Promise<number> {
    const r = this.sweepResult(await this.redis.sfuSweep(this.prefix, this.tombstoneTtl, id, instance));
    return r[0]?.lostCalls ?? 0;
  }

  private sweepResult(flat: unknown): Array<{ node: string; lostCalls: number }> {
    const a = flat as Array<string | number>;
    const out: Array<{ node: string; lostCalls: number }> = [];
    for (let i = 0; i + 1 < a.length; i += 2) out.push({ node: String(a[i]), lostCalls: Number(a[i + 1]) });
    return out;
  }

  /** The live owner of callId, assigning it now if it has none; undefined: every node is at capacity. */
  async assign(callId: string): Promise<Owner | undefined> {
    const [node, assigned, url, media] = await this.redis.sfuAssign(this.prefix, callId, this.nodeId, this.tombstoneTtl) as
      [string, number, string | null, string | null];
    if (!node) return undefined;
    return { node, assigned: assigned === 1, url: url ?? '', media: media ?? '' };
  }

  async lookup(callId: string): Promise<CallEntry | undefined> {
    const flat = await this.redis.sfuLookup(this.prefix, callId) as string[];
    if (flat.length === 0) return undefined;
    const h = pairs(flat);
    return {
      callId,
      state: (h.state as CallState) ?? 'assigned',
      node: h.node,
      alive: h._alive === '1',
      nodeUrl: h._url,
      nodeMedia: h._media,
      createdAt: num(h.createdAt),
      openedAt: num(h.openedAt),
      connectedAt: num(h.connectedAt),
      participants: participantsOf(h.participants),
      roomId: h.roomId,
      lostNode: h.lostNode,
      lostAt: num(h.lostAt),
    };
  }

  /** Writes fields of a call this node owns ('=now': Redis time). false: not (or no longer) the owner. */
  async update(callId: string, fields: Record<string, string>): Promise<boolean> {
    const flat = Object.entries(fields).flatMap(([k, v]) => [k, v]);
    return (await this.redis.sfuUpdate(this.prefix, callId, this.nodeId, ...flat)) === 1;
  }

  /** The call ended on this node: its entry goes. */
  async release(callId: string): Promise<boolean> {
    return (await this.redis.sfuRelease(this.prefix, callId, this.nodeId)) === 1;
  }

  /** See RECONCILE. -> local calls this node must close (the directory gave them up). */
  async reconcile(local: Array<{ callId: string; participants: string[] }>, orphanGraceMs: number): Promise<string[]> {
    const flat = local.flatMap((c) => [c.callId, JSON.stringify(c.participants)]);
    return await this.redis.sfuReconcile(this.prefix, this.nodeId, String(orphanGraceMs), ...flat) as string[];
  }

  /** Channel of one call's lifecycle events. */
  channel(callId: string): string {
    return `${this.prefix}events:${callId}`;
  }
}
