/**
 * The Lua scripts of the Redis budget store. Each store operation is one script call (one round
 * trip) operating atomically on all of the call's budget keys.
 *
 * Per budget id, with P = '{<namespace>}:' (the braces are a hash tag: every key of a namespace
 * lives in one cluster slot, so multi-key scripts stay legal on a cluster):
 *   P b:<id>  HASH  limit, wend (windowEndMs), dur, bms (rolling duration and bucket, 0 for
 *                   calendar), spent (calendar windows), reserved (sum of held reservations),
 *                   m:<mark> (markOnce: valid until, ms)
 *   P r:<id>  HASH  reservationId → amount held, or 's' once settled (the idempotency marker)
 *   P z:<id>  ZSET  reservationId scored by expiresAtMs (settled markers: by when to forget them)
 *   P k:<id>  HASH  rolling windows: bucket start (ms) → spend in that bucket
 * Every write refreshes the expiry of the keys it touches (extend only): calendar windows until
 * windowEndMs + a grace period, rolling windows for the duration + a margin (longer if a held
 * reservation or a settled marker needs it); Redis then drops ended windows by itself.
 *
 * Numbers: Lua numbers are doubles. Every figure (pUSD amounts, their sums, ms timestamps) stays
 * below 2^53, where doubles are exact integers; the store validates inputs as safe integers. Redis
 * itself keeps the counters as 64-bit integers (HINCRBY). Numbers written back go through fmt()
 * (string.format('%d'), plain digits — Lua's tostring would write 1e+15), and numbers returned
 * become integer replies exactly.
 */

const PRELUDE = `
local function fmt(n) return string.format('%d', n) end
local function num(v) if v then return tonumber(v) end return 0 end
-- Budget keys: four KEYS each (hash, reservations, expiries, buckets); the keys of the i-th.
local n = #KEYS / 4
local function budgetKeys(i) return KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i] end

-- Drops reservations that expired (expiresAtMs < now) and releases their amounts.
local function purge(b, r, z, nowS)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. nowS)
  if #expired == 0 then return end
  local release = 0
  for _, id in ipairs(expired) do
    local v = redis.call('HGET', r, id)
    if v and v ~= 's' then release = release + tonumber(v) end
    redis.call('HDEL', r, id)
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. nowS)
  if release ~= 0 then redis.call('HINCRBY', b, 'reserved', fmt(-release)) end
end

-- Spend in the window: the calendar counter, or the sum of the buckets that overlap
-- [now - dur, now] (older buckets are deleted).
local function spentOf(b, k, now, dur, bms)
  if dur <= 0 then return num(redis.call('HGET', b, 'spent')) end
  local flat = redis.call('HGETALL', k)
  local total = 0
  for i = 1, #flat, 2 do
    if tonumber(flat[i]) + bms > now - dur then
      total = total + tonumber(flat[i + 1])
    else
      redis.call('HDEL', k, flat[i])
    end
  end
  return total
end

-- Extends the expiry of the existing keys to at least ttl ms (a key with no expiry gets one).
local function touch(ttl, ...)
  for _, key in ipairs({...}) do
    local cur = redis.call('PTTL', key)
    if cur == -1 or (cur >= 0 and cur < ttl) then redis.call('PEXPIRE', key, fmt(ttl)) end
  end
end

local function remember(b, limitS, wendS, durS, bmsS)
  redis.call('HSET', b, 'limit', limitS, 'wend', wendS, 'dur', durS, 'bms', bmsS)
end
`;

/**
 * KEYS: b, r, z, k per budget key. ARGV: reservationId, amount, now, expiresAt, then per key:
 * limit, mode ('check' | 'force'), windowEnd, duration (0: calendar), bucket, ttl.
 * Returns {ok (1|0), failed index (0-based, -1), spent1, reserved1, spent2, reserved2, ...}.
 */
export const RESERVE_LUA = `${PRELUDE}
local resId, amountS, nowS, expS = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local amount, now = tonumber(amountS), tonumber(nowS)
local out = {1, -1}
local prev = {}
for i = 1, n do
  local b, r, z, k = budgetKeys(i)
  local a = 4 + 6 * (i - 1)
  purge(b, r, z, nowS)
  local spent = spentOf(b, k, now, tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]))
  local reserved = num(redis.call('HGET', b, 'reserved'))
  local held = redis.call('HGET', r, resId)
  local p = 0
  if held and held ~= 's' then p = tonumber(held) end
  prev[i] = p
  out[2 * i + 1] = spent
  out[2 * i + 2] = reserved
  if out[1] == 1 and ARGV[a + 2] == 'check' and spent + reserved - p + amount > tonumber(ARGV[a + 1]) then
    out[1] = 0
    out[2] = i - 1
  end
end
if out[1] == 0 then return out end
for i = 1, n do
  local b, r, z, k = budgetKeys(i)
  local a = 4 + 6 * (i - 1)
  local delta = amount - prev[i]
  if delta ~= 0 then redis.call('HINCRBY', b, 'reserved', fmt(delta)) end
  remember(b, ARGV[a + 1], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
  redis.call('HSET', r, resId, amountS)
  redis.call('ZADD', z, expS, resId)
  out[2 * i + 2] = out[2 * i + 2] + delta
  touch(tonumber(ARGV[a + 6]), b, r, z, k)
end
return out
`;

/**
 * KEYS: b, r, z, k per budget key. ARGV: reservationId, actual, now, forgetAt (when to drop the
 * settled marker), then per key: limit, mode, windowEnd, duration, bucket, ttl.
 * Returns {spent1, reserved1, spent2, reserved2, ...} after the settle.
 */
export const SETTLE_LUA = `${PRELUDE}
local resId, actualS, nowS, forgetS = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(nowS)
local already = false
for i = 1, n do
  local b, r, z = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1]
  purge(b, r, z, nowS)
  if redis.call('HGET', r, resId) == 's' then already = true end
end
if not already then
  for i = 1, n do
    local b, r, z, k = budgetKeys(i)
    local a = 4 + 6 * (i - 1)
    local held = redis.call('HGET', r, resId)
    if held and tonumber(held) ~= 0 then redis.call('HINCRBY', b, 'reserved', fmt(-tonumber(held))) end
    redis.call('HSET', r, resId, 's')
    redis.call('ZADD', z, forgetS, resId)
    local dur, bms = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
    if dur > 0 then
      redis.call('HINCRBY', k, fmt(math.floor(now / bms) * bms), actualS)
    else
      redis.call('HINCRBY', b, 'spent', actualS)
    end
    remember(b, ARGV[a + 1], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
    touch(tonumber(ARGV[a + 6]), b, r, z, k)
  end
end
local out = {}
for i = 1, n do
  local b, k = KEYS[4 * i - 3], KEYS[4 * i]
  local a = 4 + 6 * (i - 1)
  out[2 * i - 1] = spentOf(b, k, now, tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]))
  out[2 * i] = num(redis.call('HGET', b, 'reserved'))
end
return out
`;

/**
 * KEYS: b, r, z, k per budget key. ARGV: now, then per key: duration, bucket.
 * Returns {spent1, reserved1, ...}. (Purges, so not a read-only script.)
 */
export const STATES_LUA = `${PRELUDE}
local nowS = ARGV[1]
local now = tonumber(nowS)
local out = {}
for i = 1, n do
  local b, r, z, k = budgetKeys(i)
  local a = 1 + 2 * (i - 1)
  purge(b, r, z, nowS)
  out[2 * i - 1] = spentOf(b, k, now, tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]))
  out[2 * i] = num(redis.call('HGET', b, 'reserved'))
end
return out
`;

/**
 * KEYS: b. ARGV: mark, now, validUntil, limit, windowEnd, duration, bucket, ttl.
 * Returns 1 the first time within the window, else 0.
 */
export const MARK_ONCE_LUA = `${PRELUDE}
local field = 'm:' .. ARGV[1]
local v = redis.call('HGET', KEYS[1], field)
if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], field, ARGV[3])
remember(KEYS[1], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
touch(tonumber(ARGV[8]), KEYS[1])
return 1
`;

/**
 * KEYS: b, r, z, k per budget key (found by SCAN). ARGV: now.
 * Returns per key {exists (1|0), limit, windowEnd, duration, bucket, spent, reserved}.
 */
export const LIST_LUA = `${PRELUDE}
local nowS = ARGV[1]
local now = tonumber(nowS)
local out = {}
for i = 1, n do
  local b, r, z, k = budgetKeys(i)
  local o = 7 * (i - 1)
  if redis.call('EXISTS', b) == 1 then
    local f = redis.call('HMGET', b, 'limit', 'wend', 'dur', 'bms')
    local dur, bms = num(f[3]), num(f[4])
    purge(b, r, z, nowS)
    out[o + 1] = 1
    out[o + 2] = num(f[1])
    out[o + 3] = num(f[2])
    out[o + 4] = dur
    out[o + 5] = bms
    out[o + 6] = spentOf(b, k, now, dur, bms)
    out[o + 7] = num(redis.call('HGET', b, 'reserved'))
  else
    for j = 1, 7 do out[o + j] = 0 end
  end
end
return out
`;

/**
 * KEYS: b, r, z, k per budget key. ARGV: reservationId, expiresAt, now.
 * Moves the expiry of a reservation still held on a key (not settled: 's'); touches nothing else.
 */
export const RENEW_LUA = `
local resId, expS, nowS = ARGV[1], ARGV[2], ARGV[3]
local keep = tonumber(expS) - tonumber(nowS) + 60000
for i = 1, #KEYS / 4 do
  local b, r, z, k = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i]
  local held = redis.call('HGET', r, resId)
  if held and held ~= 's' then
    redis.call('ZADD', z, 'XX', expS, resId)
    -- The budget's keys outlive the lease they hold.
    for _, key in ipairs({b, r, z, k}) do
      local ttl = redis.call('PTTL', key)
      if ttl >= 0 and ttl < keep then redis.call('PEXPIRE', key, keep) end
    end
  end
end
return 1
`;
