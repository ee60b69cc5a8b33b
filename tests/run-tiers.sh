#!/usr/bin/env bash
# run-tiers.sh MAKE TIER... - what `make test` and `make check` do: run each
# tier (a make target, with its arguments, as one word) in order, every one
# even when an earlier one failed, print how long each took, and close with
# "tiers: N passed, N failed".  Exits non-zero when any tier failed.
set -u
make_cmd=$1; shift
results=(); pass=0; fail=0; start_all=$(date +%s)
for tier in "$@"; do
	echo "== make $tier"
	start=$(date +%s)
	# $make_cmd and $tier are word-split on purpose: "make -s" "fuzz FUZZ_SECONDS=10".
	if $make_cmd $tier; then
		status=ok; pass=$((pass + 1))
	else
		status=FAIL; fail=$((fail + 1))
	fi
	secs=$(( $(date +%s) - start ))
	results+=("$(printf '  %-4s  %-32s %5d s' "$status" "$tier" "$secs")")
	echo "== make $tier: $status in $secs s"
done
echo "== tier times"
printf '%s\n' "${results[@]}"
echo "  total $(( $(date +%s) - start_all )) s"
echo "tiers: $pass passed, $fail failed"
[ $fail -eq 0 ]
