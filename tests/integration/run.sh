#!/usr/bin/env bash
# run.sh [BUILD] - every integration test module (tests/integration/test_*.py)
# against BUILD's binaries, through tests/run-suite.sh; each module starts
# its own redis-server and trace-server.  Exits non-zero on any failure.
export TRACE_SUITE_TIMEOUT=${TRACE_INTEGRATION_TIMEOUT:-600}
# Two modules at a time: each mostly waits on its own processes.
export TRACE_SUITE_JOBS=${TRACE_SUITE_JOBS:-2}
export TRACE_SUITE_FIRST=${TRACE_SUITE_FIRST-test_witnessed test_ingest test_log}
exec "$(dirname "$0")/../run-suite.sh" integration "${1:-build}" tests/integration
