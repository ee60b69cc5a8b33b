# bench/common.sh - what bench/run.sh and bench/ab.sh share: the tools
# they need, free ports, medians, building the two baselines, a private
# redis-server plus trace-server with one org and a key per role, and
# waiting for the log.  Sourced, not run.  The caller sets PY, HERE and
# PIDS (pids to stop) and defines die.

check_tools() {
	local tool
	for tool in wrk redis-server redis-cli curl cc; do
		command -v "$tool" >/dev/null || die "$tool is missing (deploy/install-deps.sh --bench)"
	done
	$PY -c 'import nacl.signing' 2>/dev/null || die "python3-nacl is missing"
}

# check_build BUILD: the server, the agent and libtrace.a are built there
check_build() {
	[ -x "$1/trace-server" ] && [ -x "$1/trace-agent" ] && [ -f "$1/libtrace.a" ] ||
		die "build first: make BUILD=$1"
}

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# build_baselines BUILD BIN: bench/hello.c and bench/verify_rate.c into BIN
build_baselines() {
	local cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Werror -I$HERE/.."
	mkdir -p "$2"
	cc $cflags -o "$2/hello" "$HERE/hello.c" -lcivetweb -lpthread
	cc $cflags $(pkg-config --cflags libgcrypt libsodium) -o "$2/verify_rate" \
		"$HERE/verify_rate.c" "$1/libtrace.a" \
		$(pkg-config --libs libgcrypt gpg-error libsodium) -lpthread
}

# start_servers BUILD WORK THREADS: redis-server (AOF, appendfsync always)
# and trace-server on free loopback ports, keys in WORK/keys, org "bench"
# owning every GTIN with a key enrolled per role.  Sets RPORT, RCLI, AGENT,
# SPORT, URL and SERVER_PID.
start_servers() {
	local build=$1 work=$2 threads=$3 every=() d name role
	mkdir -p "$work/redis" "$work/keys" "$work/queue" "$work/data"
	RPORT=$(free_port)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync always --dir "$work/redis" --logfile "$work/redis.log" &
	PIDS+=($!)
	RCLI=(redis-cli -p "$RPORT")
	for _ in $(seq 50); do "${RCLI[@]}" ping >/dev/null 2>&1 && break; sleep 0.1; done
	AGENT=("$build/trace-agent" --queue "$work/queue")
	for name in root log brand inspector logistics customs warehouse; do
		"${AGENT[@]}" key gen --name "$name" --out "$work/keys" >/dev/null 2>&1
	done
	SPORT=$(free_port)
	URL="http://127.0.0.1:$SPORT"
	"$build/trace-server" --listen "127.0.0.1:$SPORT" --redis "redis://127.0.0.1:$RPORT" \
		--root-key "$work/keys/root.pub" --log-key "$work/keys/log.key" \
		--log-state "$work/log-state" --log-origin bench/log --public-url "$URL" \
		--threads "$threads" 2>"$work/server.log" &
	SERVER_PID=$!
	PIDS+=($SERVER_PID)
	for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	curl -sf "$URL/readyz" >/dev/null || die "trace-server did not start: $(tail -3 "$work/server.log")"
	# One org for every bench key (SPEC 8: enrollments name a registered
	# org), owning every GTIN: prefixes 0-9.
	for d in 0 1 2 3 4 5 6 7 8 9; do every+=(--gtin-prefix "$d"); done
	"${AGENT[@]}" --server "$URL" key org --admin "$work/keys/root.key" --org bench \
		--name-zh "基准测试" --name-en "Bench" --role brand --role inspector \
		--role logistics --role customs --role warehouse "${every[@]}" >/dev/null
	for role in brand inspector logistics customs warehouse; do
		"${AGENT[@]}" --server "$URL" key enroll --admin "$work/keys/root.key" \
			--pub "$work/keys/$role.pub" --role "$role" --org bench \
			"${every[@]}" >/dev/null
	done
}

log_size() { curl -sf "$URL/api/v1/checkpoint" | sed -n 2p; }
# leaves assigned (accepted statements), straight from the store's counter
assigned_size() { "${RCLI[@]}" get 'log:{log}:size'; }

# Wait until the checkpoint covers every assigned leaf (bounded: 300 s).
wait_integrated() {
	local want; want=$(assigned_size)
	for _ in $(seq 3000); do
		[ "$(log_size)" -ge "$want" ] 2>/dev/null && return 0
		sleep 0.1
	done
	die "the log did not integrate $want leaves in 300 s"
}
