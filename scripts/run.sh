#!/usr/bin/env bash
# scripts/run.sh - install what is missing, build, and run the pitwall stack under
# supervisor, with pw-sim emulating a game on every feed.
#
#   scripts/run.sh            start (foreground; Ctrl-C stops everything)
#   scripts/run.sh --no-sim   start for real games: no emulators, feeds listen on $PITWALL_LISTEN
#   scripts/run.sh status     supervisor's view of the processes, then pwctl feeds
#   scripts/run.sh stop       stop a stack started from another terminal
#
# Configuration comes from the PITWALL_* environment (see README). The supervisor
# configuration is generated from scripts/supervisord.conf.in into $PITWALL_RUN_DIR.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
INSTANCE=${PITWALL_INSTANCE:-default}
RUN_DIR=${PITWALL_RUN_DIR:-/tmp/pitwall-$INSTANCE}
CONF=$RUN_DIR/supervisord.conf
CTL() { supervisorctl -c "$CONF" "$@"; }

case ${1:-start} in
status)
	CTL status || true
	exec "$ROOT/build/bin/pwctl" --instance "$INSTANCE" feeds
	;;
stop)
	CTL shutdown
	exit 0
	;;
start | --no-sim) ;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
SIM=1
[ "${1:-}" = --no-sim ] && SIM=0

scripts/install-deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
mkdir -p "$RUN_DIR/logs"
if [ -S "$RUN_DIR/supervisor.sock" ] && CTL status >/dev/null 2>&1; then
	echo "run.sh: a stack already runs for instance '$INSTANCE' (scripts/run.sh stop)" >&2
	exit 1
fi

# the effective configuration, from the one table (common/config.c, README "Configuration"):
# defaults and seed fallbacks applied, a malformed value stops here with its error
CONFIG=$("$ROOT/build/bin/pwctl" config) || exit 2
cfg() { sed -n "s/^$1=//p" <<<"$CONFIG"; }
FEEDS=$(cfg PITWALL_FEEDS)
GAME_HOST=$(cfg PITWALL_GAME_HOST)
LISTEN=$(cfg PITWALL_LISTEN)
API=$(cfg PITWALL_API_HOST):$(cfg PITWALL_API_PORT)
WS_PORT=$(cfg PITWALL_WS_PORT)
[ "$SIM" = 1 ] && LISTEN=127.0.0.1 # emulators run here: nothing needs to reach us from outside

program() { # name priority command
	cat <<EOT

[program:$1]
command=$3
priority=$2
autorestart=true
startsecs=1
startretries=1000
stopsignal=TERM
stopwaitsecs=5
redirect_stderr=true
stdout_logfile=$RUN_DIR/logs/$1.log
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=3
EOT
}

{
	sed -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@INSTANCE@|$INSTANCE|g" scripts/supervisord.conf.in
	# the hub: attaches to every feed's ring (captures may start before or after it)
	program store 15 "$ROOT/build/bin/pw-store"
	# two stateless analysis workers (any number can run, on any machine)
	program analyze-1 16 "$ROOT/build/bin/pw-analyze"
	program analyze-2 16 "$ROOT/build/bin/pw-analyze"
	# REST, WebSocket stream and /metrics at http://$PITWALL_API_HOST:$PITWALL_API_PORT
	program api 17 "$ROOT/build/bin/pw-api"
	IFS=, read -r -a feeds <<<"$FEEDS"
	for entry in "${feeds[@]}"; do
		feed=${entry%%:*}
		port=${entry#*:}
		[ "$port" = "$entry" ] && port=""
		portopt=${port:+--port $port}
		program "capture-$feed" 10 "$ROOT/build/bin/pw-capture --feed $feed $portopt --bind $LISTEN --game-host $GAME_HOST"
		if [ "$SIM" = 1 ]; then
			# before the captures: AC and ACC captures handshake with it at once
			program "sim-$feed" 5 "$ROOT/build/bin/pw-sim --feed $feed $portopt --host 127.0.0.1 --rate 60 --mode laps --quiet"
		fi
	done
} >"$CONF"

supervisord -n -c "$CONF" >"$RUN_DIR/logs/supervisord.out" 2>&1 &
SUP=$!
trap 'echo; echo "stopping the stack..."; CTL shutdown >/dev/null 2>&1 || kill $SUP; wait $SUP 2>/dev/null; exit 0' INT TERM

# until every feed is up with a measured rate (or 15 s: a real game may not be running)
for _ in $(seq 75); do
	"$ROOT/build/bin/pwctl" --instance "$INSTANCE" feeds --json 2>/dev/null | python3 -c '
import json, sys
feeds = [f for f in json.load(sys.stdin) if f["pid"]]
sys.exit(0 if feeds and all(f["status"] == "up" and f["frames_per_s"] > 0 for f in feeds) else 1)' && break
	sleep 0.2
done
echo
"$ROOT/build/bin/pwctl" --instance "$INSTANCE" feeds
cat <<EOT

pitwall is running (instance '$INSTANCE'$([ "$SIM" = 1 ] && echo ", emulated games on every feed")).

  Open the dashboard: http://$API/

  REST API:           http://$API/api/live  (docs/api.md)
  WebSocket stream:   ws://$API/api/stream
  seed-004 clients:   ws://$API/ws$([ "$WS_PORT" != 0 ] && echo " and ws://$(cfg PITWALL_API_HOST):$WS_PORT/ws")  (docs/stream.md)
  live feed status:   build/bin/pwctl feeds --watch
  sessions and runs:  build/bin/pwctl session create general; build/bin/pwctl run start ID ksudp
  everything on the bus: build/bin/pwctl events
  latest frames:      build/bin/pwctl tail ksudp --count 3
  processes:          scripts/run.sh status
  logs:               $RUN_DIR/logs/
Ctrl-C (or scripts/run.sh stop) stops everything.
EOT
wait $SUP
