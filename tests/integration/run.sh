#!/usr/bin/env bash
# run.sh BUILD - run every integration test module against BUILD's binaries
# with Debian's python3 (PyNaCl and redis-py come from Debian packages).
set -u
build=${1:-build}
cd "$(dirname "$0")"
export TRACE_BUILD=$(cd "../../$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$(cd ../../.. && pwd)/shared/vectors}
py=/usr/bin/python3
pass=0; fail=0; failed=()
for t in test_*.py; do
	mod=${t%.py}
	start=$(date +%s)
	if $py -m unittest "$mod" > "/tmp/trace-it-$mod.log" 2>&1; then
		pass=$((pass + 1)); status=ok
	else
		fail=$((fail + 1)); failed+=("$mod"); status=FAIL
	fi
	tests=$(grep -Eo '^Ran [0-9]+ tests?' "/tmp/trace-it-$mod.log" | grep -Eo '[0-9]+')
	printf '  %-4s  %-22s %3s tests  %ss\n' "$status" "$mod" "${tests:-?}" "$(( $(date +%s) - start ))"
	if [ $status = FAIL ]; then sed 's/^/        /' "/tmp/trace-it-$mod.log" | tail -n 80; fi
done
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
