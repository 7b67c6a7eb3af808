// What the app backend hears (WEBHOOK_URL): the life of every call this node
// holds, from its room. Body `{id, event, callId, at, roomId, seq, node?, ...}`
// (seq counts the room's webhooks from 1: a call's events are delivered in
// that order, see sender.ts):
//   call_started        {startedAt}                       the room opened
//   participant_joined  {userId}
//   participant_left    {userId, reason}                  left | disconnected | worker_died | call_ended
//   call_connected      {connectedAt}                     the billing start (seed 002)
//   media_silence       {userId, producerId, kind, lastRtpAt, silentSince}
//   media_resumed       {userId, producerId, kind, silentMs}
//   call_ended          {reason, startedAt, endedAt, durationMs, connectedAt,
//                        connectedDurationMs}             the billable time in ms
// At the end the participants still in get participant_left (reason
// call_ended) before call_ended.
//
// Cluster mode: a call's events come from the node that owns it (rooms live
// there). A node that dies cannot say its calls ended: the node that finds
// it dead publishes call_lost (directory sweep); every node hears it and the
// first to claim it in Redis (SET NX per room) sends participant_left
// (node_lost) and call_ended {reason: "node_lost", estimated: true} with the
// billable time up to the dead node's last heartbeat (the sweep time minus
// CLUSTER_NODE_TTL_MS: within about two heartbeat periods of the real end).
// A node that closes a room node_lost itself (the directory gave its call
// away while it was cut off) claims the same key, so one call_ended per room.
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterNode } from '../cluster/node';
import type { CallEvent, CallEventBus } from '../events/bus';
import type { Room } from '../rooms/room';
import type { RoomRegistry } from '../rooms/registry';
import type { WebhookSender } from './sender';

const CLAIM_TTL_MS = 3_600_000;

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function callWebhooks(rooms: RoomRegistry, sender: WebhookSender, log: FastifyBaseLogger,
  cluster: ClusterNode | null, bus: CallEventBus): { close(): void } {
  const node = cluster?.self.id;
  rooms.on('room', (room) => watchRoom(room, sender, log, cluster, node));
  if (!cluster) return { close() {} };
  const sub = bus.subscribe(null, (e) => { if (e.type === 'call_lost') void onCallLost(e, sender, log, cluster); });
  sub.ready.catch((err: Error) => log.error({ err: err.message }, 'webhooks: cannot hear call_lost (Redis); lost calls get no call_ended'));
  return { close: () => sub.close() };
}

function watchRoom(room: Room, sender: WebhookSender, log: FastifyBaseLogger, cluster: ClusterNode | null, node?: string): void {
  const callId = room.callId;
  let seq = 0;
  let started = false;
  const send = (event: Parameters<WebhookSender['send']>[0]['event'], at: Date | number, fields: Record<string, unknown> = {}) =>
    sender.send({ event, callId, at, roomId: room.id, seq: ++seq, ...(node ? { node } : {}), ...fields });
  room.on('open', () => {
    started = true;
    send('call_started', Date.now(), { startedAt: room.createdAt.toISOString() });
  });
  room.on('joined', (userId) => send('participant_joined', Date.now(), { userId }));
  room.on('left', (userId, reason) => send('participant_left', Date.now(), { userId, reason }));
  room.on('connected', (at) => send('call_connected', at, { connectedAt: at.toISOString() }));
  room.on('silence', (info) => send('media_silence', Date.now(), {
    userId: info.userId, producerId: info.producerId, kind: info.kind, lastRtpAt: iso(info.lastRtpAt), silentSince: iso(info.silentSince),
  }));
  room.on('resumed', (info) => send('media_resumed', Date.now(), {
    userId: info.userId, producerId: info.producerId, kind: info.kind, silentMs: info.silentMs,
  }));
  room.once('close', () => {
    const ended = room.ended;
    if (!started || !ended) return;
    const finish = () => {
      for (const userId of ended.participants) send('participant_left', ended.at, { userId, reason: 'call_ended' });
      send('call_ended', ended.at, {
        reason: ended.reason,
        startedAt: room.createdAt.toISOString(),
        endedAt: ended.at.toISOString(),
        durationMs: ended.at.getTime() - room.createdAt.getTime(),
        connectedAt: iso(room.clock.connectedAt),
        connectedDurationMs: ended.connectedDurationMs,
      });
    };
    if (ended.reason !== 'node_lost' || !cluster) return finish();
    // The cluster may have reported this room's end already (see the header).
    claim(cluster, room.id).then((won) => {
      if (won) finish();
      else log.info({ callId, roomId: room.id }, 'webhooks: call_ended of this room was sent by the node that found it lost');
    }, (err: Error) => {
      log.warn({ callId, err: err.message }, 'webhooks: cannot claim call_ended in Redis; sending it');
      finish();
    });
  });
}

async function claim(cluster: ClusterNode, roomId: string): Promise<boolean> {
  const r = await cluster.redis.set(`${cluster.directory.prefix}webhook:ended:${roomId}`, cluster.self.id, 'PX', CLAIM_TTL_MS, 'NX');
  return r === 'OK';
}

async function onCallLost(e: CallEvent, sender: WebhookSender, log: FastifyBaseLogger, cluster: ClusterNode): Promise<void> {
  const roomId = typeof e.roomId === 'string' ? e.roomId : undefined;
  // A call that never had a room never had call_started either.
  if (!roomId) return;
  let won: boolean;
  try {
    won = await claim(cluster, roomId);
  } catch (err) {
    log.warn({ callId: e.callId, err: (err as Error).message }, 'webhooks: cannot claim a lost call in Redis');
    return;
  }
  if (!won) return;
  const lostAt = e.ts;
  // The dead node's record expired CLUSTER_NODE_TTL_MS after its last heartbeat.
  const lastBeat = lostAt - cluster.ttlMs;
  const connectedAt = Number(e.connectedAt) || undefined;
  const openedAt = Number(e.openedAt) || undefined;
  const endedAt = Math.max(lastBeat, openedAt ?? 0, connectedAt ?? 0);
  let participants: string[] = [];
  try {
    const v = JSON.parse(String(e.participants ?? '[]'));
    if (Array.isArray(v)) participants = v.map(String);
  } catch { /* none */ }
  const base = { roomId, lostNode: e.node, reportedBy: cluster.self.id, estimated: true };
  for (const userId of participants) sender.send({ event: 'participant_left', callId: e.callId, at: endedAt, ...base, userId, reason: 'node_lost' });
  sender.send({
    event: 'call_ended',
    callId: e.callId,
    at: endedAt,
    ...base,
    reason: 'node_lost',
    startedAt: iso(openedAt),
    endedAt: iso(endedAt),
    durationMs: openedAt ? endedAt - openedAt : null,
    connectedAt: iso(connectedAt),
    connectedDurationMs: connectedAt ? Math.max(0, endedAt - connectedAt) : 0,
  });
  log.warn({ callId: e.callId, roomId, lostNode: e.node }, 'webhooks: call_ended for a call whose node died (estimated duration)');
}
