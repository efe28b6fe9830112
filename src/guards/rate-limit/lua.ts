/**
 * The Lua scripts of the shared (Redis) rate-limit windows: one script call per admission attempt,
 * atomic. Per target, with P = '{<namespace>}:rl:' (the braces are a hash tag: one cluster slot):
 *   P<provider>|<model>       ZSET  one member per admitted request, `<id>:<tokens>`, scored by
 *                                    its send time (ms, Redis server clock: one clock for every
 *                                    process)
 *   P<provider>|<model>:sum   STRING the tokens of the members (kept in step with the ZSET)
 * Every write sets both keys to expire one window (plus a margin) later, so idle targets vanish.
 * The window maths is the same as `capacityWait` in window.ts.
 */

const PRELUDE = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function weight(member)
  local w = string.match(member, ':(%d+)$')
  if w then return tonumber(w) end
  return 0
end
local function fmt(n) return string.format('%d', n) end
`;

/**
 * KEYS: zset, sum. ARGV: windowMs, rpm (0: none), tpm (0: none), tokens, member, ttlMs.
 * Returns {1, now} when admitted (the member is added), else {0, ms until capacity, which limit
 * decides it (1: rpm, 2: tpm)}.
 */
export const ADMIT_LUA = `${PRELUDE}
local zset, sumKey = KEYS[1], KEYS[2]
local window, rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local member, ttl = ARGV[5], ARGV[6]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = now - window

local sum = tonumber(redis.call('GET', sumKey) or '0') or 0
local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', fmt(cutoff))
if #expired > 0 then
  for _, m in ipairs(expired) do sum = sum - weight(m) end
  redis.call('ZREMRANGEBYSCORE', zset, '-inf', fmt(cutoff))
end
local count = redis.call('ZCARD', zset)
if count == 0 or sum < 0 then sum = 0 end

local wait, which = 0, 0
if rpm > 0 and count >= rpm then
  local e = redis.call('ZRANGE', zset, count - rpm, count - rpm, 'WITHSCORES')
  wait, which = tonumber(e[2]) + window - now, 1
end
if tpm > 0 and count > 0 then
  local need = math.min(math.max(tokens, 0), tpm)
  if sum + need > tpm then
    local freed, at, i, found = 0, nil, 0, false
    while not found do
      local batch = redis.call('ZRANGE', zset, i, i + 99, 'WITHSCORES')
      if #batch == 0 then break end
      for j = 1, #batch, 2 do
        freed = freed + weight(batch[j])
        at = tonumber(batch[j + 1])
        if sum - freed + need <= tpm then found = true break end
      end
      i = i + 100
    end
    local tw = at + window - now
    if tw > wait then wait, which = tw, 2 end
  end
end

if wait > 0 then
  if #expired > 0 then
    if count == 0 then redis.call('DEL', sumKey) else redis.call('SET', sumKey, fmt(sum), 'PX', ttl) end
  end
  return {0, wait, which}
end
redis.call('ZADD', zset, fmt(now), member)
redis.call('SET', sumKey, fmt(sum + math.max(tokens, 0)), 'PX', ttl)
redis.call('PEXPIRE', zset, ttl)
return {1, now}
`;

/**
 * KEYS: zset, sum. ARGV: member, newMember ('' removes it), delta tokens, ttlMs.
 * Corrects (or removes) an admitted request's entry if it is still in the window. Returns 1 if it was.
 */
export const REWEIGH_LUA = `${PRELUDE}
local zset, sumKey = KEYS[1], KEYS[2]
local member, newMember, delta, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local score = redis.call('ZSCORE', zset, member)
if not score then return 0 end
redis.call('ZREM', zset, member)
if newMember ~= '' then redis.call('ZADD', zset, score, newMember) end
local sum = (tonumber(redis.call('GET', sumKey) or '0') or 0) + delta
if sum < 0 or redis.call('ZCARD', zset) == 0 then sum = 0 end
redis.call('SET', sumKey, fmt(sum), 'PX', ttl)
redis.call('PEXPIRE', zset, ttl)
return 1
`;
