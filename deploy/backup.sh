#!/usr/bin/env bash
# backup.sh [options] OUTDIR - take a consistent backup of Trace's Redis.
#
#   -h HOST          node to copy from (127.0.0.1); prefer a replica
#   -p PORT          its port (6379)
#   --user USER      ACL user allowed SYNC (backup)
#   --pass-file F    that user's password (make-secrets.sh: backup-password)
#   --keep N         keep the newest N backups in OUTDIR (14)
#
# Writes OUTDIR/trace-YYYYmmddTHHMMSSZ.rdb and its .sha256, checks it with
# redis-check-rdb, and prints the file name.  Refuses (exit 1) a replica
# whose link to its primary is down or which is still syncing.
#
# Why an RDB over the replication protocol (redis-cli --rdb) and not a copy
# of appendonlydir: the node forks and streams one point-in-time image of
# the whole dataset (Functions included), so the copy is consistent by
# construction.  Copying the AOF directory is consistent only while no
# rewrite replaces its files and between fsyncs, which a script cannot
# guarantee on a live node.  Taken from a replica, the primary's latency and
# disk are untouched.  What the backup misses is what was written after it:
# that is what replication and the AOF are for.
set -euo pipefail
host=127.0.0.1; port=6379; user=; pass_file=; keep=14
while [ $# -gt 1 ]; do
	case "$1" in
	-h) host=$2; shift 2 ;;
	-p) port=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--pass-file) pass_file=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) echo "backup.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
mkdir -p "$out"
cli=(redis-cli -h "$host" -p "$port" --no-auth-warning)
[ -n "$user" ] && cli+=(--user "$user")
# The password goes through the environment, never the command line.
[ -n "$pass_file" ] && export REDISCLI_AUTH="$(head -n1 "$pass_file")"

# A replica that has lost its primary, or is still loading a full copy of
# it, serves what it had: a backup of it would be silently stale.
info=$("${cli[@]}" INFO replication | tr -d '\r')
if grep -q '^role:slave' <<<"$info" &&
	! { grep -q '^master_link_status:up' <<<"$info" &&
	    grep -q '^master_sync_in_progress:0' <<<"$info"; }; then
	echo "backup.sh: $host:$port is a replica out of sync with its primary" \
		"($(grep -E '^master_(link_status|sync_in_progress):' <<<"$info" | tr '\n' ' '))" \
		"- back up another replica or wait" >&2
	exit 1
fi

name=trace-$(date -u +%Y%m%dT%H%M%SZ).rdb
tmp=$out/.$name.partial
trap 'rm -f "$tmp"' EXIT
"${cli[@]}" --rdb "$tmp" >&2
redis-check-rdb "$tmp" >/dev/null || { echo "backup.sh: redis-check-rdb rejected the copy" >&2; exit 1; }
sync "$tmp" 2>/dev/null || sync
mv "$tmp" "$out/$name"
(cd "$out" && sha256sum "$name" > "$name.sha256")
trap - EXIT

# Rotate: the newest $keep backups stay.
ls -1 "$out"/trace-*.rdb 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
	rm -f "$old" "$old.sha256"
done
echo "$out/$name"
