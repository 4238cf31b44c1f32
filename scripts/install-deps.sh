#!/bin/sh
# scripts/install-deps.sh - install what pitwall needs on Debian, idempotently:
# does nothing (and needs no network) when every package is already present.
# Debian packages, then the npm packages the test suite reads exports with
# (tests/js: hyparquet, DuckDB; pinned in its package-lock.json, `npm ci`).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKGS="build-essential pkg-config libzmq3-dev libjansson-dev libcivetweb-dev libzstd-dev supervisor clang \
clang-format procps iproute2 python3 nodejs curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# Debian's nodejs needs Debian's npm; a NodeSource nodejs brings its own npm
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing:$missing - run as root (or: sudo $0)" >&2
		exit 1
	fi
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi
# npm ci again only when the lock file changed since the last install
js=$ROOT/tests/js
if [ ! -f "$js/node_modules/.package-lock.json" ] ||
	! cmp -s "$js/package-lock.json" "$js/node_modules/.pitwall-lock"; then
	echo "install-deps: npm ci in tests/js"
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$js/package-lock.json" "$js/node_modules/.pitwall-lock"
else
	echo "install-deps: tests/js packages present"
fi
