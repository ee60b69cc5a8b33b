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
--   log:{log}:lx:nodes  HASH   lot index: position -> record (SPEC 11,
--                              store_index.c)
--   log:{log}:lx:meta   HASH   through, root, leaves, statement, time
--   log:{log}:lx:st     HASH   log index -> index statement envelope
--   log:{log}:lx:times  ZSET   "<log index, 12 digits> <unix seconds>
--                              <RFC 3339 UTC>" of every index statement,
--                              scored by its log index: the receipt time
--                              of any leaf (SPEC 8, recalls_list)
--   log:{log}:lx:versions ZSET the index's commits (through, as score)
--   log:{log}:lx:nodes:undo:<through> HASH position -> record before that
--                              commit ('' = none), the last 4096 commits
--                              and at most 1,000,000 records (meta: undo),
--                              none older than a proof can ask for
--                              (index_prune)
--   ids also maps an index statement's id to "x <logIndex>"
--   recalls             HASH   recall id -> JSON facts of its recall.issued
--   recalls:closing     HASH   recall id -> JSON of the recall.closed that
--                              closed it (absent while open)
--   recalls:all, recalls:status:open, recalls:status:closed,
--   recalls:gtin:<gtin14>, recalls:lot:<lot>, recalls:org:<signer's org>
--                       ZSET   "<log index, 12 digits>-<recall id>" of
--                              its recall.issued, all scores 0
--                              (lexicographic order = log order = receipt
--                              time order); before this version
--                              "<issued + 10^11, 12 digits>-<id>", which
--                              recalls_upgrade rewrites
--   c:{<chain>}:recalls ZSET   the same members, for one chain
--   recalls:order       STRING 'log' once recalls_upgrade ran: the
--                              index sets are in the log index form
--   recalls:stream      STREAM recall.issued / recall.closing /
--                              recall.closed notices for the SSE feed
--                              (about 100,000 kept)
--   recalls:closes:pending ZSET with a witness policy: recall id of each
--                              close not yet covered by the published
--                              witnessed checkpoint, scored by the close's
--                              log index (witnessed_publish empties it)
--   The recall keys other than c:{<chain>}:recalls are global (no hash
--   tag): a recall query spans every chain.
--   b:<sha256>          STRING the bytes of an uploaded document
--   b:<sha256>:m        HASH   media, size, time (upload, unix seconds),
--                              signer, id and logIndex of its statement
--   blobs:bytes         STRING bytes of every stored document together
--   blobs:quota:<keyid>:<YYYYMMDD> STRING bytes that key uploaded that
--                              (UTC) day; expires after two days
--   blobs:refs          SET    SHA-256s that accepted events name in
--                              data.attachments
--   blobs:unreferenced  ZSET   stored documents no event names yet, scored
--                              by upload time: what the sweeper looks at
--   blobs:statements    LIST   upload statements, "<id> <logIndex>
--                              <envelope JSON>"; ids maps their id to
--                              "b <logIndex> <n>"
--
-- Replies are arrays whose first element says what happened.

-- Commits of the lot index whose undo hashes are kept (index_nodes), and
-- the most records all of them may hold together (about 100 MB).
local INDEX_VERSIONS_KEPT = 4096
local INDEX_UNDO_RECORDS_MAX = 1000000
-- Records of a commit read and written per Redis call (log_commit).
local INDEX_COMMIT_CHUNK = 512

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
-- The lot index's records and state (SPEC 11) change in the same step, so
-- the index always covers exactly the integrated leaves.
-- KEYS: lease, integrated, pending, checkpoint, checkpoints, index nodes,
--       index meta, index versions
-- ARGV: token, old size, new size, leaves to trim, expected checkpoint
--       ('' = none yet), new checkpoint ('' = none), new checkpoint's size,
--       then optionally the index's new through, root (hex) and leaves and
--       (position, record) pairs to store
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
  if #args >= 10 then
    -- What each record was before this commit goes to the commit's undo
    -- hash, so that proofs against an older checkpoint (the witnessed one
    -- lags the signed one) can still be read (index_nodes).  The oldest
    -- INDEX_VERSIONS_KEPT commits keep their undo hashes.
    local undo = keys[6] .. ':undo:' .. args[8]
    redis.call('HSET', keys[7], 'through', args[8], 'root', args[9],
      'leaves', args[10])
    -- In chunks of INDEX_COMMIT_CHUNK records, four calls each instead of
    -- three per record (a commit under load changes thousands).  The
    -- positions of one commit are distinct; a record already in the undo
    -- hash (a retry after a commit that failed half way) keeps the value
    -- it saved first, as HSETNX would.
    local saved = 0
    for first = 11, #args - 1, 2 * INDEX_COMMIT_CHUNK do
      local positions, records = {}, {}
      for i = first, math.min(first + 2 * INDEX_COMMIT_CHUNK - 2, #args - 1), 2 do
        positions[#positions + 1] = args[i]
        records[#records + 1] = args[i]
        records[#records + 1] = args[i + 1]
      end
      local olds = redis.call('HMGET', keys[6], unpack(positions))
      local kept = redis.call('HMGET', undo, unpack(positions))
      local save = {}
      for j = 1, #positions do
        if not kept[j] then
          save[#save + 1] = positions[j]
          save[#save + 1] = olds[j] or ''
        end
      end
      if #save > 0 then
        saved = saved + redis.call('HSET', undo, unpack(save))
      end
      redis.call('HSET', keys[6], unpack(records))
    end
    redis.call('ZADD', keys[8], tonumber(args[8]), args[8])
    -- Bounded both in commits and in saved records (a busy log's commits
    -- each change many): the oldest go first, the newest always stays.
    local total = redis.call('HINCRBY', keys[7], 'undo', saved)
    while redis.call('ZCARD', keys[8]) > 1 and
        (redis.call('ZCARD', keys[8]) > INDEX_VERSIONS_KEPT or
         total > INDEX_UNDO_RECORDS_MAX) do
      local gone = redis.call('ZPOPMIN', keys[8])
      local key = keys[6] .. ':undo:' .. gone[1]
      -- 0 - n, not -n: -0 (a commit that saved nothing) is no integer to
      -- HINCRBY, and the error would come after the commit's writes.
      total = redis.call('HINCRBY', keys[7], 'undo', 0 - redis.call('HLEN', key))
      redis.call('DEL', key)
    end
  end
  return {'ok'}
end

-- Drop the undo hashes no proof can ask for any more (SPEC 7: memory).
-- A proof reads the index as of the checkpoint it is for: the witnessed
-- one with a witness policy, else the head a request read a moment ago.
-- The integrator passes floor, the head as of a grace period ago (log.c
-- index_prune): versions below it are dropped, and so are their undo
-- hashes.  Never past the witnessed checkpoint, if there is one, and with
-- require_witnessed = '1' (a witness policy) not at all before there is
-- one: a checkpoint witnessed late can be older than floor.  The newest
-- version always stays; at most 64 versions go per call.
-- KEYS: index nodes, index meta, index versions, witnessed
-- ARGV: floor, require_witnessed ('1' or '0')
-- Reply: {'ok', versions dropped}
local function index_prune(keys, args)
  local floor = tonumber(args[1])
  local witnessed = redis.call('GET', keys[4])
  if witnessed then
    local size = tonumber(string.match(witnessed, '^[^\n]*\n(%d+)\n'))
    if size == nil then
      return {'ok', 0}
    end
    if size < floor then
      floor = size
    end
  elseif args[2] == '1' then
    return {'ok', 0}
  end
  local gone = redis.call('ZRANGE', keys[3], '-inf', '(' .. floor, 'BYSCORE',
    'LIMIT', 0, 64)
  local newest = redis.call('ZRANGE', keys[3], -1, -1)[1]
  local dropped = 0
  for _, v in ipairs(gone) do
    if v ~= newest then
      local key = keys[1] .. ':undo:' .. v
      redis.call('HINCRBY', keys[2], 'undo', 0 - redis.call('HLEN', key))
      redis.call('DEL', key)
      redis.call('ZREM', keys[3], v)
      dropped = dropped + 1
    end
  end
  return {'ok', dropped}
end

-- Index records as of the commit that made the index cover version
-- leaves ('' = as now), in one atomic read: the first undo hash after
-- that commit that holds a position says what it was then.
-- KEYS: index nodes, index meta, index versions; ARGV: version, positions
-- Reply: {'ok', {record or ''...}} or {'ahead', through} or {'gone'}
local function index_nodes(keys, args)
  local through = redis.call('HGET', keys[2], 'through') or '0'
  local later = {}
  if args[1] ~= '' and args[1] ~= through then
    if tonumber(args[1]) > tonumber(through) then
      return {'ahead', through}
    end
    if args[1] ~= '0' and not redis.call('ZSCORE', keys[3], args[1]) then
      return {'gone'}
    end
    later = redis.call('ZRANGE', keys[3], '(' .. args[1], '+inf', 'BYSCORE')
  end
  local out = {}
  for i = 2, #args do
    local value = nil
    for _, w in ipairs(later) do
      local u = redis.call('HGET', keys[1] .. ':undo:' .. w, args[i])
      if u then
        value = u
        break
      end
    end
    if value == nil then
      value = redis.call('HGET', keys[1], args[i]) or ''
    end
    out[#out + 1] = value
  end
  return {'ok', out}
end

-- Record an index statement's time in lx:times (the key table says how).
local function index_time_add(key, index, t, text)
  redis.call('ZADD', key, index, string.format('%012d %s %s', index, t, text))
end

-- Append an index statement (SPEC 8 and 11) as the next leaf, only if the
-- log has exactly the leaves it covers: it must be the last leaf of the
-- checkpoint that the integrator signs next.
-- Its time is the receipt time of every leaf since the previous one
-- (SPEC 8): lx:times gets it in the same step.
-- KEYS: ids, log size, log pending, index statements, index meta, index
--       times
-- ARGV: expected size, id, leaf hash, envelope, time (unix seconds),
--       time (RFC 3339 UTC, as the statement says it)
local function append_index(keys, args)
  local size = redis.call('GET', keys[2]) or '0'
  if size ~= args[1] then
    return {'moved', size}
  end
  local index = log_append(keys[2], keys[3], args[3], args[2])
  redis.call('HSET', keys[1], args[2], 'x ' .. index)
  redis.call('HSET', keys[4], index, args[4])
  redis.call('HSET', keys[5], 'statement', index, 'time', args[5])
  index_time_add(keys[6], index, args[5], args[6])
  return {'ok', index}
end

-- Add index statements logged before lx:times existed (log_index.c reads
-- their times from lx:st at start-up).  The same member again is a no-op.
-- KEYS: index times; ARGV: triples of log index, unix seconds, RFC 3339
local function index_times_add(keys, args)
  for i = 1, #args - 2, 3 do
    index_time_add(keys[1], tonumber(args[i]), args[i + 1], args[i + 2])
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

-- trace_append_event: append_event, and for an event that names
-- documents (its data.attachments), mark them referenced in the same
-- atomic step, so the blob sweeper never collects a document an accepted
-- event names (docs/PROTOCOL.md "Documents").
-- KEYS: the five of append_event, then (with attachments) blobs:refs,
--       blobs:unreferenced
-- ARGV: the seven of append_event, then (with attachments) their SHA-256s,
--       space-separated
local function append_event_with_refs(keys, args)
  local res = append_event(keys, args)
  if res[1] == 'ok' and keys[6] ~= nil and args[8] ~= nil then
    for sha in string.gmatch(args[8], '%x+') do
      redis.call('SADD', keys[6], sha)
      redis.call('ZREM', keys[7], sha)
    end
  end
  return res
end

redis.register_function('trace_append_event', append_event_with_refs)
redis.register_function('trace_append_key', append_key)
redis.register_function('trace_log_lease', log_lease)
redis.register_function{function_name = 'trace_log_state',
  callback = log_state, flags = {'no-writes'}}
redis.register_function('trace_log_commit', log_commit)
redis.register_function('trace_append_index', append_index)
redis.register_function('trace_index_times_add', index_times_add)
redis.register_function('trace_index_prune', index_prune)
redis.register_function{function_name = 'trace_index_nodes',
  callback = index_nodes, flags = {'no-writes'}}
redis.register_function{function_name = 'trace_log_nodes',
  callback = log_nodes, flags = {'no-writes'}}

-- A page view (store_page_read in store_chain.c, for chainview.c): the
-- chain's records and, for a unit with a serial, its scan count and first
-- scan time, in one round trip.  The caller may say which head it has
-- parsed and cached already (length and head id): if the chain still ends
-- there, the records are not sent again ('same'), else all of them
-- ('full').  The view itself is counted later, by trace_scan_add, so this
-- function writes nothing and is declared no-writes: pages and chain JSON
-- are still served while the primary refuses writes (NOREPLICAS during a
-- failover, OOM).  A serial that trace_scan_add would not count (a new
-- serial on a lot that counts <max serials> already) gets no count, as for
-- no serial.
-- KEYS: chain list, chain scans hash
-- ARGV: serial ('' for none), cached length ('0' for none), cached head id
--       ('' for none), max serials per lot
local function page_read(keys, args)
  local serial, known_len, known_head = args[1], tonumber(args[2]) or 0,
    args[3] or ''
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
  local count = redis.call('HGET', keys[2], 'n:' .. serial)
  if count == false and
      redis.call('HLEN', keys[2]) >= 2 * (tonumber(args[4]) or 0) then
    return {status, records}
  end
  return {status, records, tonumber(count or '0'),
    redis.call('HGET', keys[2], 'f:' .. serial) or ''}
end

redis.register_function{function_name = 'trace_page_read',
  callback = page_read, flags = {'no-writes'}}

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
-- all 0 and whose members are "<index>-<id>": <index> is the log index of
-- the recall.issued (12 digits, so the order of the strings is log order)
-- and <id> its statement id.  Log order is receipt time order (SPEC 8:
-- index statement times never decrease), so lexicographic ranges (ZRANGE
-- BYLEX) give the board's order, a cursor that is a log index, and the
-- since/until bounds once those are turned into log indexes (recall_bounds).

-- The member of the recall issued at log index.
local function recall_member(index, id)
  return string.format('%012d-%s', index, id)
end

-- The index statement at rank r of lx:times: log index, unix seconds and
-- RFC 3339 text.
local function index_time_at(key, r)
  local m = redis.call('ZRANGE', key, r, r)[1]
  local i, t, text = string.match(m, '^(%d+) (%d+) (%S+)$')
  return tonumber(i), tonumber(t), text
end

-- The receipt time of the leaf at log index (the first index statement
-- after it, SPEC 8): unix seconds and RFC 3339 text, or nil while none
-- follows it yet.
local function receipt_time(key, index)
  local m = redis.call('ZRANGE', key, index, '+inf', 'BYSCORE',
    'LIMIT', 0, 1)[1]
  if m == nil then
    return nil
  end
  local _, t, text = string.match(m, '^(%d+) (%d+) (%S+)$')
  return tonumber(t), text
end

-- The lowest rank of lx:times (n entries) whose time is >= t (after:
-- > t); n if none.  Times never decrease with the rank.
local function index_time_rank(key, n, t, after)
  local lo, hi = 0, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local _, tm = index_time_at(key, mid)
    if tm > t or (not after and tm == t) then
      hi = mid
    else
      lo = mid + 1
    end
  end
  return lo
end

-- The log indexes [lo, hi] (hi nil: no upper end) whose receipt time is
-- in [since, until] (either '' for no bound), or nil when none can be.
-- A leaf that no index statement follows yet counts as received at
-- max(now, the latest statement's time), so receipt times stay
-- non-decreasing in log order and a window is a range of log indexes.
local function recall_bounds(key, since, till, now)
  local n = redis.call('ZCARD', key)
  local latest = now
  if n > 0 then
    local _, t = index_time_at(key, n - 1)
    if t > latest then
      latest = t
    end
  end
  local lo, hi = 0, nil
  if since ~= '' then
    since = tonumber(since)
    if since > latest then
      return nil
    end
    local r = index_time_rank(key, n, since, false)
    if r > 0 then
      lo = index_time_at(key, r - 1) + 1
    end
  end
  if till ~= '' then
    till = tonumber(till)
    if till < latest then
      local r = index_time_rank(key, n, till, true)
      if r == 0 then
        return nil
      end
      hi = index_time_at(key, r - 1)
    end
  end
  return lo, hi
end

-- Is a close (its JSON) still pending: logged at or after the published
-- witnessed checkpoint's size (SPEC 9)?  witnessed nil: no policy, never.
local function close_pending(closing, witnessed)
  if not closing or not witnessed then
    return false
  end
  local at = tonumber(string.match(closing, '"closedLogIndex":(%d+)'))
  return at == nil or at >= witnessed
end

-- The public JSON of a recall: the facts of its issue, once closed what
-- closed it, and when listed its receipt time ('' = not yet, null).  A
-- close the witnesses have not cosigned yet (close_pending) does not
-- close it: the recall is "open", with the close as "pendingClose".
local function recall_json(facts, closing, received, witnessed)
  local extra = ''
  if received == '' then
    extra = ',"received":null'
  elseif received then
    extra = ',"received":"' .. received .. '"'
  end
  if close_pending(closing, witnessed) then
    return string.sub(facts, 1, -2) .. extra ..
      ',"status":"open","pendingClose":' .. closing .. '}'
  end
  if closing then
    return string.sub(facts, 1, -2) .. extra .. ',"status":"closed",' ..
      string.sub(closing, 2)
  end
  return string.sub(facts, 1, -2) .. extra .. ',"status":"open"}'
end

local RECALL_STREAM_MAX = '100000'

-- append_event for recall.issued / recall.closed, plus the recall indexes.
-- KEYS: the five of append_event, then
--   6 recalls (HASH id -> facts), 7 recalls:closing (HASH id -> closing),
--   8 recalls:all, 9 recalls:status:open, 10 recalls:status:closed,
--   11 recalls:gtin:<gtin>, 12 recalls:lot:<lot>, 13 recalls:org:<org>,
--   14 c:{<chain>}:recalls, 15 recalls:stream, 16 recalls:closes:pending
-- ARGV: the seven of append_event, then
--   8 'issued' or 'closed'
--   9 issued: '' (the member is made of the log index given here);
--     closed: the id of the recall it closes
--   10 the JSON up to the log index (facts, or the closing), 11 its rest
--   12 '1' with a witness policy: a close is pending until a witnessed
--      checkpoint covers it (SPEC 9), so its notice is 'recall.closing'
--      (the recall still open, the close as pendingClose) and the
--      'recall.closed' one follows when it is witnessed (witnessed_publish)
local function append_recall(keys, args)
  local kind, closes, head, tail = args[8], args[9], args[10], args[11]
  local stream = keys[15]
  local member
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
    local where = redis.call('HGET', keys[2], closes) or ''
    local at = string.match(where, '^e (%d+) ')
    if at then
      member = recall_member(tonumber(at), closes)
    end
    if not member or not redis.call('ZSCORE', keys[14], member) or
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
    member = recall_member(index, id)
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
  redis.call('HSET', keys[7], closes, closing)
  redis.call('ZREM', keys[9], member)
  redis.call('ZADD', keys[10], 0, member)
  if args[12] == '1' then
    redis.call('ZADD', keys[16], index, closes)
    redis.call('XADD', stream, 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
      'event', 'recall.closing', 'id', closes,
      'data', recall_json(redis.call('HGET', keys[6], closes) or '{}', closing,
        nil, tonumber(index)))
    return res
  end
  redis.call('XADD', stream, 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
    'event', 'recall.closed', 'id', closes,
    'data', recall_json(redis.call('HGET', keys[6], closes) or '{}', closing))
  return res
end

-- One page of recalls, newest first (highest log index first).  Walks the
-- smallest of the index sets it is given and keeps the members that every
-- other set holds too, so the cost follows the number of recalls, never
-- the number of events.  At most budget members are looked at per call;
-- a page cut short by the budget still carries a cursor.
-- KEYS: recalls, recalls:closing, index times, then one or more index sets
-- ARGV: since, until (unix seconds, '' = none), cursor (log index: only
--       recalls below it; '' = none), now (unix seconds), limit, budget,
--       the published witnessed size ('' = no witness policy), and with
--       it the status wanted ('open', 'closed', '' = any): a close at or
--       past that size is pending and closes nothing yet (SPEC 9), so the
--       status is decided here rather than by the status sets, which
--       the append changed at once.
-- Reply: {{recall JSON...}, next cursor (a log index) or ''}
local function recalls_list(keys, args)
  local witnessed = tonumber(args[7] or '')
  local want = args[8] or ''
  local drive, smallest = 4, nil
  for i = 4, #keys do
    local n = redis.call('ZCARD', keys[i])
    if smallest == nil or n < smallest then
      drive, smallest = i, n
    end
  end
  local limit, budget = tonumber(args[5]), tonumber(args[6])
  local lo, hi = recall_bounds(keys[3], args[1], args[2], tonumber(args[4]))
  if lo == nil then
    return {{}, ''}
  end
  -- Members of log index i are "<i>-<hex>": "<i>-" sorts before them all.
  local upper, lower = '+', '[' .. string.format('%012d-', lo)
  local below = hi and hi + 1 or nil
  if args[3] ~= '' and (below == nil or tonumber(args[3]) < below) then
    below = tonumber(args[3])
  end
  if below ~= nil then
    upper = '(' .. string.format('%012d-', below)
  end
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
      for i = 4, #keys do
        if i ~= drive and not redis.call('ZSCORE', keys[i], m) then
          keep = false
          break
        end
      end
      local closing
      if keep then
        closing = redis.call('HGET', keys[2], string.sub(m, 14))
        if want ~= '' then
          local open = not closing or close_pending(closing, witnessed)
          keep = (want == 'open') == open
        end
      end
      if keep then
        if #ids == limit then
          -- One more match exists: the page ends at the previous one.
          return {out, tostring(tonumber(string.sub(last, 1, 12)))}
        end
        ids[#ids + 1] = m
        local id = string.sub(m, 14)
        local _, text = receipt_time(keys[3], tonumber(string.sub(m, 1, 12)))
        out[#out + 1] = recall_json(redis.call('HGET', keys[1], id) or '{}',
          closing, text or '', witnessed)
      end
      last = m
    end
    upper = '(' .. last
  end
  if seen >= budget and last ~= nil then
    return {out, tostring(tonumber(string.sub(last, 1, 12)))}
  end
  return {out, ''}
end

-- Rewrite recall index sets written before recalls were ordered by log
-- index ("<issued + 10^11>-<id>" members) to "<log index>-<id>", then
-- mark the store done.  A member already in the new form is left alone,
-- so it can run again.
-- KEYS: ids, recalls:order, then the index sets
-- Reply: members rewritten
local function recalls_upgrade(keys, args)
  local changed = 0
  for k = 3, #keys do
    for _, m in ipairs(redis.call('ZRANGE', keys[k], 0, -1)) do
      local id = string.sub(m, 14)
      local at = string.match(redis.call('HGET', keys[1], id) or '',
        '^e (%d+) ')
      if at then
        local now = recall_member(tonumber(at), id)
        if now ~= m then
          redis.call('ZREM', keys[k], m)
          redis.call('ZADD', keys[k], 0, now)
          changed = changed + 1
        end
      end
    end
  end
  redis.call('SET', keys[2], 'log')
  return changed
end

-- The recall.issued facts of every recall whose member in recalls:all is
-- not in the log index form yet (what recalls_upgrade needs the keys of),
-- unless recalls:order says the store was upgraded already.
-- KEYS: ids, recalls:all, recalls, recalls:order
-- Reply: {'done'} or {'stale', {facts JSON...}}
local function recalls_stale(keys, args)
  if redis.call('GET', keys[4]) == 'log' then
    return {'done'}
  end
  local out = {}
  for _, m in ipairs(redis.call('ZRANGE', keys[2], 0, -1)) do
    local id = string.sub(m, 14)
    local at = string.match(redis.call('HGET', keys[1], id) or '',
      '^e (%d+) ')
    if at and recall_member(tonumber(at), id) ~= m then
      out[#out + 1] = redis.call('HGET', keys[3], id) or '{}'
    end
  end
  return {'stale', out}
end

-- Publish the witnessed checkpoint (witness.c) and, in the same step, the
-- 'recall.closed' notice of every pending close it now covers (SPEC 9):
-- the stream says a recall ended only once the witnesses saw its close.
-- Run again with the same size it finds nothing left to send.
-- KEYS: log:{log}:witnessed, recalls:closes:pending, recalls,
--       recalls:closing, recalls:stream
-- ARGV: the note, its tree size
-- Reply: the number of closes it announced
local function witnessed_publish(keys, args)
  redis.call('SET', keys[1], args[1])
  local ids = redis.call('ZRANGE', keys[2], '-inf', '(' .. args[2], 'BYSCORE')
  for _, id in ipairs(ids) do
    redis.call('XADD', keys[5], 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
      'event', 'recall.closed', 'id', id,
      'data', recall_json(redis.call('HGET', keys[3], id) or '{}',
        redis.call('HGET', keys[4], id)))
    redis.call('ZREM', keys[2], id)
  end
  return #ids
end

redis.register_function('trace_append_recall', append_recall)
redis.register_function('trace_witnessed_publish', witnessed_publish)
redis.register_function{function_name = 'trace_recalls_list',
  callback = recalls_list, flags = {'no-writes'}}
redis.register_function('trace_recalls_upgrade', recalls_upgrade)

-- SPEC 8 "Revocation and compromise": a recall closed by a statement that
-- a revoke with compromisedAt took the effect from is open again (the
-- fold says so; store_recalls.c decides which).  Only if it is still
-- closed by that statement.  The stream tells the live feed it is open.
-- KEYS: ids, recalls, recalls:closing, recalls:status:open,
--       recalls:status:closed, recalls:stream
-- ARGV: recall id, id of the recall.closed
local function recall_reopen(keys, args)
  local id, closer = args[1], args[2]
  local closing = redis.call('HGET', keys[3], id)
  if not closing or
      not string.find(closing, '"closedBy":"' .. closer .. '"', 1, true) then
    return {'not_closed'}
  end
  local at = string.match(redis.call('HGET', keys[1], id) or '', '^e (%d+) ')
  if not at then
    return {'not_closed'}
  end
  local member = recall_member(tonumber(at), id)
  redis.call('HDEL', keys[3], id)
  redis.call('ZREM', keys[5], member)
  redis.call('ZADD', keys[4], 0, member)
  redis.call('XADD', keys[6], 'MAXLEN', '~', RECALL_STREAM_MAX, '*',
    'event', 'recall.issued', 'id', id,
    'data', recall_json(redis.call('HGET', keys[2], id) or '{}'))
  return {'ok'}
end
redis.register_function('trace_recall_reopen', recall_reopen)
redis.register_function{function_name = 'trace_recalls_stale',
  callback = recalls_stale, flags = {'no-writes'}}

-- ---- documents (store_blobs.c, for blobs.c and blobsweep.c) ---------------
--
-- An upload is checked twice against the quota and the store's space:
-- once before its body is read (blob_admit, which writes nothing, so a
-- refused upload costs no bandwidth), and again in the atomic step that
-- stores it (blob_put), since other uploads may have landed meanwhile.

-- Reply for a document already stored: {'present', size, media, id,
-- logIndex}.
local function blob_present(meta_key)
  local m = redis.call('HMGET', meta_key, 'size', 'media', 'id', 'logIndex')
  return {'present', m[1] or '0', m[2] or '', m[3] or '', m[4] or '-1'}
end

-- Would an upload of size bytes by this key fit?
-- KEYS: meta, blobs:bytes, quota; ARGV: size, quota, store max
local function blob_admit(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then
    return blob_present(keys[1])
  end
  local size = tonumber(args[1])
  local used = tonumber(redis.call('GET', keys[3]) or '0')
  if used + size > tonumber(args[2]) then
    return {'quota', used}
  end
  local total = tonumber(redis.call('GET', keys[2]) or '0')
  if total + size > tonumber(args[3]) then
    return {'full', total}
  end
  return {'ok'}
end

-- Store a document whose hash and media were checked, and log its upload
-- statement, all or nothing.  A statement logged before (its document was
-- collected and is uploaded again with the same statement) is not logged
-- twice: its log index is reused.
-- KEYS: data, meta, blobs:bytes, quota, blobs:refs, blobs:unreferenced,
--       blobs:statements, ids, k:revoke, log size, log pending
-- ARGV: sha256, size, quota, store max, media, now, signer, statement id,
--       leaf hash, envelope, quota ttl (seconds), the bytes
local function blob_put(keys, args)
  local sha, size, now, signer, id = args[1], tonumber(args[2]), args[6],
    args[7], args[8]
  if redis.call('EXISTS', keys[2]) == 1 then
    return blob_present(keys[2])
  end
  if redis.call('HEXISTS', keys[9], signer) == 1 then
    return {'revoked'}
  end
  local used = tonumber(redis.call('GET', keys[4]) or '0')
  if used + size > tonumber(args[3]) then
    return {'quota', used}
  end
  local total = tonumber(redis.call('GET', keys[3]) or '0')
  if total + size > tonumber(args[4]) then
    return {'full', total}
  end
  local index
  local existing = redis.call('HGET', keys[8], id)
  if existing then
    index = tonumber(string.match(existing, '^%a (%d+)'))
  else
    index = log_append(keys[10], keys[11], args[9], id)
    local n = redis.call('RPUSH', keys[7],
      id .. ' ' .. index .. ' ' .. args[10]) - 1
    redis.call('HSET', keys[8], id, 'b ' .. index .. ' ' .. n)
  end
  redis.call('SET', keys[1], args[12])
  redis.call('HSET', keys[2], 'media', args[5], 'size', size, 'time', now,
    'signer', signer, 'id', id, 'logIndex', index)
  redis.call('INCRBY', keys[3], size)
  redis.call('INCRBY', keys[4], size)
  redis.call('EXPIRE', keys[4], args[11])
  if redis.call('SISMEMBER', keys[5], sha) == 0 then
    redis.call('ZADD', keys[6], now, sha)
  end
  return {'ok', index}
end

-- A document's metadata, if its bytes are there too (a download then
-- streams them with GETRANGE).
-- KEYS: meta, data
-- Reply: {} when absent, else {size, media, id, logIndex}
local function blob_get(keys, args)
  local m = redis.call('HMGET', keys[1], 'size', 'media', 'id', 'logIndex')
  if not m[1] or redis.call('EXISTS', keys[2]) == 0 then
    return {}
  end
  return m
end

-- Delete up to <limit> documents uploaded before <cutoff> that no accepted
-- event names.  Bounded work per call; the sweeper calls again while a
-- call used its whole limit.
-- KEYS: blobs:unreferenced, blobs:refs, blobs:bytes
-- ARGV: cutoff (unix seconds), limit, key prefix of the bytes, suffix of
--       the metadata key (store_private.h's KEY_BLOB and KEY_BLOB_META)
-- Reply: {documents deleted, bytes freed, documents looked at}
local function blob_sweep(keys, args)
  local due = redis.call('ZRANGEBYSCORE', keys[1], '-inf', args[1],
    'LIMIT', 0, tonumber(args[2]))
  local deleted, freed = 0, 0
  for _, sha in ipairs(due) do
    redis.call('ZREM', keys[1], sha)
    if redis.call('SISMEMBER', keys[2], sha) == 0 then
      local data_key = args[3] .. sha
      local meta_key = data_key .. args[4]
      local size = tonumber(redis.call('HGET', meta_key, 'size') or '0')
      redis.call('DEL', data_key, meta_key)
      redis.call('DECRBY', keys[3], size)
      deleted, freed = deleted + 1, freed + size
    end
  end
  return {deleted, freed, #due}
end

redis.register_function{function_name = 'trace_blob_admit',
  callback = blob_admit, flags = {'no-writes'}}
redis.register_function('trace_blob_put', blob_put)
redis.register_function{function_name = 'trace_blob_get',
  callback = blob_get, flags = {'no-writes'}}
redis.register_function('trace_blob_sweep', blob_sweep)

-- ---- units: issued serials and secret codes (store_units.c, SPEC 12) ------
--
--   u:{<chain>}:codes   HASH   serial -> HMAC-SHA-256(pepper, code hash),
--                              32 raw bytes; set once, never served
--   u:{<chain>}:first   HASH   serial -> "<unix seconds> <token>" of the
--                              first correct code entry
--   u:{<chain>}:set:<root hex> LIST the issued serials of a serials.issued
--                              root, sorted bytewise (from a codes upload)
--   u:{<chain>}:w:<serial>           STRING wrong entries for the serial,
--   u:{<chain>}:w:<serial>:<client>  STRING and from one client, and
--   u:client:<client>                STRING from one client for any unit:
--                              each expires an hour after its first count
-- Nothing here is written for a serial that has no code.

-- Store a codes upload: every serial's MAC, or nothing if any serial has
-- another one already (a code is set once; the same MAC again is a
-- resubmission, not a conflict).  Also the sorted serial list under its
-- root, if not stored yet.
-- KEYS: codes hash, serial set list
-- ARGV: number of pairs n, serial1, mac1, ..., serialn, macn, then the
--       sorted serials of the set
local function unit_codes_put(keys, args)
  local n = tonumber(args[1])
  for i = 1, n do
    local stored = redis.call('HGET', keys[1], args[2 * i])
    if stored and stored ~= args[2 * i + 1] then
      return {'conflict', args[2 * i]}
    end
  end
  local chunk = {}
  for i = 1, n do
    chunk[#chunk + 1] = args[2 * i]
    chunk[#chunk + 1] = args[2 * i + 1]
    if #chunk >= 2000 or i == n then
      redis.call('HSET', keys[1], unpack(chunk))
      chunk = {}
    end
  end
  if redis.call('EXISTS', keys[2]) == 0 then
    local first = 2 * n + 2
    for i = first, #args, 2000 do
      redis.call('RPUSH', keys[2], unpack(args, i, math.min(i + 1999, #args)))
    end
  end
  return {'ok'}
end

-- Which of the serials has another code already (a dry run of
-- unit_codes_put)?
-- KEYS: codes hash
-- ARGV: serial1, mac1, ..., serialn, macn
local function unit_codes_taken(keys, args)
  for i = 1, #args, 2 do
    local stored = redis.call('HGET', keys[1], args[i])
    if stored and stored ~= args[i + 1] then
      return {'conflict', args[i]}
    end
  end
  return {'ok'}
end

-- Check one code entry.  Past a limit: 'limited' and the seconds until the
-- fullest window ends, without looking at the code.  A serial without a
-- code: 'nocode', nothing written.  Right: 'valid', whether this is the
-- first correct entry, the first time.  Wrong: the three counters go up.
-- KEYS: codes hash, first hash, serial counter, serial-client counter,
--       client counter
-- ARGV: serial, mac, now, per serial-client max, per serial max, per
--       client max, window seconds, a random token of this request
local function unit_code_check(keys, args)
  local serial = args[1]
  local stored = redis.call('HGET', keys[1], serial)
  if not stored then
    return {'nocode'}
  end
  local limits = {{keys[4], tonumber(args[4])}, {keys[3], tonumber(args[5])},
    {keys[5], tonumber(args[6])}}
  local wait = -1
  for _, l in ipairs(limits) do
    if tonumber(redis.call('GET', l[1]) or '0') >= l[2] then
      local ttl = redis.call('TTL', l[1])
      if ttl < 1 then ttl = 1 end
      if ttl > wait then wait = ttl end
    end
  end
  if wait >= 0 then
    return {'limited', wait}
  end
  if stored == args[2] then
    -- "<time> <request token>": a call resent after a broken connection
    -- (store_conn.c resends once) still learns it was the first.
    local mark = args[3] .. ' ' .. args[8]
    if redis.call('HSETNX', keys[2], serial, mark) == 1 then
      return {'valid', 1, args[3]}
    end
    local first = redis.call('HGET', keys[2], serial)
    local t, token = string.match(first, '^(%d+) ?(%w*)$')
    return {'valid', token == args[8] and 1 or 0, t or first}
  end
  for _, l in ipairs(limits) do
    if redis.call('INCR', l[1]) == 1 then
      redis.call('EXPIRE', l[1], tonumber(args[7]))
    end
  end
  return {'wrong'}
end

-- Does the serial have a code?  And the serial set of a root, sorted.
-- KEYS: codes hash, then serial set lists
-- ARGV: serial
local function unit_read(keys, args)
  local sets = {}
  for i = 2, #keys do
    sets[#sets + 1] = redis.call('LRANGE', keys[i], 0, -1)
  end
  return {redis.call('HEXISTS', keys[1], args[1]), sets}
end

redis.register_function('trace_unit_codes_put', unit_codes_put)
redis.register_function{function_name = 'trace_unit_codes_taken',
  callback = unit_codes_taken, flags = {'no-writes'}}
redis.register_function('trace_unit_code_check', unit_code_check)
redis.register_function{function_name = 'trace_unit_read',
  callback = unit_read, flags = {'no-writes'}}
