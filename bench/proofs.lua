-- proofs.lua - wrk script: GET /api/v1/proofs/inclusion for random leaf
-- indexes of the tree of size BENCH_LOG_SIZE (a checkpoint's size), and
-- the same one-line summary as report.lua.
local size = tonumber(os.getenv("BENCH_LOG_SIZE"))
local counter = 0

function setup(thread)
  thread:set("seed", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() * 100 + seed)
end

function request()
  local index = math.random(0, size - 1)
  return wrk.format("GET", "/api/v1/proofs/inclusion?index=" .. index ..
    "&size=" .. size)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH rps=%.1f p50=%.3f p99=%.3f errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
