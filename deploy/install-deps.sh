#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages Trace needs, only those
# missing.  Safe to rerun: when everything is present it only asks dpkg.
#
#   deploy/install-deps.sh          build and runtime packages
#   deploy/install-deps.sh --test   also what the test suite needs
#   deploy/install-deps.sh --bench  also what bench/ needs
#   deploy/install-deps.sh --check  exit 1 if anything is missing, install nothing
set -euo pipefail

build=(make gcc pkg-config libcivetweb-dev libhiredis-dev libyajl-dev
       libgcrypt20-dev libgpg-error-dev libsodium-dev libqrencode-dev libpng-dev libcurl4-openssl-dev
       redis-server curl)
test=(clang libclang-rt-14-dev python3 python3-nacl python3-redis zbar-tools
      librsvg2-bin chromium fonts-nanum fonts-wqy-microhei valgrind nginx openssl)
bench=(wrk hyperfine linux-perf python3 python3-nacl python3-redis)

want=("${build[@]}")
check=0
for arg in "$@"; do
	case "$arg" in
	--test) want+=("${test[@]}") ;;
	--bench) want+=("${bench[@]}") ;;
	--check) check=1 ;;
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (with npm inside); only ask
# Debian for it when there is no npm at all.
case " ${want[*]} " in
*" chromium "*) command -v npm >/dev/null 2>&1 || missing+=(nodejs npm) ;;
esac
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$check" = 1 ]; then
	echo "missing: ${missing[*]}"
	exit 1
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# An old or absent package list makes apt-get install fail; refresh once.
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
