// The call directory's Lua scripts. Each runs atomically in Redis, which is
// what makes "one owner per call" and "a dead node is swept once" hold with
// any number of nodes racing. Keys (P = the key prefix, default "sfu:"):
//
//   P nodes                  SET   ids of registered nodes
//   P node:<id>              HASH  url, media, workers, rooms, participants,
//                                  capacity, instance, pid, startedAt, beatAt;
//                                  PEXPIRE = the node TTL, renewed by every heartbeat
//   P node:<id>:calls        SET   call ids the node owns (its load)
//   P call:<callId>          HASH  node, state (assigned | open | lost), createdAt,
//                                  openedAt, connectedAt, participants (JSON),
//                                  roomId; a lost call keeps lostNode/lostAt and
//                                  expires after the tombstone TTL; an ended call
//                                  is deleted
//   P events:<callId>        pub/sub channel of the call's lifecycle events (JSON)
//
// Scripts touch keys they compute from their arguments, so they need one
// Redis (or a primary with replicas/Sentinel), not Redis Cluster.
// Every script gets ARGV[1] = P; times come from Redis (TIME), never from a
// node's clock.

const NOW = `
local t = redis.call('TIME')
local now = t[1] .. string.format('%03d', math.floor(t[2] / 1000))
local nowN = tonumber(now)
`;

/** ARGV: P, id, instance, ttlMs, field, value, ... -> 'new' | 'ok' | 'conflict' */
export const HEARTBEAT = `
local P, id, inst, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local k = P .. 'node:' .. id
local cur = redis.call('HGET', k, 'instance')
if cur and cur ~= inst then return 'conflict' end
${NOW}
for i = 5, #ARGV, 2 do redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', k, 'instance', inst, 'beatAt', now)
redis.call('PEXPIRE', k, ttl)
redis.call('SADD', P .. 'nodes', id)
if cur then return 'ok' end
return 'new'
`;

/**
 * Sweeps dead nodes. ARGV: P, tombstoneTtlMs, force ('' or a node id),
 * instance ('' or the instance the forced node must have).
 * Without force: every registered node whose heartbeat key expired. With
 * force: that node, alive or not: a restarted node cleaning what its previous
 * process left, or a node leaving on shutdown (with its own instance: a no-op
 * if it was swept already). Each call the node still owned becomes a lost
 * tombstone and its channel gets call_lost (with the room's id, openedAt,
 * connectedAt and participants: the webhook of its end needs them). -> {id, lostCalls, id, lostCalls, ...}
 */
export const SWEEP = `
local P, tomb, force, inst = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
${NOW}
local ids
if force ~= '' then
  if inst ~= '' and redis.call('HGET', P .. 'node:' .. force, 'instance') ~= inst then return {} end
  ids = { force }
else
  ids = redis.call('SMEMBERS', P .. 'nodes')
end
local out = {}
for _, id in ipairs(ids) do
  if force ~= '' or redis.call('EXISTS', P .. 'node:' .. id) == 0 then
    local lost = 0
    local set = P .. 'node:' .. id .. ':calls'
    for _, c in ipairs(redis.call('SMEMBERS', set)) do
      local key = P .. 'call:' .. c
      if redis.call('HGET', key, 'node') == id then
        local f = redis.call('HMGET', key, 'roomId', 'openedAt', 'connectedAt', 'participants')
        redis.call('HDEL', key, 'node')
        redis.call('HSET', key, 'state', 'lost', 'lostNode', id, 'lostAt', now)
        redis.call('PEXPIRE', key, tomb)
        redis.call('PUBLISH', P .. 'events:' .. c,
          cjson.encode({ type = 'call_lost', callId = c, node = id, ts = nowN, roomId = f[1] or nil,
            openedAt = f[2] or nil, connectedAt = f[3] or nil, participants = f[4] or nil }))
        lost = lost + 1
      end
    end
    redis.call('DEL', set)
    redis.call('SREM', P .. 'nodes', id)
    if force ~= '' then redis.call('DEL', P .. 'node:' .. id) end
    table.insert(out, id)
    table.insert(out, lost)
  end
end
return out
`;

/**
 * The owner of a call, assigning it on first use. ARGV: P, callId, requester,
 * tombstoneTtlMs. An entry whose node is alive is returned as is. Otherwise
 * (no entry, a lost tombstone, or an owner whose heartbeat expired before a
 * sweep saw it) the call goes to the live node with the lowest calls/capacity
 * ratio that is under its capacity; ties go to the requester (no forwarding
 * hop), then to the smallest id.
 * -> {owner id or '', 1 if assigned now else 0, owner url, owner media address}
 */
export const ASSIGN = `
local P, c, me = ARGV[1], ARGV[2], ARGV[3]
local key = P .. 'call:' .. c
local owner = redis.call('HGET', key, 'node')
if owner then
  local nk = P .. 'node:' .. owner
  if redis.call('EXISTS', nk) == 1 then
    return { owner, 0, redis.call('HGET', nk, 'url'), redis.call('HGET', nk, 'media') }
  end
end
${NOW}
if owner then
  -- its node's heartbeat expired: the call is lost (once), then starts afresh
  redis.call('SREM', P .. 'node:' .. owner .. ':calls', c)
  local f = redis.call('HMGET', key, 'roomId', 'openedAt', 'connectedAt', 'participants')
  redis.call('PUBLISH', P .. 'events:' .. c,
    cjson.encode({ type = 'call_lost', callId = c, node = owner, ts = nowN, roomId = f[1] or nil,
      openedAt = f[2] or nil, connectedAt = f[3] or nil, participants = f[4] or nil }))
end
local best, bestLoad
for _, id in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  local nk = P .. 'node:' .. id
  local cap = tonumber(redis.call('HGET', nk, 'capacity'))
  if cap then
    local n = redis.call('SCARD', nk .. ':calls')
    if n < cap then
      local load = n / cap
      if not best or load < bestLoad
        or (load == bestLoad and best ~= me and (id == me or id < best)) then
        best, bestLoad = id, load
      end
    end
  end
end
if not best then return { '', 0, '', '' } end
redis.call('DEL', key)
redis.call('HSET', key, 'node', best, 'state', 'assigned', 'createdAt', now, 'participants', '[]')
redis.call('SADD', P .. 'node:' .. best .. ':calls', c)
redis.call('PUBLISH', P .. 'events:' .. c, cjson.encode({ type = 'call_assigned', callId = c, node = best, ts = nowN }))
local nk = P .. 'node:' .. best
return { best, 1, redis.call('HGET', nk, 'url'), redis.call('HGET', nk, 'media') }
`;

/**
 * ARGV: P, callId -> the entry's fields (HGETALL, flat) plus _alive (1 if its
 * node's heartbeat is current), _url and _media of that node; {} without entry.
 */
export const LOOKUP = `
local P, c = ARGV[1], ARGV[2]
local key = P .. 'call:' .. c
local h = redis.call('HGETALL', key)
if #h == 0 then return h end
local owner = redis.call('HGET', key, 'node')
local alive = 0
if owner then
  local nk = P .. 'node:' .. owner
  alive = redis.call('EXISTS', nk)
  if alive == 1 then
    table.insert(h, '_url'); table.insert(h, redis.call('HGET', nk, 'url'))
    table.insert(h, '_media'); table.insert(h, redis.call('HGET', nk, 'media'))
  end
end
table.insert(h, '_alive'); table.insert(h, tostring(alive))
return h
`;

/**
 * The owner updates its call: ARGV: P, callId, node, field, value, ...
 * Only while the entry still names that node (a call swept or reassigned is
 * never written back). 'connectedAt' etc. take Redis time when the value is
 * '=now'. -> 1 written, 0 not the owner.
 */
export const UPDATE = `
local P, c, me = ARGV[1], ARGV[2], ARGV[3]
local key = P .. 'call:' .. c
if redis.call('HGET', key, 'node') ~= me then return 0 end
${NOW}
for i = 4, #ARGV, 2 do
  local v = ARGV[i + 1]
  if v == '=now' then v = now end
  redis.call('HSET', key, ARGV[i], v)
end
return 1
`;

/** The owner's call ended: ARGV: P, callId, node -> 1 entry deleted, 0 not the owner. */
export const RELEASE = `
local P, c, me = ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', P .. 'node:' .. me .. ':calls', c)
local key = P .. 'call:' .. c
if redis.call('HGET', key, 'node') ~= me then return 0 end
redis.call('DEL', key)
return 1
`;

/**
 * Brings the directory in line with the rooms a node really holds.
 * ARGV: P, node, orphanGraceMs, callId, participantsJson, callId, participantsJson, ...
 *   - a local call whose entry names the node: kept (participants refreshed);
 *   - one without entry (Redis lost its data, or restarted empty): reclaimed;
 *   - one whose entry is a tombstone or names another node: a conflict, the
 *     node must close that room (it was declared dead meanwhile);
 *   - an entry naming the node without a local room, older than the grace
 *     period (assigned, but the forwarded request never came): deleted.
 * -> the conflicting call ids
 */
export const RECONCILE = `
local P, me, grace = ARGV[1], ARGV[2], tonumber(ARGV[3])
${NOW}
local set = P .. 'node:' .. me .. ':calls'
local here = {}
local conflicts = {}
for i = 4, #ARGV, 2 do
  local c = ARGV[i]
  here[c] = true
  local key = P .. 'call:' .. c
  local owner = redis.call('HGET', key, 'node')
  if owner == me then
    redis.call('SADD', set, c)
    redis.call('HSET', key, 'participants', ARGV[i + 1])
  elseif redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'node', me, 'state', 'open', 'createdAt', now, 'participants', ARGV[i + 1], 'reclaimedAt', now)
    redis.call('SADD', set, c)
  else
    table.insert(conflicts, c)
  end
end
for _, c in ipairs(redis.call('SMEMBERS', set)) do
  if not here[c] then
    local key = P .. 'call:' .. c
    if redis.call('HGET', key, 'node') ~= me then
      redis.call('SREM', set, c)
    elseif nowN - (tonumber(redis.call('HGET', key, 'createdAt')) or 0) > grace then
      redis.call('DEL', key)
      redis.call('SREM', set, c)
    end
  end
end
return conflicts
`;
