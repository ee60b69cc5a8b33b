#!/usr/bin/env bash
# make-secrets.sh OUTDIR - make the Redis passwords of a Trace deployment and
# the files that carry them, in OUTDIR (created, mode 0700):
#
#   users.acl             -> /etc/trace/redis/users.acl on every Redis host
#                            (from deploy/redis-users.acl: SHA-256 hashes only)
#   redis-secrets.conf    -> /etc/trace/redis/secrets.conf on every Redis host
#                            (masterauth: a replica's password to the primary)
#   sentinel-auth.conf    -> append to /etc/trace/sentinel/sentinel.conf
#   trace-redis-password  the `trace` user's password, for TRACE_REDIS
#   backup-password       for deploy/backup.sh (--pass-file)
#   admin-password        for people: redis-cli --user admin --askpass
#   code-pepper           32 random bytes -> /etc/trace/code-pepper (0600, the
#                         service user) on every trace-server host, the same
#                         on all: the key of the scratch-off code MACs (SPEC 12)
#
# Passwords are 64 hex digits from /dev/urandom: no character needs quoting
# in a URL, a config file or a shell.  Run it once, on an admin machine;
# copy the files over SSH; keep OUTDIR offline or delete it.
set -euo pipefail
out=${1:?usage: make-secrets.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
umask 077
mkdir -p "$out"
[ -e "$out/users.acl" ] && { echo "make-secrets.sh: $out/users.acl exists; refusing to overwrite" >&2; exit 1; }

password() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

trace=$(password); replica=$(password); sentinel=$(password)
backup=$(password); admin=$(password)

grep '^user ' "$here/redis-users.acl" | sed \
	-e "s/@TRACE_SHA256@/$(sha "$trace")/" \
	-e "s/@REPLICA_SHA256@/$(sha "$replica")/" \
	-e "s/@SENTINEL_SHA256@/$(sha "$sentinel")/" \
	-e "s/@BACKUP_SHA256@/$(sha "$backup")/" \
	-e "s/@ADMIN_SHA256@/$(sha "$admin")/" > "$out/users.acl"
printf 'masterauth %s\n' "$replica" > "$out/redis-secrets.conf"
printf 'sentinel auth-pass trace %s\n' "$sentinel" > "$out/sentinel-auth.conf"
printf '%s\n' "$trace" > "$out/trace-redis-password"
printf '%s\n' "$backup" > "$out/backup-password"
printf '%s\n' "$admin" > "$out/admin-password"
head -c 32 /dev/urandom > "$out/code-pepper"
echo "make-secrets.sh: wrote $out (users.acl, redis-secrets.conf, sentinel-auth.conf, passwords, code-pepper)"
