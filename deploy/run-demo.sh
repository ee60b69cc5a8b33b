#!/usr/bin/env bash
# run-demo.sh BUILD - what `make run` does: start a private redis-server
# (AOF on, appendfsync always, data in var/redis, a unix socket), two demo
# witnesses (trace-witness "Weihai Customs" on 127.0.0.1:8091 and "CCIC
# Korea" on 127.0.0.1:8092, TRACE_WITNESS_PORTS="P1 P2" to change) and
# trace-server on 127.0.0.1:8080 (TRACE_LISTEN to change) with a witness
# policy requiring both; make a demo trust root, log key and witness keys
# if absent (var/demo/keys, git-ignored; TRACE_DEMO_VAR moves var/),
# seed a demo and print what to open.  Ctrl-C stops them all.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# TRACE_DEMO_VAR: where the demo keeps its data (var/; the tests use a
# temporary folder).
var=${TRACE_DEMO_VAR:-$top/var}
keys=$var/demo/keys
listen=${TRACE_LISTEN:-127.0.0.1:8080}
public_url=${TRACE_PUBLIC_URL:-http://$listen}
mkdir -p "$var/redis" "$keys"
chmod 700 "$var/demo" "$keys"

sock=$var/redis/redis.sock
# A demo Redis without data (first run, or var/redis removed) starts a new
# log.  The signer's mark of the old one would refuse every new tree (SPEC
# 9), so it is moved aside, not deleted: the demo log restarts knowingly.
# The demo witnesses remember the old log's tree too and would rightly
# refuse the new one as a fork: their state moves aside with it.
state=$var/demo/log-state
witnesses=(weihai-customs ccic-korea)
if [ ! -d "$var/redis/appendonlydir" ] && [ -f "$state/checkpoint" ]; then
	stamp=$(date +%Y%m%dT%H%M%S)
	old=$state.old-$stamp
	mv "$state" "$old"
	for w in "${witnesses[@]}"; do
		[ -d "$var/demo/witness-$w" ] && mv "$var/demo/witness-$w" "$var/demo/witness-$w.old-$stamp"
	done
	echo "run-demo: new Redis data, so a new demo log; the old log's mark is in $old"
fi
if ! redis-cli -s "$sock" ping >/dev/null 2>&1; then
	redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 \
		--dir "$var/redis" --appendonly yes --appendfsync always \
		--save "" --daemonize no --logfile "$var/redis/redis.log" &
	redis_pid=$!
	for _ in $(seq 50); do
		redis-cli -s "$sock" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
else
	redis_pid=
	echo "run-demo: using the redis-server already on $sock"
fi

for name in root log "${witnesses[@]}"; do
	[ -f "$keys/$name.key" ] || "$build/trace-agent" key gen --name "$name" --out "$keys" >/dev/null
done
origin=${TRACE_LOG_ORIGIN:-trace.demo/log}
log_vkey=$("$build/trace-server" --log-key "$keys/log.key" --log-origin "$origin" --print-log-vkey)

# Two witnesses (SPEC 9): key names are URLs, display names are the demo's
# configuration.  A quorum of both: a checkpoint is published only when
# both cosigned it.
read -r -a wports <<< "${TRACE_WITNESS_PORTS:-8091 8092}"
declare -A display=([weihai-customs]="Weihai Customs" [ccic-korea]="CCIC Korea")
policy=$var/demo/witnesses.policy
witness_pids=()
{
	echo "# written by deploy/run-demo.sh: the demo log and its two witnesses"
	echo "log $log_vkey"
} > "$policy"
for i in 0 1; do
	w=${witnesses[$i]}
	wname=witness.$w.demo/trace
	wvkey=$("$build/trace-witness" --key "$keys/$w.key" --name "$wname" --print-vkey)
	echo "witness $w $wvkey http://127.0.0.1:${wports[$i]}" >> "$policy"
	"$build/trace-witness" --listen "127.0.0.1:${wports[$i]}" --key "$keys/$w.key" \
		--name "$wname" --state "$var/demo/witness-$w" --log "$log_vkey" \
		2> >(tee -a "$var/trace-witness-$w.log" >&2) &
	witness_pids+=($!)
done
echo "group both all ${witnesses[*]}" >> "$policy"
echo "quorum both" >> "$policy"

# The signer's high-water mark (SPEC 9, --log-state).  A demo Redis from
# before --log-state existed already holds a log: the first start with a
# state directory adopts its checkpoint (--log-state-init), later starts
# check against the directory.
state_init=()
[ -f "$state/checkpoint" ] || state_init=(--log-state-init)

# SPEC 12: the key under which Redis keeps scratch-off code hashes, in a
# file only this user can read (trace-server refuses any other).
pepper=$var/demo/code-pepper
mkdir -p "$var/demo"
[ -f "$pepper" ] || (umask 077 && head -c 32 /dev/urandom > "$pepper")
"$build/trace-server" --listen "$listen" --redis "unix:$sock" --code-pepper "$pepper" \
	--root-key "$keys/root.pub" --log-key "$keys/log.key" \
	--log-state "$state" "${state_init[@]}" --witness-policy "$policy" \
	--witness-display "weihai-customs=${display[weihai-customs]}" \
	--witness-display "ccic-korea=${display[ccic-korea]}" \
	--log-origin "$origin" --public-url "$public_url" \
	2> >(tee -a "$var/trace-server.log" >&2) &
server_pid=$!

stop() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	for pid in "${witness_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for _ in $(seq 100); do
	curl -fsS "http://$listen/readyz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || { echo "run-demo: trace-server exited" >&2; exit 1; }
	sleep 0.1
done

if [ -x deploy/seed-demo.sh ]; then
	deploy/seed-demo.sh "$build" "http://$listen" "$keys" "$keys/root.key"
fi

cat <<MSG

Trace is running (Ctrl-C stops trace-server, the witnesses and redis-server).
  server        http://$listen/healthz  /readyz  /metrics
  API           http://$listen/api/v1/keys
  checkpoint    http://$listen/api/v1/checkpoint  (cosigned by both witnesses)
  witnesses     ${display[${witnesses[0]}]}  http://127.0.0.1:${wports[0]}/
                ${display[${witnesses[1]}]}  http://127.0.0.1:${wports[1]}/
  policy        $policy  (trace-agent verify --policy)
  trust anchor  $keys/root.pub   (demo root admin; its .key signs enrollments)
  data          $var/redis (AOF, appendfsync always)

MSG
wait "$server_pid"
