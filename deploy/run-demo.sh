#!/usr/bin/env bash
# run-demo.sh BUILD - what `make run` does: start a private redis-server
# (AOF on, appendfsync always, data in var/redis, a unix socket) and
# trace-server on 127.0.0.1:8080 (TRACE_LISTEN to change), make a demo trust
# root and log key if absent (var/demo/keys, git-ignored), seed a demo and
# print what to open.  Ctrl-C stops both.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
var=$top/var
keys=$var/demo/keys
listen=${TRACE_LISTEN:-127.0.0.1:8080}
public_url=${TRACE_PUBLIC_URL:-http://$listen}
mkdir -p "$var/redis" "$keys"
chmod 700 "$var/demo" "$keys"

sock=$var/redis/redis.sock
# A demo Redis without data (first run, or var/redis removed) starts a new
# log.  The signer's mark of the old one would refuse every new tree (SPEC
# 9), so it is moved aside, not deleted: the demo log restarts knowingly.
state=$var/demo/log-state
if [ ! -d "$var/redis/appendonlydir" ] && [ -f "$state/checkpoint" ]; then
	old=$state.old-$(date +%Y%m%dT%H%M%S)
	mv "$state" "$old"
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

for name in root log; do
	[ -f "$keys/$name.key" ] || "$build/trace-agent" key gen --name "$name" --out "$keys" >/dev/null
done

# The signer's high-water mark (SPEC 9, --log-state).  A demo Redis from
# before --log-state existed already holds a log: the first start with a
# state directory adopts its checkpoint (--log-state-init), later starts
# check against the directory.
state_init=()
[ -f "$state/checkpoint" ] || state_init=(--log-state-init)

"$build/trace-server" --listen "$listen" --redis "unix:$sock" \
	--root-key "$keys/root.pub" --log-key "$keys/log.key" \
	--log-state "$state" "${state_init[@]}" \
	--log-origin "${TRACE_LOG_ORIGIN:-trace.demo/log}" --public-url "$public_url" \
	2> >(tee -a "$var/trace-server.log" >&2) &
server_pid=$!

stop() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
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

Trace is running (Ctrl-C stops trace-server and redis-server).
  server        http://$listen/healthz  /readyz  /metrics
  API           http://$listen/api/v1/keys
  trust anchor  $keys/root.pub   (demo root admin; its .key signs enrollments)
  data          $var/redis (AOF, appendfsync always)

MSG
wait "$server_pid"
