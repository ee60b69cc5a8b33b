#!/usr/bin/env bash
# valgrind.sh [BUILD] [MODULE...] - run integration test modules or classes
# (default: a representative subset - ingest, refusals, the key registry,
# bundles and verification, without the 1000-append race, which alone takes
# about 6 minutes under valgrind; "all" runs every tests/integration/test_*.py)
# with each trace-server they start
# under valgrind memcheck, and fail on any memory error or any leak
# "definitely lost".  The harness honours TRACE_SERVER_WRAPPER as a
# command prefix; trace-server exits cleanly on SIGTERM (mg_stop, log
# integrator joined), which is when valgrind reports leaks.  Each module
# is bounded by TRACE_VALGRIND_TIMEOUT seconds (default 540).
# Prints per server process its error and leak summary, then
# "valgrind: N passed, N failed" (server processes).
set -u
build=${1:-build}; shift || true
here=$(cd "$(dirname "$0")" && pwd)
case $build in /*) ;; *) build=$here/../../$build ;; esac
export TRACE_BUILD=$(cd "$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$(cd "$here/../../.." && pwd)/shared/vectors}
command -v valgrind > /dev/null || { echo "valgrind: not installed"; exit 1; }
logs=$(mktemp -d)
export TRACE_SERVER_WRAPPER="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30 --log-file=$logs/vg.%p.log"
limit=${TRACE_VALGRIND_TIMEOUT:-540}
cd "$here/../integration"
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(test_ingest.HappyPath test_ingest.Refused
    test_ingest.Registry test_agent_verify)
[ "${modules[0]}" = all ] && modules=($(ls test_*.py | sed 's/\.py$//'))
tests_failed=0
for mod in "${modules[@]}"; do
	start=$(date +%s)
	if timeout -k 20 "$limit" /usr/bin/python3 -W ignore::ResourceWarning -m unittest "$mod" > "$logs/$mod.out" 2>&1; then
		s=ok
	else
		s=FAIL; tests_failed=$((tests_failed + 1))
	fi
	printf '  %-4s  %-24s %ss (tests under valgrind)\n' "$s" "$mod" "$(( $(date +%s) - start ))"
	[ $s = FAIL ] && tail -n 30 "$logs/$mod.out" | sed 's/^/        /'
done
pass=0; fail=0
for f in "$logs"/vg.*.log; do
	[ -e "$f" ] || continue
	# valgrind's own children (none expected) and empty logs: a clean run
	# with --quiet writes nothing at all.
	errors=$(grep -Eo 'ERROR SUMMARY: [0-9]+' "$f" | grep -Eo '[0-9]+' | tail -1)
	definite=$(grep -Eo 'definitely lost: [0-9,]+ bytes' "$f" | grep -Eo '[0-9,]+' | tr -d , | tail -1)
	if grep -qE 'Invalid (read|write|free)|uninitialised|definitely lost in' "$f" ||
	    [ "${errors:-0}" -ne 0 ] || [ "${definite:-0}" -ne 0 ]; then
		fail=$((fail + 1))
		echo "  FAIL  $(basename "$f"): ${errors:-0} errors, ${definite:-0} bytes definitely lost"
		sed 's/^/        /' "$f" | head -n 80
	else
		pass=$((pass + 1))
	fi
done
echo "FIGURE faults.valgrind servers=$((pass + fail)) clean=$pass modules=${#modules[@]} module_failures=$tests_failed"
rm -rf "$logs"
echo "valgrind: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $tests_failed -eq 0 ]
