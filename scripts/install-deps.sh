#!/bin/sh
# scripts/install-deps.sh - install what pitwall needs on Debian, idempotently:
# does nothing (and needs no network) when every package is already present.
#   Debian packages: the C toolchain and libraries, supervisor, Node.js and npm,
#   chromium (the dashboard's tests drive it headless).
#   npm packages: `npm ci` in each folder with a package-lock.json - tests/js (the
#   readers the test suite checks exports with: hyparquet, DuckDB), api/www (the
#   dashboard's uPlot), tests/browser (playwright-core) - again only when the lock
#   file changed since the last install.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKGS="build-essential pkg-config libzmq3-dev libjansson-dev libcivetweb-dev libzstd-dev zlib1g-dev supervisor clang \
clang-format procps iproute2 python3 python3-jsonschema nodejs curl chromium fonts-dejavu-core"
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
for dir in tests/js api/www tests/browser; do
	d=$ROOT/$dir
	[ -f "$d/package-lock.json" ] || continue
	if cmp -s "$d/package-lock.json" "$d/node_modules/.pitwall-lock" 2>/dev/null; then
		echo "install-deps: $dir packages present"
		continue
	fi
	echo "install-deps: npm ci in $dir"
	(cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$d/package-lock.json" "$d/node_modules/.pitwall-lock"
done
