#!/usr/bin/env bash
# run.sh BUILD - the deployment suite: the production topology from deploy/
# (3 redis-servers, 3 Sentinels, 2 trace-servers, nginx with TLS) on
# loopback, a Redis primary killed under load, a backup restored.  Prints
# "N passed, N failed"; bounded to 4 minutes.
set -u
build=${1:-build}
cd "$(dirname "$0")"
export TRACE_BUILD=$(cd "../../$build" && pwd)
for tool in nginx openssl redis-server redis-cli redis-check-rdb; do
	command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "deploy: $tool is missing (deploy/install-deps.sh --test)"
		echo "deploy: 0 passed, 1 failed"
		exit 1
	fi
done
log=/tmp/trace-deploy-$$.log
timeout -k 10 240 /usr/bin/python3 -u test_ha.py "$TRACE_BUILD" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if ! grep -q '^deploy: [0-9]* passed, [0-9]* failed' "$log"; then
	echo "deploy: 0 passed, 1 failed (the suite did not finish: exit $rc)"
	rc=1
fi
rm -f "$log"
exit "$rc"
