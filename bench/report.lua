-- report.lua - wrk script for plain GETs: prints one machine-readable line
-- (requests/s, p50 and p99 latency in ms, non-2xx count) for bench/run.sh.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH rps=%.1f p50=%.3f p99=%.3f errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
