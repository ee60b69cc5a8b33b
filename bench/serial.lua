-- serial.lua - wrk script: the consumer page of a unit, as its QR links it:
-- GET BENCH_PAGE_PATH/21/<serial> with a random serial of 1..100000 per
-- request (each view counts a scan, so these pages are never cached), and
-- the same one-line summary as report.lua.
local base = os.getenv("BENCH_PAGE_PATH")
local counter = 0

function setup(thread)
  thread:set("seed", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() * 100 + seed)
end

function request()
  return wrk.format("GET", base .. "/21/" .. math.random(1, 100000))
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH rps=%.1f p50=%.3f p99=%.3f errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
