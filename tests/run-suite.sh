#!/usr/bin/env bash
# run-suite.sh NAME BUILD DIR [SUM-FIELD] - run every DIR/test_*.py module
# with Debian's python3 (PyNaCl and redis-py come from Debian packages)
# against BUILD's binaries, each bounded by $TRACE_SUITE_TIMEOUT seconds
# (default 300), $TRACE_SUITE_JOBS at a time (default 1).  Shared by the
# integration, hostile and fault suites.
#
# Prints one line per module (status, test cases, seconds), the modules'
# FIGURE lines and known limitations (expectedFailure), then
# "FIGURE NAME.total SUM-FIELD=N modules=N seconds=N" when SUM-FIELD is
# given (the sum of that field over the modules' FIGURE lines), and
# "NAME: N passed, N failed" counting test cases.  Exits non-zero on any
# failure.
#
# Sanitizers: every process the tests start inherits ASAN_OPTIONS and
# UBSAN_OPTIONS that write reports to a private folder instead of a log
# nobody reads.  With an ASan+UBSan BUILD (build/san: make test-san), any
# report there, a leak at a clean exit included, fails the suite; without
# sanitizers the folder simply stays empty.
set -u
name=$1 build=$2 dir=$3 sum=${4:-}
top=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$top/$build ;; esac
export TRACE_BUILD=$(cd "$build" && pwd)
export TRACE_VECTORS=${TRACE_VECTORS:-$top/tests/vectors}
export PYTHONPATH=$top/tests/integration:$top/tests/faults:$top/tests/hostile${PYTHONPATH:+:$PYTHONPATH}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/san"
# (Later options win: the caller's come first, this folder last.)
# log_exe_name: a report's file (and heading) names the program, whose
# stack may end in a library built without frame pointers (libgcrypt).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:log_exe_name=1:log_path=$work/san/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:log_path=$work/san/ubsan"
figures=$work/figures
: > "$figures"
py=/usr/bin/python3
limit=${TRACE_SUITE_TIMEOUT:-300}
cd "$top/$dir"
pass=0; fail=0; modules=0; start_all=$(date +%s)
# Modules are independent (each starts its own redis-server and
# trace-server on free ports), so up to $TRACE_SUITE_JOBS run at once
# (default 1; the integration suite asks for 2: most of its time is spent
# waiting on processes, not on the CPU).  Results print in module order,
# each as soon as it and every module before it are done.
jobs=${TRACE_SUITE_JOBS:-1}
# $TRACE_SUITE_FIRST names modules to start first (the long ones, so
# they do not run alone at the end); the rest follow in name order.
mods=()
for m in ${TRACE_SUITE_FIRST:-}; do [ -e "$m.py" ] && mods+=("$m"); done
for t in test_*.py; do
	case " ${TRACE_SUITE_FIRST:-} " in *" ${t%.py} "*) continue ;; esac
	mods+=("${t%.py}")
done
run_module() {
	local mod=$1 start
	start=$(date +%s)
	timeout -k 10 "$limit" $py -W ignore::ResourceWarning -m unittest -v "$mod" > "$work/$mod.log" 2>&1
	echo "$? $(( $(date +%s) - start ))" > "$work/$mod.done"
}
report_module() {
	local mod=$1 log=$work/$1.log rc secs ran bad status
	read -r rc secs < "$work/$mod.done"
	modules=$((modules + 1))
	ran=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || true)
	bad=$(grep -E '^FAILED \(' "$log" | grep -Eo '(failures|errors|unexpected successes)=[0-9]+' |
	      grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
	ran=${ran:-0}; bad=${bad:-0}
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; [ "$ran" -eq 0 ] && ran=1; fi
	pass=$((pass + ran - bad)); fail=$((fail + bad))
	status=ok; [ "$rc" -eq 0 ] || status=FAIL
	[ "$rc" -eq 124 ] && status="FAIL (timed out after ${limit}s)"
	printf '  %-4s  %-24s %3s tests  %ss\n' "$status" "$mod" "$ran" "$secs"
	grep ' \.\.\. expected failure$' "$log" |
		sed 's/ \.\.\. expected failure$/: known limitation (expected failure)/; s/^/        /'
	# (A figure printed inside a test can follow unittest's "name ... "
	# on the same line: take it from FIGURE to the end of the line.)
	grep -Eo 'FIGURE .*' "$log" | tee -a "$figures" | sed 's/^/        /'
	if [ "$rc" -ne 0 ]; then sed 's/^/        /' "$log" | tail -n 80; fi
}
next=0; shown=0; running=0
while [ $shown -lt ${#mods[@]} ]; do
	while [ $running -lt "$jobs" ] && [ $next -lt ${#mods[@]} ]; do
		run_module "${mods[$next]}" &
		next=$((next + 1)); running=$((running + 1))
	done
	wait -n 2> /dev/null || true
	running=0
	for ((k = shown; k < next; k++)); do
		[ -e "$work/${mods[$k]}.done" ] || running=$((running + 1))
	done
	while [ $shown -lt $next ] && [ -e "$work/${mods[$shown]}.done" ]; do
		report_module "${mods[$shown]}"
		shown=$((shown + 1))
	done
done
reports=$(find "$work/san" -type f | sort)
if [ -n "$reports" ]; then
	n=$(wc -l <<<"$reports")
	echo "  FAIL  sanitizer reports: $n (first lines of each follow)"
	for r in $reports; do
		echo "        == $(basename "$r")"
		head -n 40 "$r" | sed 's/^/        /'
	done
	fail=$((fail + n))
fi
if [ -n "$sum" ]; then
	total=$(grep -Eo "[ ]$sum=[0-9]+" "$figures" | grep -Eo '[0-9]+' |
	        awk '{s += $1} END {print s + 0}')
	echo "FIGURE $name.total $sum=$total modules=$modules seconds=$(( $(date +%s) - start_all ))"
fi
echo "$name: $pass passed, $fail failed"
[ $fail -eq 0 ]
