#!lua name=trace
--
-- store.lua - the Redis Functions behind every write of trace-server.
--
-- Each function is one atomic step: Redis runs it to the end before any
-- other command, so two servers racing to append at the same seq can never
-- both succeed, and an accepted statement gets its log index in the same
-- step that appends it (SPEC section 4).  Everything that can be checked
-- without the store (JSON, signatures, roles) was checked in C before the
-- call; what needs the store's current state is checked here.
--
-- Key layout (documented in the README):
--   c:{<chain>}:ev      LIST   "<id> <logIndex> <envelope JSON>" per seq
--   ids                 HASH   id -> "e <logIndex> <seq> <chain>" or "k <logIndex> <n>"
--   k:entries           LIST   key statements, "<id> <logIndex> <envelope JSON>"
--   k:enroll            HASH   keyid -> "<logIndex> <n>" (n: index in k:entries)
--   k:revoke            HASH   keyid -> "<logIndex> <n>"
--   log:{log}:size      STRING number of leaves assigned
--   log:{log}:pending   LIST   leaf hash (32 bytes) .. statement id (64 hex),
--                              in log order, not yet integrated into the tree
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
  -- A revocation accepted before this call applies (SPEC 3).
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

-- KEYS: k:entries, ids, k:enroll, k:revoke, log size, log pending
-- ARGV: id, op ('enroll' or 'revoke'), keyid, signer keyid, leaf hash,
--       envelope, signer_is_root ('1' or '0')
local function append_key(keys, args)
  local entries_key, ids_key, enroll_key, revoke_key, size_key, pending_key =
    keys[1], keys[2], keys[3], keys[4], keys[5], keys[6]
  local id, op, keyid, signer, leaf, envelope, signer_is_root =
    args[1], args[2], args[3], args[4], args[5], args[6], args[7]

  local existing = redis.call('HGET', ids_key, id)
  if existing then
    return {'duplicate', existing}
  end
  if signer_is_root ~= '1' then
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
  else
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
  else
    redis.call('HSET', revoke_key, keyid, where)
  end
  redis.call('HSET', ids_key, id, 'k ' .. where)
  return {'ok', index}
end

redis.register_function('trace_append_event', append_event)
redis.register_function('trace_append_key', append_key)
