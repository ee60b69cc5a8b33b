#!/usr/bin/env bash
# run.sh SECONDS BIN... - run each libFuzzer harness for SECONDS.  Inputs:
# tests/fuzz/seeds/NAME (committed starting points), tests/fuzz/regress/NAME
# (committed inputs that once crashed: replayed first), and the working
# corpus build/fuzz/corpus/NAME (kept between runs, not committed).  Prints
# executions per harness and a closing "N passed, N failed".
set -u
seconds=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
pass=0; fail=0
for bin in "$@"; do
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	name=$(basename "$bin")
	corpus=$here/../../build/fuzz/corpus/$name
	seeds=$here/seeds/$name
	regress=$here/regress/$name
	work=$(mktemp -d)
	mkdir -p "$corpus" "$seeds"
	log=$work/log
	ok=1
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
		"$bin" -runs=0 "$regress" > "$log" 2>&1 || ok=0
	fi
	if [ $ok = 1 ]; then
		( cd "$work" && "$bin" -max_total_time="$seconds" -max_len=65536 \
			-rss_limit_mb=2048 "$corpus" "$seeds" ) > "$log.run" 2>&1 || ok=0
		cat "$log.run" >> "$log"
	fi
	execs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -1)
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
		printf '  ok    %-16s %s executions in %ss\n' "$name" "${execs:-?}" "$seconds"
		echo "FIGURE fuzz.$name executions=${execs:-0} seconds=$seconds"
	else
		fail=$((fail + 1))
		printf '  FAIL  %-16s\n' "$name"
		tail -n 40 "$log" | sed 's/^/        /'
		# Keep the crashing input as a regression input.
		mkdir -p "$regress"
		find "$work" -maxdepth 1 -name 'crash-*' -exec cp {} "$regress/" \;
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
