#!/usr/bin/env bash
# valgrind.sh [BUILD] [MODULE...] - run the integration suite
# (tests/integration/test_*.py, or the named modules or classes) with every
# trace-server it starts under valgrind memcheck, and fail on any memory
# error or any leak "definitely lost".  make test runs it once, on BUILD
# (the normal -O2 build: memcheck and ASan must not share a process).
#
# The harness honours TRACE_SERVER_WRAPPER as a command prefix;
# trace-server exits cleanly on SIGTERM (mg_stop, log integrator joined),
# which is when valgrind reports leaks.  Under memcheck every request costs
# 20-50 times more, so the two racing processes of test_ingest append 100
# events each instead of 500 (TRACE_RACE_APPENDS), test_log's large log has
# 1,000 leaves instead of 10,000 (TRACE_LOG_LEAVES), and each module is
# bounded by TRACE_VALGRIND_TIMEOUT seconds (default 600).
# Prints per module its result, per server process with a finding its
# error and leak summary, "FIGURE faults.valgrind ..." and
# "valgrind: N passed, N failed" (server processes).
set -u
build=${1:-build}; shift || true
here=$(cd "$(dirname "$0")" && pwd)
case $build in /*) ;; *) build=$here/../../$build ;; esac
export TRACE_BUILD=$(cd "$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$(cd "$here/.." && pwd)/vectors}
export TRACE_RACE_APPENDS=${TRACE_RACE_APPENDS:-100}
export TRACE_LOG_LEAVES=${TRACE_LOG_LEAVES:-1000}
command -v valgrind > /dev/null || { echo "valgrind: not installed"; exit 1; }
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export TRACE_SERVER_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30 --log-file=$logs/vg.%p.log"
limit=${TRACE_VALGRIND_TIMEOUT:-600}
cd "$here/../integration"
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=($(ls test_*.py | sed 's/\.py$//'))
tests_failed=0; start_all=$(date +%s)
for mod in "${modules[@]}"; do
	start=$(date +%s)
	if timeout -k 20 "$limit" /usr/bin/python3 -W ignore::ResourceWarning -m unittest "$mod" > "$logs/$mod.out" 2>&1; then
		s=ok
	else
		s=FAIL; tests_failed=$((tests_failed + 1))
	fi
	ran=$(grep -Eo '^Ran [0-9]+ tests?' "$logs/$mod.out" | grep -Eo '[0-9]+')
	printf '  %-4s  %-24s %3s tests  %ss (trace-server under memcheck)\n' "$s" "$mod" "${ran:-?}" "$(( $(date +%s) - start ))"
	[ $s = FAIL ] && tail -n 30 "$logs/$mod.out" | sed 's/^/        /'
done
pass=0; fail=0; killed=0
for f in "$logs"/vg.*.log; do
	[ -e "$f" ] || continue
	# A server that exited prints "ERROR SUMMARY: N errors" and, with
	# leaks, "definitely lost: N bytes"; one the tests killed with
	# SIGKILL prints no summary, but any error it met is in its log.
	errors=$(grep -Eo 'ERROR SUMMARY: [0-9,]+' "$f" | grep -Eo '[0-9,]+' | tr -d , | tail -1)
	definite=$(grep -Eo 'definitely lost: [0-9,]+ bytes' "$f" | grep -Eo '[0-9,]+' | tr -d , | tail -1)
	[ -z "$errors" ] && killed=$((killed + 1))
	if grep -qE 'Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost in' "$f" ||
	    [ "${errors:-0}" -ne 0 ] || [ "${definite:-0}" -ne 0 ]; then
		fail=$((fail + 1))
		echo "  FAIL  $(basename "$f"): ${errors:-?} errors, ${definite:-0} bytes definitely lost"
		grep -v '^==[0-9]*== *$' "$f" | grep -vE '^==[0-9]+== (Memcheck|Copyright|Using Valgrind|Command|Parent PID)' |
			sed 's/^/        /' | head -n 80
	else
		pass=$((pass + 1))
	fi
done
echo "FIGURE faults.valgrind servers=$((pass + fail)) clean=$pass killed_without_summary=$killed modules=${#modules[@]} module_failures=$tests_failed seconds=$(( $(date +%s) - start_all ))"
echo "valgrind: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $tests_failed -eq 0 ] && [ $((pass + fail)) -gt 0 ]
