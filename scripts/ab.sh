#!/usr/bin/env bash
# Two builds side by side, alternating round by round, on the shared bench's
# Go mock: wrk -t2 -c64 for 5 s (req/s and the proxy's CPU per request, from
# /proc/PID/stat) and a burst of 200 streams (TTFB p50). Both processes run
# the whole time, so each round measures warm processes in the same minutes;
# the VM's noise shows as the spread between rounds.
#
#   scripts/ab.sh NEW_BINARY OLD_BINARY [ROUNDS]
#   APP=1 scripts/ab.sh …      # NEW gets an app token with limits (RPM=0 for none), OLD the seed token
#   ROUTE_NO_CLIENT_APPS=1 scripts/ab.sh …   # without the lookup of the program behind each connection
#
# Needs the bench's tools: run ../shared/bench/run.sh once (it builds them
# into $BENCH_OUT/bin, default /tmp/route-bench/bin). Everything listens on
# 127.0.0.1 and is stopped by its PID.
set -uo pipefail
new=$(realpath "$1") old=$(realpath "$2") rounds=${3:-6}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BENCH_OUT:-/tmp/route-bench}/bin
lua=${BENCH_LUA:-$here/../shared/bench/lua/chat.lua}
[[ -x $bin/mock && -x $bin/loadgen && -f $lua ]] || { echo "run ../shared/bench/run.sh once first" >&2; exit 2; }
work=$(mktemp -d)
trap 'for p in $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mock_port=$(free_port)
"$bin/mock" -addr "127.0.0.1:$mock_port" -name bench >"$work/mock.log" 2>&1 &
echo $! >>"$work/pids"

# Starts BINARY on a fresh database; prints its port. Its key is in $work/PORT.key.
start() {
    local binary=$1 port db
    port=$(free_port) db="$work/$port.sqlite"
    "$binary" -database "$db" -add -sk sk-bench-route -endpoint "http://127.0.0.1:$mock_port/v1" >/dev/null 2>&1
    echo sk-bench-client >"$work/$port.key"
    if [[ ${APP:-0} == 1 && $binary == "$new" ]]; then
        "$binary" -database "$db" -token-add bench 2>/dev/null >"$work/$port.key"
        sqlite3 "$db" "UPDATE client_tokens SET rpm=${RPM:-100000000}, daily_token_limit=100000000000, monthly_budget_usd=1000000"
    fi
    QT_QPA_PLATFORM=offscreen "$binary" --no-gui -addr "127.0.0.1:$port" -database "$db" -auth sk-bench-client \
        >"$work/$port.log" 2>&1 &
    echo "$!" >>"$work/pids"
    echo "$!" >"$work/$port.pid"
    echo "$port"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One measurement of the proxy on PORT: "REQ/S rps CPU us/req ttfb P50".
measure() {
    local port=$1 pid before after out requests rps ttfb
    pid=$(cat "$work/$port.pid")
    before=$(cpu_ticks "$pid")
    out=$(WRK_KEY=$(cat "$work/$port.key") wrk -t2 -c64 -d5s -s "$lua" "http://127.0.0.1:$port/v1/chat/completions" 2>/dev/null)
    after=$(cpu_ticks "$pid")
    requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
    rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
    ttfb=$("$bin/loadgen" -mode stream -url "http://127.0.0.1:$port/v1" -c 200 -n 200 -events 20 -gap 50ms \
        -key "$(cat "$work/$port.key")" 2>/dev/null | python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["ttfb_ms"]["p50"])')
    echo "$rps rps $(((after - before) * 10000000 / requests / 1000)) us/req ttfb $ttfb"
}

new_port=$(start "$new")
old_port=$(start "$old")
sleep 1.5
for i in $(seq "$rounds"); do
    if ((i % 2)); then a=$(measure "$new_port"); b=$(measure "$old_port"); else b=$(measure "$old_port"); a=$(measure "$new_port"); fi
    echo "round $i: new $a | old $b"
done | tee "$work/rounds"
awk '{n += $4; nc += $6; nt += $9; o += $12; oc += $14; ot += $17; k++}
    END {printf "mean: new %.0f req/s %.1f us/req ttfb %.1f ms | old %.0f req/s %.1f us/req ttfb %.1f ms\n", n/k, nc/k, nt/k, o/k, oc/k, ot/k}' "$work/rounds"
