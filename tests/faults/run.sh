#!/usr/bin/env bash
# run.sh [BUILD] - the fault-injection suite (tests/faults/test_*.py) against
# BUILD's binaries with Debian's python3 (PyNaCl, redis-py).  Each module
# starts its own redis-server and trace-server and is bounded by a timeout.
# Prints each module's FIGURE lines and a closing "N passed, N failed"
# (counting test cases); exits non-zero on any failure.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
case $build in /*) ;; *) build=$here/../../$build ;; esac
export TRACE_BUILD=$(cd "$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$(cd "$here/../../.." && pwd)/shared/vectors}
export PYTHONPATH=$here:$here/../integration${PYTHONPATH:+:$PYTHONPATH}
export TRACE_FIGURES=$(mktemp)
py=/usr/bin/python3
limit=${TRACE_FAULT_TIMEOUT:-300}
cd "$here"
pass=0; fail=0; start_all=$(date +%s)
for t in test_*.py; do
	mod=${t%.py}
	log=$(mktemp)
	start=$(date +%s)
	timeout -k 10 "$limit" $py -W ignore::ResourceWarning -m unittest -v "$mod" > "$log" 2>&1
	rc=$?
	ran=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || true)
	bad=$(grep -E "^FAILED \\(" "$log" | grep -Eo "(failures|errors)=[0-9]+" | grep -Eo "[0-9]+" | awk '{s += $1} END {print s + 0}')
	ran=${ran:-0}; bad=${bad:-0}
	if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; [ "$ran" -eq 0 ] && ran=1; fi
	pass=$((pass + ran - bad)); fail=$((fail + bad))
	status=ok; [ $rc -eq 0 ] || status=FAIL
	[ $rc -eq 124 ] && status="FAIL (timed out after ${limit}s)"
	printf '  %-4s  %-24s %3s tests  %ss\n' "$status" "$mod" "$ran" "$(( $(date +%s) - start ))"
	grep '^FIGURE ' "$log" | sed 's/^/        /'
	if [ $rc -ne 0 ]; then sed 's/^/        /' "$log" | tail -n 60; fi
	rm -f "$log"
done
echo "FIGURE faults.total faults=$(grep -Eo ' faults=[0-9]+' "$TRACE_FIGURES" | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}') seconds=$(( $(date +%s) - start_all ))"
rm -f "$TRACE_FIGURES"
echo "faults: $pass passed, $fail failed"
[ $fail -eq 0 ]
