#!/usr/bin/env bash
# run.sh [BUILD] - the hostile-input suite (tests/hostile/test_*.py: the
# corpus.json requests, signed hostile statements and XSS, socket-level
# abuse) against BUILD's binaries, through tests/run-suite.sh.  Prints
# FIGURE lines, "FIGURE hostile.total cases_tried=N ..." and "hostile: N
# passed, N failed" (test cases; a known limitation marked expectedFailure
# counts as passed and is listed); exits non-zero on any failure.
export TRACE_SUITE_TIMEOUT=${TRACE_HOSTILE_TIMEOUT:-300}
# The socket tests mostly wait out read timeouts (their bounds have 5 s of
# slack): the other modules run beside them.
export TRACE_SUITE_JOBS=${TRACE_SUITE_JOBS:-2}
export TRACE_SUITE_FIRST=${TRACE_SUITE_FIRST-test_sockets}
exec "$(dirname "$0")/../run-suite.sh" hostile "${1:-build}" tests/hostile cases_tried
