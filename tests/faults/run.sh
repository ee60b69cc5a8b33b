#!/usr/bin/env bash
# run.sh [BUILD] - the fault-injection suite (tests/faults/test_*.py) against
# BUILD's binaries, through tests/run-suite.sh.  Each module starts its own
# redis-server and trace-server and is bounded by a timeout.  Prints each
# module's FIGURE lines, "FIGURE faults.total faults=N ..." and "faults: N
# passed, N failed" (test cases); exits non-zero on any failure.
export TRACE_SUITE_TIMEOUT=${TRACE_FAULT_TIMEOUT:-300}
exec "$(dirname "$0")/../run-suite.sh" faults "${1:-build}" tests/faults faults
