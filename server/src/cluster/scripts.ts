/**
 * The Lua scripts that change the cluster's state. Each event is one script: the write,
 * its index, its tombstone and its PUBLISH happen together or not at all (Redis runs a
 * script atomically), so no node can read half an event.
 *
 * ARGV[1] is always the key prefix (`knock:<Cluster_Name>:`). Keys are built inside the
 * scripts from it: a single Redis (or a Valkey/Redis primary with replicas) is assumed,
 * not Redis Cluster's sharding.
 */

/** Tombstones of entries with no expiry live this long (ms). */
export const FOREVER_TOMBSTONE_MS = 7 * 24 * 3600 * 1000;

/**
 * PUT kind id json ttl at mode message
 * mode 'set': write (a knock, `fw accept`); 'republish': write only if the cluster lacks it
 * (or holds it for less time) and no later revocation is recorded. Returns 1 if written.
 */
export const PUT = `
local p, kind, id, json, ttl, at, mode, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8]
local key = p .. kind .. ':' .. id
local gone = p .. 'gone:' .. kind .. ':' .. id
if mode == 'republish' then
  local g = tonumber(redis.call('GET', gone) or '')
  if g and g >= at then return 0 end
  local cur = redis.call('PTTL', key)
  if cur == -1 then return 0 end
  if cur > 0 and ttl > 0 and cur >= ttl - 1000 then return 0 end
end
if redis.call('DEL', gone) == 1 then redis.call('SREM', p .. 'gones', kind .. ':' .. id) end
if ttl > 0 then redis.call('SET', key, json, 'PX', ttl) else redis.call('SET', key, json) end
redis.call('SADD', p .. kind .. 's', id)
-- The store's clock in the message: a node that receives it late (a slow link, a backlog)
-- subtracts the delay, so every node's kernel entry ends at the same moment.
local now = redis.call('TIME')
local m = cjson.decode(msg)
m.t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('PUBLISH', p .. 'events', cjson.encode(m))
return 1
`;

/** Shared by REVOKE and FLUSH: delete one entry and leave its tombstone. */
const REVOKE_ONE = `
local function revoke(p, kind, id, at)
  local key = p .. kind .. ':' .. id
  local left = redis.call('PTTL', key)
  redis.call('DEL', key)
  redis.call('SREM', p .. kind .. 's', id)
  if left == -1 or left == -2 then left = ${FOREVER_TOMBSTONE_MS} end
  redis.call('SET', p .. 'gone:' .. kind .. ':' .. id, at, 'PX', left)
  redis.call('SADD', p .. 'gones', kind .. ':' .. id)
end
`;

/**
 * REVOKE kind address at message: a ban goes, or every grant of the address (all its
 * ports, as `fw flush addr` does locally); each leaves a tombstone as long as it would have lived.
 */
export const REVOKE = `${REVOKE_ONE}
local p, kind, address, at, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local n = 0
if kind == 'ban' then
  revoke(p, 'ban', address, at); n = 1
else
  local head = address .. '|'
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'grants')) do
    if string.sub(id, 1, #head) == head then revoke(p, 'grant', id, at); n = n + 1 end
  end
end
redis.call('PUBLISH', p .. 'events', msg)
return n
`;

/** FLUSH kind at message: every grant (or ban) goes, each with its tombstone. */
export const FLUSH = `${REVOKE_ONE}
local p, kind, at, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ids = redis.call('SMEMBERS', p .. kind .. 's')
for _, id in ipairs(ids) do revoke(p, kind, id, at) end
redis.call('PUBLISH', p .. 'events', msg)
return #ids
`;

/** TRUST address json message / UNTRUST address message. */
export const TRUST = `
local p, address, json, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', p .. 'trust:' .. address, json)
redis.call('SADD', p .. 'trusts', address)
redis.call('PUBLISH', p .. 'events', msg)
return 1
`;
export const UNTRUST = `
local p, address, msg = ARGV[1], ARGV[2], ARGV[3]
redis.call('DEL', p .. 'trust:' .. address)
redis.call('SREM', p .. 'trusts', address)
redis.call('PUBLISH', p .. 'events', msg)
return 1
`;

/**
 * CLAIM scope hash json ttl message: marks a single-use item used, once for the whole
 * cluster. Returns {1} when this call used it, {0, holder-json} when it was used before.
 */
export const CLAIM = `
local p, scope, hash, json, ttl, msg = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local key = p .. 'used:' .. scope .. ':' .. hash
local ok
if ttl > 0 then ok = redis.call('SET', key, json, 'NX', 'PX', ttl) else ok = redis.call('SET', key, json, 'NX') end
if ok then
  redis.call('PUBLISH', p .. 'events', msg)
  return {1}
end
return {0, redis.call('GET', key) or ''}
`;

/**
 * SNAPSHOT: every live grant, ban and trust with its time left (ms, -1 = no expiry), and
 * every tombstone with its revocation time. Index members whose key is gone (expired)
 * are removed on the way. Returns {grants, bans, trusts, gones}, each a flat list.
 */
export const SNAPSHOT = `
local p = ARGV[1]
local out = {}
for i, kind in ipairs({'grant', 'ban'}) do
  local list = {}
  for _, id in ipairs(redis.call('SMEMBERS', p .. kind .. 's')) do
    local key = p .. kind .. ':' .. id
    local v = redis.call('GET', key)
    if v then
      table.insert(list, id); table.insert(list, v); table.insert(list, redis.call('PTTL', key))
    else
      redis.call('SREM', p .. kind .. 's', id)
    end
  end
  out[i] = list
end
for i, kind in ipairs({'trust', 'gone'}) do
  local list = {}
  for _, id in ipairs(redis.call('SMEMBERS', p .. kind .. 's')) do
    local v = redis.call('GET', p .. kind .. ':' .. id)
    if v then table.insert(list, id); table.insert(list, v) else redis.call('SREM', p .. kind .. 's', id) end
  end
  out[2 + i] = list
end
return out
`;

/** HEARTBEAT name json ttl: this node is alive (read by `cluster status`). Returns the store's time. */
export const HEARTBEAT = `
local p, name, json, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
redis.call('SET', p .. 'node:' .. name, json, 'PX', ttl)
redis.call('HSET', p .. 'nodes', name, json)
return redis.call('TIME')
`;

/** STOPPED name json: a clean stop (the heartbeat goes, the last one says stopped). */
export const STOPPED = `
local p, name, json = ARGV[1], ARGV[2], ARGV[3]
redis.call('DEL', p .. 'node:' .. name)
redis.call('HSET', p .. 'nodes', name, json)
return 1
`;

/**
 * NODES: every node ever seen, its last heartbeat, and the heartbeat's time left
 * (-2: expired, the node is gone or cut off).
 */
export const NODES = `
local p = ARGV[1]
local out = {}
local all = redis.call('HGETALL', p .. 'nodes')
for i = 1, #all, 2 do
  table.insert(out, all[i]); table.insert(out, all[i + 1]); table.insert(out, redis.call('PTTL', p .. 'node:' .. all[i]))
end
return out
`;
