-- post.lua - wrk script: POST pre-signed single envelopes (presign.py
-- lane files) to /api/v1/events.  wrk thread i reads PREFIX.i (set
-- BENCH_POST_PREFIX); lanes own disjoint chains in seq-major order, so the
-- requests a thread has in flight never touch the same chain.  When a lane
-- runs out it stops sending (the bench signs more than a run can use).

local counter = 0
local threads = {}

function setup(thread)
  thread:set("lane", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local prefix = os.getenv("BENCH_POST_PREFIX")
  for line in io.lines(prefix .. "." .. lane) do
    bodies[#bodies + 1] = line
  end
  next_body = 1
  sent = 0
  non201 = 0
  -- wrk calls request() once on thread 0 to check the script
  -- (script_verify_request) and throws the answer away: do not spend a
  -- body on it, or that chain gets a gap.
  verify_call = (lane == 0)
end

function request()
  if verify_call then
    verify_call = false
    return wrk.format("POST", "/api/v1/events",
      {["Content-Type"] = "application/json"}, bodies[1])
  end
  local body = bodies[next_body]
  if body == nil then
    wrk.thread:stop()
    body = bodies[#bodies]
  else
    next_body = next_body + 1
    sent = sent + 1
  end
  return wrk.format("POST", "/api/v1/events",
    {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    if non201 == 1 then
      io.stderr:write("post.lua: HTTP " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local total_sent, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_sent = total_sent + t:get("sent")
    total_bad = total_bad + t:get("non201")
  end
  io.write(string.format("BENCH sent=%d non201=%d\n", total_sent, total_bad))
end
