#!/usr/bin/env bash
# run.sh [BUILD] - the hostile-input suite (tests/hostile/test_*.py: the
# corpus.json requests, signed hostile statements and XSS, socket-level
# abuse) against BUILD's binaries with Debian's python3.  Prints FIGURE
# lines, "FIGURE hostile.total cases=N" and "N passed, N failed" (test
# cases; a known limitation marked expectedFailure counts as passed and is
# listed); exits non-zero on any failure.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
case $build in /*) ;; *) build=$here/../../$build ;; esac
export TRACE_BUILD=$(cd "$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$(cd "$here/../../.." && pwd)/shared/vectors}
export PYTHONPATH=$here:$here/../faults:$here/../integration${PYTHONPATH:+:$PYTHONPATH}
unset TRACE_FIGURES
counts=$(mktemp)
py=/usr/bin/python3
limit=${TRACE_HOSTILE_TIMEOUT:-300}
cd "$here"
pass=0; fail=0; start_all=$(date +%s)
for t in test_*.py; do
	mod=${t%.py}
	log=$(mktemp)
	start=$(date +%s)
	timeout -k 10 "$limit" $py -W ignore::ResourceWarning -m unittest -v "$mod" > "$log" 2>&1
	rc=$?
	ran=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || true)
	bad=$(grep -E "^FAILED \\(" "$log" | grep -Eo "(failures|errors|unexpected successes)=[0-9]+" | grep -Eo "[0-9]+" | awk '{s += $1} END {print s + 0}')
	ran=${ran:-0}; bad=${bad:-0}
	if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; [ "$ran" -eq 0 ] && ran=1; fi
	pass=$((pass + ran - bad)); fail=$((fail + bad))
	status=ok; [ $rc -eq 0 ] || status=FAIL
	[ $rc -eq 124 ] && status="FAIL (timed out after ${limit}s)"
	printf '  %-4s  %-24s %3s tests  %ss\n' "$status" "$mod" "$ran" "$(( $(date +%s) - start ))"
	grep ' \.\.\. expected failure$' "$log" | sed 's/ \.\.\. expected failure$/: known limitation (expected failure)/; s/^/        /'
	grep '^FIGURE ' "$log" | sed 's/^/        /'
	grep -Eo 'cases_tried=[0-9]+' "$log" >> "$counts"
	if [ $rc -ne 0 ]; then sed 's/^/        /' "$log" | tail -n 60; fi
	rm -f "$log"
done
echo "FIGURE hostile.total cases=$(grep -Eo '[0-9]+' "$counts" | awk '{s += $1} END {print s + 0}') seconds=$(( $(date +%s) - start_all ))"
rm -f "$counts"
echo "hostile: $pass passed, $fail failed"
[ $fail -eq 0 ]
