#!/usr/bin/env bash
# run.sh [BUILD] - every integration test module (tests/integration/test_*.py)
# against BUILD's binaries, through tests/run-suite.sh; each module starts
# its own redis-server and trace-server.  Exits non-zero on any failure.
export TRACE_SUITE_TIMEOUT=${TRACE_INTEGRATION_TIMEOUT:-600}
exec "$(dirname "$0")/../run-suite.sh" integration "${1:-build}" tests/integration
