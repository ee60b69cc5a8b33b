#!lua name=trace
--
-- store.lua - the Redis Functions behind every write of trace-server.
--
-- Each function is one atomic step: Redis runs it to the end before any
-- other command, so two servers racing to append at the same seq can never
-- both succeed, and an accepted statement gets its log index in the same
-- step that appends it (docs/PROTOCOL.md section 9).  Everything that can be checked
-- without the store (JSON, signatures, roles) was checked in C before the
-- call; what needs the store's current state is checked here.
--
-- Key layout (documented in the README; the names are defined once, in
-- store_private.h):
--   c:{<chain>}:ev      LIST   "<id> <logIndex> <envelope JSON>" per seq
--   c:{<chain>}:scans   HASH   n:<serial> -> times the unit's page was opened,
--                              f:<serial> -> first time (unix seconds)
--   ids                 HASH   id -> "e <logIndex> <seq> <chain>" or "k <logIndex> <n>"
--   k:entries           LIST   key statements, "<id> <logIndex> <envelope JSON>"
--   k:enroll            HASH   keyid -> "<logIndex> <n>" (n: index in k:entries)
--   k:revoke            HASH   keyid -> "<logIndex> <n>"
--   k:org               HASH   org id -> "<logIndex> <n> <first logIndex>" of
--                              its latest org entry (n: index in
--                              k:entries) and of its first
--   k:org:history       HASH   org id -> "<n> <n> ..." every org entry of it
--   log:{log}:size      STRING number of leaves assigned
--   log:{log}:pending   LIST   leaf hash (32 bytes) .. statement id (64 hex),
--                              in log order, not yet integrated into the tree
--   log:{log}:integrated STRING leaves integrated into the stored tree; the
--                              head of pending is leaf number <integrated>
--   log:{log}:t:<level>:<chunk> STRING perfect node hashes, 32 raw bytes each:
--                              node (level, i) at byte 32 * (i mod 65536) of
--                              chunk i div 65536 (level 0: the leaf hashes)
--   log:{log}:ids:<chunk> STRING statement id (32 raw bytes) of leaf i at
--                              byte 32 * (i mod 65536) of chunk i div 65536
--   log:{log}:checkpoint STRING the latest signed checkpoint (signed note)
--   log:{log}:checkpoints HASH  tree size -> signed checkpoint, every one
--                              ever handed out
--   log:{log}:lease     STRING random token of the integrator at work (PX)
--   recalls             HASH   recall id -> JSON facts of its recall.issued
--   recalls:closing     HASH   recall id -> JSON of the recall.closed that
--                              closed it (absent while open)
--   recalls:all, recalls:status:open, recalls:status:closed,
--   recalls:gtin:<gtin14>, recalls:lot:<lot>, recalls:org:<signer's org>
--                       ZSET   "<issued + 10^11, 12 digits>-<recall id>",
--                              all scores 0 (lexicographic order = time)
--   c:{<chain>}:recalls ZSET   the same members, for one chain
--   recalls:stream      STREAM recall.issued / recall.closed notices for
--                              the SSE feed (about 100,000 kept)
--   The recall keys other than c:{<chain>}:recalls are global (no hash
--   tag): a recall query spans every chain.
--
-- Replies are arrays whose first element says what happened.

-- Assign the next log index and queue the leaf for the integrator.
local function log_append(size_key, pending_key, leaf_hash, id)
  local index = redis.call('INCR', size_key) - 1
  redis.call('RPUSH', pending_key, leaf_hash .. id)
  return index
end

-- KEYS: chain list, ids, k:revoke, log size, log pending
-- ARGV: id, seq, prev ('' at seq 0), signer keyid, leaf hash, envelope, chain
local function append_event(keys, args)
  local chain_key, ids_key, revoke_key, size_key, pending_key =
    keys[1], keys[2], keys[3], keys[4], keys[5]
  local id, seq, prev, signer, leaf, envelope, chain =
    args[1], tonumber(args[2]), args[3], args[4], args[5], args[6], args[7]

  local existing = redis.call('HGET', ids_key, id)
  if existing then
    return {'duplicate', existing}
  end
  -- A revocation accepted before this call applies (docs/PROTOCOL.md section 8).
  if redis.call('HEXISTS', revoke_key, signer) == 1 then
    return {'revoked'}
  end
  local len = redis.call('LLEN', chain_key)
  local head_id = ''
  if len > 0 then
    head_id = string.sub(redis.call('LINDEX', chain_key, -1), 1, 64)
  end
  if seq < len then
    return {'conflict', len - 1, head_id}
  end
  if seq > len then
    return {'gap', len - 1, head_id}
  end
  if seq > 0 and prev ~= head_id then
    return {'wrong_prev', len - 1, head_id}
  end
  local index = log_append(size_key, pending_key, leaf, id)
  redis.call('RPUSH', chain_key, id .. ' ' .. index .. ' ' .. envelope)
  redis.call('HSET', ids_key, id, 'e ' .. index .. ' ' .. seq .. ' ' .. chain)
  return {'ok', index}
end

-- KEYS: k:entries, ids, k:enroll, k:revoke, log size, log pending, k:org,
--       k:org:history
-- ARGV: id, op ('enroll', 'revoke' or 'org'), keyid ('' for org), signer
--       keyid, leaf hash, envelope, signer_is_root ('1' or '0'),
--       org id (enroll: the org it names, '' for none; org: its id),
--       org record (enroll: the k:org value the C side checked the
--       enrollment against; it must still be that one)
-- An org entry comes from the root only (checked in C: signer_is_root).
local function append_key(keys, args)
  local entries_key, ids_key, enroll_key, revoke_key, size_key, pending_key,
    orgs_key, history_key = keys[1], keys[2], keys[3], keys[4], keys[5],
    keys[6], keys[7], keys[8]
  local id, op, keyid, signer, leaf, envelope, signer_is_root, org, org_where =
    args[1], args[2], args[3], args[4], args[5], args[6], args[7],
    args[8] or '', args[9] or ''

  local existing = redis.call('HGET', ids_key, id)
  if existing then
    return {'duplicate', existing}
  end
  if signer_is_root ~= '1' then
    if op == 'org' then
      return {'unknown_signer'}
    end
    if redis.call('HEXISTS', enroll_key, signer) == 0 then
      return {'unknown_signer'}
    end
    if redis.call('HEXISTS', revoke_key, signer) == 1 then
      return {'revoked'}
    end
  end
  if op == 'enroll' then
    if redis.call('HEXISTS', enroll_key, keyid) == 1 then
      return {'key_exists'}
    end
    if org_where ~= '' and
        (redis.call('HGET', orgs_key, org) or '') ~= org_where then
      return {'org_changed'}
    end
  elseif op == 'revoke' then
    if redis.call('HEXISTS', enroll_key, keyid) == 0 then
      return {'unknown_key'}
    end
    if redis.call('HEXISTS', revoke_key, keyid) == 1 then
      return {'already_revoked'}
    end
  end
  local index = log_append(size_key, pending_key, leaf, id)
  local n = redis.call('RPUSH', entries_key, id .. ' ' .. index .. ' ' .. envelope) - 1
  local where = index .. ' ' .. n
  if op == 'enroll' then
    redis.call('HSET', enroll_key, keyid, where)
  elseif op == 'revoke' then
    redis.call('HSET', revoke_key, keyid, where)
  else
    local first = index
    local old = redis.call('HGET', orgs_key, org)
    if old then
      first = string.match(old, '^%d+ %d+ (%d+)$') or index
    end
    redis.call('HSET', orgs_key, org, where .. ' ' .. first)
    local history = redis.call('HGET', history_key, org)
    redis.call('HSET', history_key, org,
      history and (history .. ' ' .. n) or tostring(n))
  end
  redis.call('HSET', ids_key, id, 'k ' .. where)
  return {'ok', index}
end

-- ---- the transparency log's integrator (log.c, through store_log.c) ------

-- Take or renew the integrator lease: one integrator at a time across every
-- trace-server sharing this Redis.
-- KEYS: lease; ARGV: token, milliseconds (0: release)
local function log_lease(keys, args)
  local current = redis.call('GET', keys[1])
  if args[2] == '0' then
    if current == args[1] then
      redis.call('DEL', keys[1])
    end
    return 1
  end
  if current == false then
    redis.call('SET', keys[1], args[1], 'PX', args[2])
    return 1
  end
  if current == args[1] then
    redis.call('PEXPIRE', keys[1], args[2])
    return 1
  end
  return 0
end

-- What the integrator works from, read in one atomic step so the first
-- pending leaf is always leaf number <integrated>.
-- KEYS: integrated, pending, checkpoint; ARGV: batch size
-- Reply: {integrated, latest checkpoint or '', {pending items...}}
local function log_state(keys, args)
  local integrated = redis.call('GET', keys[1]) or '0'
  local checkpoint = redis.call('GET', keys[3]) or ''
  local items = redis.call('LRANGE', keys[2], 0, tonumber(args[1]) - 1)
  return {integrated, checkpoint, items}
end

-- Advance the tree after its nodes are stored, trim what was integrated
-- and publish a checkpoint, all or nothing.  Refused unless the caller
-- still holds the lease and nobody moved the size or the checkpoint since
-- the caller read them (compare-and-set), so a stalled integrator whose
-- lease expired can never publish.
-- KEYS: lease, integrated, pending, checkpoint, checkpoints
-- ARGV: token, old size, new size, leaves to trim, expected checkpoint
--       ('' = none yet), new checkpoint ('' = none), new checkpoint's size
local function log_commit(keys, args)
  if redis.call('GET', keys[1]) ~= args[1] then
    return {'lease_lost'}
  end
  local integrated = redis.call('GET', keys[2]) or '0'
  if integrated ~= args[2] then
    return {'moved', integrated}
  end
  local checkpoint = redis.call('GET', keys[4]) or ''
  if checkpoint ~= args[5] then
    return {'checkpoint_moved'}
  end
  local trim = tonumber(args[4])
  if trim > 0 then
    if redis.call('LLEN', keys[3]) < trim then
      return {'short'}
    end
    redis.call('LTRIM', keys[3], trim, -1)
  end
  if args[3] ~= args[2] then
    redis.call('SET', keys[2], args[3])
  end
  if args[6] ~= '' then
    redis.call('SET', keys[4], args[6])
    redis.call('HSET', keys[5], args[7], args[6])
  end
  return {'ok'}
end

-- Stored node hashes for a proof, in one round trip.  Refused unless the
-- tree of the requested size is integrated (every node it needs is then
-- stored: nodes are written before the size advances).
-- KEYS: integrated, then one chunk key per node
-- ARGV: required size, then one byte offset per node
-- Reply: {'ok', concatenated hashes} or {'not_integrated', integrated} or
--        {'missing', node number}
local function log_nodes(keys, args)
  local integrated = redis.call('GET', keys[1]) or '0'
  if tonumber(integrated) < tonumber(args[1]) then
    return {'not_integrated', integrated}
  end
  local out = {}
  for i = 2, #keys do
    local offset = tonumber(args[i])
    local hash = redis.call('GETRANGE', keys[i], offset, offset + 31)
    if #hash ~= 32 then
      return {'missing', i - 2}
    end
    out[#out + 1] = hash
  end
  return {'ok', table.concat(out)}
end

redis.register_function('trace_append_event', append_event)
redis.register_function('trace_append_key', append_key)
redis.register_function('trace_log_lease', log_lease)
redis.register_function{function_name = 'trace_log_state',
  callback = log_state, flags = {'no-writes'}}
redis.register_function('trace_log_commit', log_commit)
redis.register_function{function_name = 'trace_log_nodes',
  callback = log_nodes, flags = {'no-writes'}}

-- A page view (store_page_read in store_chain.c, for chainview.c): the
-- chain's records and, for a unit with a serial, its scan count and first
-- scan time, counting this view when asked, in one round trip.  The caller may say which head it
-- has parsed and cached already (length and head id): if the chain still
-- ends there, the records are not sent again ('same'), else all of them
-- ('full').  An unknown chain counts nothing ('none'), so made-up codes
-- leave no keys behind, and a lot counts at most <max serials> serials, so
-- made-up serials on a real lot cannot grow the hash without bound: a new
-- serial past that gets no count (the reply then has no count, as for no
-- serial).
-- KEYS: chain list, chain scans hash
-- ARGV: serial ('' for none), now (unix seconds), '1' to count this view,
--       cached length ('0' for none), cached head id ('' for none),
--       max serials per lot
local function page_read(keys, args)
  local serial, known_len, known_head = args[1], tonumber(args[4]) or 0,
    args[5] or ''
  local len = redis.call('LLEN', keys[1])
  if len == 0 then
    return {'none'}
  end
  local status, records = 'full', {}
  if len == known_len and known_head ~= '' then
    local last = redis.call('LINDEX', keys[1], -1)
    if string.sub(last, 1, #known_head + 1) == known_head .. ' ' then
      status = 'same'
    end
  end
  if status == 'full' then
    records = redis.call('LRANGE', keys[1], 0, -1)
  end
  if serial == '' then
    return {status, records}
  end
  local count
  if redis.call('HEXISTS', keys[2], 'n:' .. serial) == 0 and
      redis.call('HLEN', keys[2]) >= 2 * (tonumber(args[6]) or 0) then
    return {status, records}
  end
  if args[3] == '1' then
    count = redis.call('HINCRBY', keys[2], 'n:' .. serial, 1)
    redis.call('HSETNX', keys[2], 'f:' .. serial, args[2])
  else
    count = tonumber(redis.call('HGET', keys[2], 'n:' .. serial) or '0')
  end
  return {status, records, count,
    redis.call('HGET', keys[2], 'f:' .. serial) or ''}
end

redis.register_function('trace_page_read', page_read)

-- Scans counted after the page was answered (scancount.c drains a queue
-- of views into one call per chain): add n views of each serial, with the
-- bound per lot of page_read.  An unknown chain counts nothing.
-- KEYS: chain list, chain scans hash
-- ARGV: max serials per lot, then triples: serial, n, now (unix seconds)
-- Returns a pair per triple: the serial's count and first scan, or
-- -1 and '' when it was not counted.
local function scan_add(keys, args)
  local max = 2 * (tonumber(args[1]) or 0)
  local known = redis.call('EXISTS', keys[1]) == 1
  local out = {}
  for i = 2, #args - 2, 3 do
    local serial, n, now = args[i], tonumber(args[i + 1]) or 1, args[i + 2]
    if not known or (redis.call('HEXISTS', keys[2], 'n:' .. serial) == 0 and
        redis.call('HLEN', keys[2]) >= max) then
      out[#out + 1] = -1
      out[#out + 1] = ''
    else
      out[#out + 1] = redis.call('HINCRBY', keys[2], 'n:' .. serial, n)
      redis.call('HSETNX', keys[2], 'f:' .. serial, now)
      out[#out + 1] = redis.call('HGET', keys[2], 'f:' .. serial)
    end
  end
  return out
end

redis.register_function('trace_scan_add', scan_add)

-- ---- recalls (store_recalls.c, for recalls.c and recallstream.c) ---------
--
-- The recall indexes are written in the same atomic step as the recall
-- event itself, so the API, the board, the stream and the chain can never
-- disagree with the chain.  Every index is a sorted set whose scores are
-- all 0 and whose members are "<issued>-<id>": <issued> is the issue time
-- (unix seconds + 10^11, 12 digits, so the order of the strings is the
-- order in time) and <id> the recall.issued statement id.  Lexicographic
-- ranges (ZRANGE BYLEX) then give a stable order by (time, id) and a
-- cursor that is simply the last member returned.

-- The public JSON of a recall: the facts of its issue and, once closed,
-- what closed it.
local function recall_json(facts, closing)
  if closing then
    return string.sub(facts, 1, -2) .. ',"status":"closed",' ..
      string.sub(closing, 2)
  end
  return string.sub(facts, 1, -2) .. ',"status":"open"}'
end

local RECALL_STREAM_MAX = '100000'

-- append_event for recall.issued / recall.closed, plus the recall indexes.
-- KEYS: the five of append_event, then
--   6 recalls (HASH id -> facts), 7 recalls:closing (HASH id -> closing),
--   8 recalls:all, 9 recalls:status:open, 10 recalls:status:closed,
--   11 recalls:gtin:<gtin>, 12 recalls:lot:<lot>, 13 recalls:org:<org>,
--   14 c:{<chain>}:recalls, 15 recalls:stream
-- ARGV: the seven of append_event, then
--   8 'issued' or 'closed'
--   issued: 9 member "<issued>-<id>", 10 facts JSON up to the log index,
--           11 the rest of the facts JSON
--   closed: 9 the member of the recall it closes, 10 closing JSON up to
--           the log index, 11 its rest
local function append_recall(keys, args)
  local kind, member, head, tail = args[8], args[9], args[10], args[11]
  local stream = keys[15]
  -- A recall.closed closes the one recall it names (SPEC 8), which must
  -- be an open recall of this chain.  Ingest judged that on the history
  -- this append continues (seq and prev pin it); checking it here too,
  -- before anything is written, keeps the indexes right whatever happened
  -- meanwhile.  A resubmission is answered as one first.
  if kind == 'closed' then
    local existing = redis.call('HGET', keys[2], args[1])
    if existing then
      return {'duplicate', existing}
    end
    if not redis.call('ZSCORE', keys[14], member) or
        not redis.call('ZSCORE', keys[9], member) then
      return {'recall_not_open'}
    end
  end
  local res = append_event(keys, args)
  if res[1] ~= 'ok' then
    return res
  end
  local index = res[2]
  if kind == 'issued' then
    local id = args[1]
    local facts = head .. ',"logIndex":' .. index .. tail
    redis.call('HSET', keys[6], id, facts)
    for i = 8, 14 do
      if i ~= 10 then
        redis.call('ZADD', keys[i], 0, member)
      end
    end
    redis.call('XADD', stream, 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
      'event', 'recall.issued', 'id', id, 'data', recall_json(facts))
    return res
  end
  -- Round 1's recall.closed named no recall and closed every open one of
  -- its chain; the indexes keep what it did.  Now exactly one closes.
  local closing = head .. ',"closedLogIndex":' .. index .. tail
  local id = string.sub(member, 14)
  redis.call('HSET', keys[7], id, closing)
  redis.call('ZREM', keys[9], member)
  redis.call('ZADD', keys[10], 0, member)
  redis.call('XADD', stream, 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
    'event', 'recall.closed', 'id', id,
    'data', recall_json(redis.call('HGET', keys[6], id) or '{}', closing))
  return res
end

-- One page of recalls, newest first.  Walks the smallest of the index sets
-- it is given and keeps the members that every other set holds too, so
-- the cost follows the number of recalls, never the number of events.
-- At most budget members are looked at per call; a page cut short by the
-- budget still carries a cursor.
-- KEYS: recalls, recalls:closing, then one or more index sets
-- ARGV: upper bound, lower bound (ZRANGE BYLEX syntax), limit, budget
-- Reply: {{recall JSON...}, next member or ''}
local function recalls_list(keys, args)
  local drive, smallest = 3, nil
  for i = 3, #keys do
    local n = redis.call('ZCARD', keys[i])
    if smallest == nil or n < smallest then
      drive, smallest = i, n
    end
  end
  local upper, lower = args[1], args[2]
  local limit, budget = tonumber(args[3]), tonumber(args[4])
  local out, ids, seen, last = {}, {}, 0, nil
  while seen < budget do
    local batch = redis.call('ZRANGE', keys[drive], upper, lower, 'BYLEX',
      'REV', 'LIMIT', 0, math.min(limit + 1, budget - seen))
    if #batch == 0 then
      break
    end
    for _, m in ipairs(batch) do
      seen = seen + 1
      local keep = true
      for i = 3, #keys do
        if i ~= drive and not redis.call('ZSCORE', keys[i], m) then
          keep = false
          break
        end
      end
      if keep then
        if #ids == limit then
          -- One more match exists: the page ends at the previous one.
          return {out, last}
        end
        ids[#ids + 1] = m
        local id = string.sub(m, 14)
        out[#out + 1] = recall_json(redis.call('HGET', keys[1], id) or '{}',
          redis.call('HGET', keys[2], id))
      end
      last = m
    end
    upper = '(' .. last
  end
  if seen >= budget and last ~= nil then
    return {out, last}
  end
  return {out, ''}
end

redis.register_function('trace_append_recall', append_recall)
redis.register_function{function_name = 'trace_recalls_list',
  callback = recalls_list, flags = {'no-writes'}}
