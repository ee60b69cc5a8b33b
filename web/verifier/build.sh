#!/bin/sh
# build.sh OUT ROOT_PUB LOG_VKEY POLICY SERVER [MAX_AGE] - write the
# standalone verifier (docs/PROTOCOL.md 10.4) into OUT: index.html,
# verifier.js, verifier.css, web/verify.js as it is (one verifier, not a
# fork), and config.json with the pinned keys and the default server.
# `make verifier` runs it; POLICY may be "" (no witness quorum).
#
#   ROOT_PUB  the root admin's public key file ({"public": "<base64>"}, a
#             .pub as trace-agent key writes it) or the base64 itself
#   LOG_VKEY  the log's verifier key (origin+hash+base64), or a file with it
#   POLICY    a C2SP tlog-policy file whose log line is LOG_VKEY
#   SERVER    the trace-server base URL read by default (?server= overrides)
set -eu
[ $# -ge 5 ] || { echo "usage: $0 OUT ROOT_PUB LOG_VKEY POLICY SERVER [MAX_AGE]" >&2; exit 2; }
out=$1 root=$2 vkey=$3 policy=$4 server=$5 age=${6:-3600}
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "make verifier: $*" >&2; exit 1; }

if [ -f "$root" ]; then
	root=$(tr -d '\n' < "$root" | sed -n 's/.*"public"[ ]*:[ ]*"\([A-Za-z0-9+/=]*\)".*/\1/p')
fi
printf '%s' "$root" | grep -Eq '^[A-Za-z0-9+/]{43}=$' ||
	die "ROOT_PUB: not an Ed25519 public key (a .pub file or 44 base64 characters)"
if [ -f "$vkey" ]; then
	vkey=$(tr -d ' \r\n' < "$vkey")
fi
printf '%s' "$vkey" | grep -Eq '^[^+ ]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]{1,2}$' ||
	die "LOG_VKEY: not a signed-note verifier key (origin+hash+base64)"
printf '%s' "$server" | grep -Eq '^https?://[^ "\\]+$' || die "SERVER: not an http(s) URL"
printf '%s' "$age" | grep -Eq '^[1-9][0-9]{0,8}$' || die "MAX_AGE: seconds"
policy_json=null
if [ -n "$policy" ]; then
	[ -f "$policy" ] || die "POLICY: no such file: $policy"
	grep -Eq "^log[ 	]+$(printf '%s' "$vkey" | sed 's/[+.]/\\&/g')([ 	]|\$)" "$policy" ||
		die "POLICY: its log line is not LOG_VKEY"
	# A JSON string: \ and " escaped, tabs and newlines written out.
	policy_json=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' "$policy" |
		awk 'BEGIN { printf "\"" } { printf "%s\\n", $0 } END { printf "\"" }')
fi
mkdir -p "$out"
cp "$here/index.html" "$here/verifier.js" "$here/verifier.css" "$here/../verify.js" "$out/"
cat > "$out/config.json.tmp" <<JSON
{"rootPublic": "$root",
 "logVkey": "$vkey",
 "policy": $policy_json,
 "server": "$server",
 "maxCheckpointAge": $age}
JSON
mv "$out/config.json.tmp" "$out/config.json"
echo "verifier written to $out (server $server)"
