#!/usr/bin/env bash
# run.sh [BUILD] - browser tests of the consumer and inspector pages, the QR
# codes and the Digital Link URIs: Debian's chromium (headless) driven by
# npm's playwright-core, against a private redis-server and trace-server that
# driver.py starts (tests/integration/harness.py) and seeds
# (tests/integration/pages_seed.py).  Screenshots of a 360 px wide phone go
# to BUILD/screenshots/.  Prints "N passed, N failed"; exit 1 on a failure.
#
# Needs: chromium, zbar-tools, python3-nacl, python3-redis (make test-deps),
# node + npm; playwright-core, digital-link.js and ajv (+ ajv-formats, for
# linkset.test.js's schemas in tests/vectors/gs1/), pinned to versions that
# run on Debian 12's own Node.js 18 as on newer ones (playwright-core 1.62
# and later need Node 20), are installed here into node_modules/
# (git-ignored) on first use and again whenever package.json changes.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export TRACE_BUILD=$build
export TRACE_SCREENSHOTS=${TRACE_SCREENSHOTS:-$build/screenshots}
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
	npm install --no-audit --no-fund --loglevel=error >&2
fi
exec /usr/bin/python3 driver.py
