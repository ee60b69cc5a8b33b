#!/usr/bin/env bash
# run-suites.sh BUILD SUITE... - run each end-to-end suite (a run.sh taking
# BUILD) against BUILD's binaries, all of them even when one fails, then
# exit non-zero if any failed.  Every process the suites start writes its
# ASan/UBSan reports (with an instrumented BUILD such as build/san) to a
# private folder; a report there fails the run even when the test that
# caused it passed.
set -u
build=$1; shift
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
failed=(); times=()
for suite in "$@"; do
	echo "== $suite ($build)"
	start=$(date +%s)
	status=ok
	"$suite" "$build" || { status=FAIL; failed+=("$suite"); }
	secs=$(( $(date +%s) - start ))
	echo "== $suite ($build): $status in $secs s"
	times+=("$(printf '  %-4s  %-28s %5d s' "$status" "$suite" "$secs")")
done
echo "== suite times ($build)"
printf '%s\n' "${times[@]}"
found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
	echo "sanitizer reports ($build): $(wc -l <<<"$found")"
	for r in $found; do
		echo "  == $(basename "$r")"
		head -n 40 "$r" | sed 's/^/    /'
	done
	failed+=("sanitizer-reports")
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed ($build): ${failed[*]}"
	exit 1
fi
echo "all suites passed ($build): $#"
