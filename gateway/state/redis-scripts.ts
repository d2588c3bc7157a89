// The Lua scripts of the Redis store: each runs atomically in Redis, so that checks and writes
// made by several nodes at once cannot interleave. Keys that belong to a session take the
// remaining lifetime (PTTL) of the session's main hash, which `touch` extends.

const KEEP_TTL = `
local function keep_ttl(main, key)
  local ttl = redis.call('PTTL', main)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
`;

/** Script name -> Lua source (see RedisStore for the keys and arguments of each). */
export const REDIS_SCRIPTS = {
  // KEYS: sessions, session, origins, invite host, invite controller, invite observer
  // ARGV: maxSessions, id, expiresAt, ttl, record, currentUrl, lastActivity, label, origin,
  //       '1' to write hostOpenedBy (who opened the host link, '' for nobody) as ARGV[11], else '0'
  create: `
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], 'record', ARGV[5], 'currentUrl', ARGV[6], 'lastActivity', ARGV[7])
if ARGV[10] == '1' then redis.call('HSET', KEYS[2], 'hostOpenedBy', ARGV[11]) end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[8], ARGV[9])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
redis.call('SET', KEYS[4], ARGV[2] .. '|host', 'PX', ARGV[4])
redis.call('SET', KEYS[5], ARGV[2] .. '|controller', 'PX', ARGV[4])
redis.call('SET', KEYS[6], ARGV[2] .. '|observer', 'PX', ARGV[4])
return 1
`,
  // KEYS: session, participants, token
  // ARGV: participant id, participant JSON, maxParticipants, token value, role, the invite it came by
  // The invite must still be the session's one for that role: a link replaced ("New links") after
  // a node looked it up admits nobody, whenever its join lands. A host link opens once: the
  // session's hostOpenedBy field ('' while nobody opened the current one) is checked and set here,
  // so of two joins at once (any nodes) one is the host and the other gets 'used'. A session
  // stored before that field existed counts its host link as opened when it has a host.
  join: `${KEEP_TTL}
local json = redis.call('HGET', KEYS[1], 'record')
if not json then return 'gone' end
if cjson.decode(json).invites[ARGV[5]] ~= ARGV[6] then return 'gone' end
if ARGV[5] == 'host' then
  local by = redis.call('HGET', KEYS[1], 'hostOpenedBy')
  if by == false then
    for _, p in ipairs(redis.call('HVALS', KEYS[2])) do
      if cjson.decode(p).role == 'host' then return 'used' end
    end
  elseif by ~= '' then
    return 'used'
  end
end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then return 'full' end
if ARGV[5] == 'host' then redis.call('HSET', KEYS[1], 'hostOpenedBy', ARGV[1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
keep_ttl(KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[4])
keep_ttl(KEYS[1], KEYS[3])
return 'ok'
`,
  // KEYS: session, participants   ARGV: participant id, participant JSON (written only while the
  // session exists and the participant was not removed: a node's late write brings nobody back)
  savepart: `${KEEP_TTL}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local removed = redis.call('HGET', KEYS[1], 'removed')
if removed and string.find(removed, '"' .. ARGV[1] .. '"', 1, true) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
keep_ttl(KEYS[1], KEYS[2])
return 1
`,
  // KEYS: session   ARGV: key prefix, session id, new controller invite, new observer invite
  // The old invites' keys go in the same step: no node takes them once this returns.
  rotate: `
local json = redis.call('HGET', KEYS[1], 'record')
if not json then return 0 end
local record = cjson.decode(json)
redis.call('DEL', ARGV[1] .. 'inv:' .. record.invites.controller, ARGV[1] .. 'inv:' .. record.invites.observer)
record.invites.controller = ARGV[3]
record.invites.observer = ARGV[4]
redis.call('HSET', KEYS[1], 'record', cjson.encode(record))
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = 600000 end
redis.call('SET', ARGV[1] .. 'inv:' .. ARGV[3], ARGV[2] .. '|controller', 'PX', ttl)
redis.call('SET', ARGV[1] .. 'inv:' .. ARGV[4], ARGV[2] .. '|observer', 'PX', ttl)
return 1
`,
  // KEYS: session   ARGV: key prefix, session id, new host invite
  // The old host invite's key goes in the same step, and the new link counts as not opened yet.
  rotatehost: `
local json = redis.call('HGET', KEYS[1], 'record')
if not json then return 0 end
local record = cjson.decode(json)
redis.call('DEL', ARGV[1] .. 'inv:' .. record.invites.host)
record.invites.host = ARGV[3]
redis.call('HSET', KEYS[1], 'record', cjson.encode(record), 'hostOpenedBy', '')
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = 600000 end
redis.call('SET', ARGV[1] .. 'inv:' .. ARGV[3], ARGV[2] .. '|host', 'PX', ttl)
return 1
`,
  // KEYS: session, participants, connections   ARGV: participant id, key prefix, session id
  // The token stays, marked removed (a join link opened again with it is refused), as long as the
  // session: it is listed in the session's removedTokens field, whose tokens `touch` extends.
  remove: `${KEEP_TTL}
local json = redis.call('HGET', KEYS[2], ARGV[1])
if not json then return 0 end
local raw = cjson.decode(json).token
local token = ARGV[2] .. 'tok:' .. raw
redis.call('SET', token, ARGV[3] .. '|' .. ARGV[1] .. '|removed')
keep_ttl(KEYS[1], token)
local tokens = redis.call('HGET', KEYS[1], 'removedTokens')
local tlist = tokens and cjson.decode(tokens) or {}
table.insert(tlist, raw)
redis.call('HSET', KEYS[1], 'removedTokens', cjson.encode(tlist))
redis.call('HDEL', KEYS[2], ARGV[1])
local suffix = '|' .. ARGV[1]
for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
  if string.sub(field, -#suffix) == suffix then redis.call('HDEL', KEYS[3], field) end
end
local removed = redis.call('HGET', KEYS[1], 'removed')
local list = removed and cjson.decode(removed) or {}
table.insert(list, ARGV[1])
redis.call('HSET', KEYS[1], 'removed', cjson.encode(list))
return 1
`,
  // KEYS: session, hash   ARGV: field, value, ... (written only while the session exists)
  hsetx: `${KEEP_TTL}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV))
if KEYS[2] ~= KEYS[1] then keep_ttl(KEYS[1], KEYS[2]) end
return 1
`,
  // KEYS: session, connections   ARGV: participant id, field, count (written only while the
  // session exists and the participant was not removed, like savepart)
  setconn: `${KEEP_TTL}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local removed = redis.call('HGET', KEYS[1], 'removed')
if removed and string.find(removed, '"' .. ARGV[1] .. '"', 1, true) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
keep_ttl(KEYS[1], KEYS[2])
return 1
`,
  // KEYS: session   ARGV: the connection (JSON) that must still be live
  releaselive: `
if redis.call('HGET', KEYS[1], 'live') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'live', 'null')
  return 1
end
return 0
`,
  // KEYS: session, list   ARGV: entry JSON, most entries kept
  append: `${KEEP_TTL}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
keep_ttl(KEYS[1], KEYS[2])
return 1
`,
  // KEYS: the 9 session keys, sessions   ARGV: id, at, expiresAt, ttl, key prefix
  touch: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastActivity', ARGV[2])
redis.call('ZADD', KEYS[10], ARGV[3], ARGV[1])
for i = 1, 9 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
local record = cjson.decode(redis.call('HGET', KEYS[1], 'record'))
for _, token in pairs(record.invites) do redis.call('PEXPIRE', ARGV[5] .. 'inv:' .. token, ARGV[4]) end
for _, json in ipairs(redis.call('HVALS', KEYS[2])) do
  redis.call('PEXPIRE', ARGV[5] .. 'tok:' .. cjson.decode(json).token, ARGV[4])
end
local gone = redis.call('HGET', KEYS[1], 'removedTokens')
if gone then
  for _, token in ipairs(cjson.decode(gone)) do redis.call('PEXPIRE', ARGV[5] .. 'tok:' .. token, ARGV[4]) end
end
return 1
`,
  // KEYS: checkpoint, tail, session   ARGV: message head, message rest, channel
  snapshot: `
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local encoded = ARGV[1] .. seq .. ARGV[2]
redis.call('HSET', KEYS[1], 'snap', encoded, 'snapSeq', seq, 'tailBytes', 0)
redis.call('DEL', KEYS[2])
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', ARGV[3], 'S' .. seq .. '\\n' .. encoded)
return seq
`,
  // KEYS: checkpoint, tail   ARGV: batch JSON, channel, most batches, most bytes (refused beyond)
  mutations: `
if not redis.call('HGET', KEYS[1], 'snapSeq') then return false end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) or tonumber(redis.call('HGET', KEYS[1], 'tailBytes') or '0') >= tonumber(ARGV[4]) then return false end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local encoded = '{"type":"mutations","seq":' .. seq .. ',"batch":' .. ARGV[1] .. '}'
local batches = redis.call('RPUSH', KEYS[2], encoded)
local bytes = redis.call('HINCRBY', KEYS[1], 'tailBytes', #encoded)
if batches == 1 then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
redis.call('PUBLISH', ARGV[2], 'S' .. seq .. '\\n' .. encoded)
return {seq, batches, bytes}
`,
  // KEYS: the 9 session keys, sessions   ARGV: id, key prefix
  end: `
local removed = redis.call('ZREM', KEYS[10], ARGV[1])
if removed == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local json = redis.call('HGET', KEYS[1], 'record')
if json then
  for _, token in pairs(cjson.decode(json).invites) do redis.call('DEL', ARGV[2] .. 'inv:' .. token) end
end
for _, p in ipairs(redis.call('HVALS', KEYS[2])) do redis.call('DEL', ARGV[2] .. 'tok:' .. cjson.decode(p).token) end
local gone = redis.call('HGET', KEYS[1], 'removedTokens')
if gone then
  for _, token in ipairs(cjson.decode(gone)) do redis.call('DEL', ARGV[2] .. 'tok:' .. token) end
end
for i = 1, 9 do redis.call('DEL', KEYS[i]) end
return 1
`,
  // KEYS: connections   ARGV: field prefix of one node ("<node>|")
  dropnode: `
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, #ARGV[1]) == ARGV[1] then redis.call('HDEL', KEYS[1], field) end
end
return 1
`,
} as const;
