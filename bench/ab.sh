#!/usr/bin/env bash
# bench/ab.sh MODE BUILD_A BUILD_B [PAIRS] - compare two builds on one figure,
# alternating A and B so that a load change on a shared machine hits both.
#
#   MODE single   single-post ingest (wrk, 16 connections, bench/post.lua):
#                 statements/s against the Ed25519 ceiling measured just
#                 before each round, and CPU per statement of trace-server,
#                 redis-server and wrk
#   MODE page     the cached lot page of a 10-event chain (wrk, 64
#                 connections): req/s and p50/p99, beside hello-world
#
# Each of the PAIRS (default 2) runs A then B; each run starts its own
# redis-server (AOF, appendfsync always) and trace-server on free loopback
# ports, enrolls keys, pre-signs (never inside a measurement) and measures
# AB_ROUNDS rounds (default 3) of AB_DURATION seconds (default 5).  Prints
# every round, then the median of each build's rounds.  Timing is never a
# pass/fail.  Needs what run.sh needs (deploy/install-deps.sh --bench) and
# both builds made (make BUILD=DIR); BUILD_A's bench/ gets hello and
# verify_rate.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
}
[ $# -ge 3 ] || usage
case "$1" in single|page) ;; -h|--help) usage ;; *) echo "ab.sh: MODE is single or page" >&2; exit 2 ;; esac
MODE=$1 A=$2 B=$3 PAIRS=${4:-2}
ROUNDS=${AB_ROUNDS:-3}
DURATION=${AB_DURATION:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
GTIN=08801234567893
CORES=$(nproc)

say() { printf '%s ab: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

. "$HERE/common.sh"
check_tools
check_build "$A"
check_build "$B"
BIN="$A/bench"
build_baselines "$A" "$BIN"

OUT=$(mktemp -d /tmp/trace-ab.XXXXXX)
WORK=
PIDS=()
stop_servers() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
	[ -n "$WORK" ] && rm -rf "$WORK"
	WORK=
}
trap 'stop_servers; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

# start BUILD: a fresh work folder and the servers (common.sh)
start() {
	WORK=$(mktemp -d /tmp/trace-ab-run.XXXXXX)
	start_servers "$1" "$WORK" 128
}

TICK=$(getconf CLK_TCK)
server_cpu() { awk -v t="$TICK" '{ print ($14 + $15) / t }' "/proc/$SERVER_PID/stat"; }
redis_cpu() { "${RCLI[@]}" info cpu | tr -d '\r' | awk -F: '$1 == "used_cpu_sys" || $1 == "used_cpu_user" { s += $2 } END { print s }'; }

# one run of MODE on BUILD; appends "ratio server redis wrk" or "rps p50 p99" lines to OUT/NAME
run_single() {
	local name=$1 r p before after s0 s1 r0 r1 ceil line secs wcpu signers=()
	for r in $(seq "$ROUNDS"); do
		$PY "$HERE/presign.py" --keys "$WORK/keys" --prefix "P$r" --lanes 2 --chains 1500 \
			--length 10 --batch 1 --out "$WORK/data/single$r" >/dev/null &
		signers+=($!)
	done
	for p in "${signers[@]}"; do wait "$p" || die "presign failed"; done
	for r in $(seq "$ROUNDS"); do
		ceil=$("$BIN/verify_rate" ceiling "$CORES" 3)
		before=$("${RCLI[@]}" get 'log:{log}:size'); s0=$(server_cpu); r0=$(redis_cpu)
		line=$( { /usr/bin/time -f 'WRKCPU %U %S' env BENCH_POST_PREFIX="$WORK/data/single$r" \
			wrk -t 2 -c 16 -d "${DURATION}s" -s "$HERE/post.lua" "$URL/api/v1/events"; } 2>&1 )
		after=$("${RCLI[@]}" get 'log:{log}:size'); s1=$(server_cpu); r1=$(redis_cpu)
		grep -q 'non201=0' <<<"$line" || die "single posts rejected: $(grep -E 'BENCH|post.lua' <<<"$line")"
		secs=$(grep -oE 'requests in [0-9.]+s' <<<"$line" | grep -oE '[0-9.]+s' | tr -d s)
		wcpu=$(awk '/WRKCPU/ { print $2 + $3 }' <<<"$line")
		awk -v n=$((after - before)) -v s="$secs" -v c="$ceil" -v s0="$s0" -v s1="$s1" \
			-v r0="$r0" -v r1="$r1" -v w="$wcpu" 'BEGIN { printf "%.3f %.0f %.0f %.0f %.0f %.0f\n",
			n / s / c, (s1 - s0) * 1e6 / n, (r1 - r0) * 1e6 / n, w * 1e6 / n, n / s, c }' >>"$OUT/$name"
		say "$name: $(tail -1 "$OUT/$name" | awk '{ printf "ratio %s (%s/s, ceiling %s); CPU per statement us: server %s, redis %s, wrk %s", $1, $5, $6, $2, $3, $4 }')"
		sleep 2
	done
}

run_page() {
	local name=$1 r hport page line
	$PY "$HERE/presign.py" --keys "$WORK/keys" --prefix S --lanes 1 --chains 10 --length 10 \
		--batch 1000 --out "$WORK/data/small" >/dev/null
	$PY "$HERE/post.py" "127.0.0.1:$SPORT" "$WORK/data/small.0" >/dev/null
	# a page is kept only once its verdict is final: a checkpoint over
	# every leaf first (the warm-up below covers the index statement)
	wait_integrated
	hport=$(free_port)
	"$BIN/hello" "127.0.0.1:$hport" 128 &
	PIDS+=($!)
	page="$URL/01/$GTIN/10/S0x3"
	for _ in $(seq 100); do curl -sf -o /dev/null "$page" && break; sleep 0.1; done
	curl -sf -o /dev/null "$page" || die "the lot page did not answer"
	# warm-up, not counted: the first renders, the verdict's fold
	wrk -t "$CORES" -c 64 -d 2s "$page" >/dev/null
	wrk -t "$CORES" -c 64 -d 2s "http://127.0.0.1:$hport/" >/dev/null
	for r in $(seq "$ROUNDS"); do
		for what in hello page; do
			if [ "$what" = hello ]; then u="http://127.0.0.1:$hport/"; else u=$page; fi
			line=$(wrk -t "$CORES" -c 64 -d "${DURATION}s" --timeout 10s --latency \
				-s "$HERE/report.lua" "$u" | grep '^BENCH')
			case "$line" in *errors=0*) ;; *) die "$what: errors during wrk: $line" ;; esac
			sed -E 's/.*rps=([0-9.]+) p50=([0-9.]+) p99=([0-9.]+).*/\1 \2 \3/' <<<"$line" \
				>>"$OUT/$name-$what"
			say "$name $what: $line"
		done
	done
}

for pair in $(seq "$PAIRS"); do
	for side in A B; do
		if [ "$side" = A ]; then build=$A; else build=$B; fi
		say "pair $pair, $side ($build)"
		start "$build"
		"run_$MODE" "$side"
		stop_servers
	done
done

med() { cut -d' ' -f"$2" "$OUT/$1" | median; }
echo
if [ "$MODE" = single ]; then
	echo "| build | single posts vs ceiling | trace-server us/statement | redis-server us | wrk us | rounds |"
	echo "|---|---|---|---|---|---|"
	for side in A B; do
		if [ "$side" = A ]; then build=$A; else build=$B; fi
		echo "| $side $build | $(med "$side" 1) | $(med "$side" 2) | $(med "$side" 3) | $(med "$side" 4) | $(wc -l <"$OUT/$side") |"
	done
else
	echo "| build | lot page req/s | p50 ms | p99 ms | hello-world req/s | p99 ms | rounds |"
	echo "|---|---|---|---|---|---|---|"
	for side in A B; do
		if [ "$side" = A ]; then build=$A; else build=$B; fi
		echo "| $side $build | $(med "$side-page" 1) | $(med "$side-page" 2) | $(med "$side-page" 3) | $(med "$side-hello" 1) | $(med "$side-hello" 3) | $(wc -l <"$OUT/$side-page") |"
	done
fi
echo "(medians of every round; each round's figures are above, on stderr)"
