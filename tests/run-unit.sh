#!/usr/bin/env bash
# run-unit.sh LABEL BIN... - run each unit test program, print its output on
# failure, and a closing "N passed, N failed" line.  Exit 1 if any failed.
set -u
label=$1; shift
# The tests read tests/vectors/ relative to the project root.
top=$(cd "$(dirname "$0")/.." && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$top/tests/vectors}
pass=0; fail=0; failed=()
for bin in "$@"; do
	out=$("$bin" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		printf '  ok    %s  %s\n' "$(basename "$bin")" "$(tail -n 1 <<<"$out")"
	else
		fail=$((fail + 1)); failed+=("$(basename "$bin")")
		printf '  FAIL  %s (exit %d)\n' "$(basename "$bin")" "$rc"
		sed 's/^/        /' <<<"$out" | tail -n 60
	fi
done
echo "$label: $pass passed, $fail failed"
[ $fail -eq 0 ]
