#!/usr/bin/env bash
# restore.sh [--force] BACKUP.rdb DATADIR - turn a backup.sh file into the
# data directory of a stopped Redis configured with deploy/redis.conf
# (AOF on, appendonlydir under DATADIR).
#
# A Redis with `appendonly yes` and no AOF starts empty: it does not read a
# dump.rdb.  So the backup is loaded by a private redis-server (AOF off,
# no TCP port, a unix socket in a temporary folder), which then switches
# the AOF on (an AOF rewrite writes the data as the AOF's base file) and
# shuts down.  Start the real Redis on DATADIR afterwards, as a primary;
# replicas resynchronise from it.
#
# --force: DATADIR may hold data already (it is moved to DATADIR.old-DATE).
set -euo pipefail
force=0
[ "${1:-}" = --force ] && { force=1; shift; }
[ $# -eq 2 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
backup=$1; data=$2
[ -f "$backup" ] || { echo "restore.sh: no such file $backup" >&2; exit 1; }
if [ -f "$backup.sha256" ]; then
	(cd "$(dirname "$backup")" && sha256sum --quiet -c "$(basename "$backup").sha256") ||
		{ echo "restore.sh: $backup does not match its .sha256" >&2; exit 1; }
fi
redis-check-rdb "$backup" >/dev/null || { echo "restore.sh: $backup is not a valid RDB" >&2; exit 1; }
if [ -e "$data/appendonlydir" ] || [ -e "$data/dump.rdb" ]; then
	[ $force = 1 ] || { echo "restore.sh: $data holds data; --force moves it aside" >&2; exit 1; }
	mv "$data" "$data.old-$(date -u +%Y%m%dT%H%M%SZ)"
fi
mkdir -p "$data"
cp "$backup" "$data/dump.rdb"

work=$(mktemp -d)
sock=$work/redis.sock
cleanup() {
	if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$data" \
	--dbfilename dump.rdb --appendonly no --save "" --daemonize no \
	--logfile "$work/redis.log" &
pid=$!
cli=(redis-cli -s "$sock")
for _ in $(seq 600); do
	[ "$("${cli[@]}" ping 2>/dev/null)" = PONG ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/redis.log" >&2; exit 1; }
	sleep 0.1
done
keys=$("${cli[@]}" dbsize)
"${cli[@]}" config set appendonly yes >/dev/null
# Wait for the rewrite that creates the AOF base file.
for _ in $(seq 3000); do
	info=$("${cli[@]}" info persistence | tr -d '\r')
	case "$info" in
	*aof_rewrite_in_progress:0*) case "$info" in
		*aof_rewrite_scheduled:0*) case "$info" in *aof_enabled:1*) break ;; esac ;; esac ;;
	esac
	sleep 0.1
done
grep -q 'aof_last_bgrewrite_status:ok' <<<"$info" || { echo "restore.sh: AOF rewrite failed" >&2; cat "$work/redis.log" >&2; exit 1; }
"${cli[@]}" shutdown >/dev/null 2>&1 || true
wait "$pid" || true
pid=
rm -f "$data/dump.rdb"
[ -f "$data/appendonlydir/appendonly.aof.manifest" ] || { echo "restore.sh: no AOF manifest written" >&2; exit 1; }
# Under systemd Redis runs as trace-redis (deploy/systemd/trace-redis.service).
if [ "$(id -u)" = 0 ] && id trace-redis >/dev/null 2>&1; then
	chown -R trace-redis:trace-redis "$data"
fi
echo "restore.sh: $keys keys from $backup into $data/appendonlydir"
