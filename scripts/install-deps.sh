#!/bin/sh
# scripts/install-deps.sh - install what pitwall needs on Debian, idempotently:
# does nothing (and needs no network) when every package is already present.
set -eu
PKGS="build-essential pkg-config libzmq3-dev libjansson-dev libcivetweb-dev libzstd-dev supervisor clang \
clang-format procps iproute2 python3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing - run as root (or: sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
