#!/usr/bin/env bash
# The project's own benchmark: wrk against the proxy and, for the floor,
# against the fake upstream directly. Everything on 127.0.0.1, bounded, and
# stopped by PID.
#   tests/bench/run.sh [SECONDS]     (default 10; the CTest smoke run uses 2)
# Needs wrk (apt-get install wrk) and a build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
build=${BUILD_DIR:-build}
bin=$build/app/openai-api-route
fake=$build/tests/route-fake-upstream
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[[ -x "$bin" && -x "$fake" ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

timeout $((seconds * 4 + 60)) "$fake" >"$work/fake.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q listening "$work/fake.out" && break; sleep 0.1; done
fake_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/fake.out" | head -n 1)

"$bin" -database "$work/db.sqlite" -add -sk sk-bench -endpoint "http://127.0.0.1:$fake_port/v1" >/dev/null
QT_LOGGING_RULES="route.requests.info=false" timeout $((seconds * 4 + 60)) \
    "$bin" --no-gui -database "$work/db.sqlite" -addr 127.0.0.1:0 -noauth >"$work/route.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q '/v1' "$work/route.out" && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*/v1' "$work/route.out" | head -n 1 | sed 's/127.0.0.1://; s#/v1##')
route_pid=$(pgrep -P "${pids[-1]}" || echo "${pids[-1]}")

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"Say hello in five words."}]}'
LUA

cpu_ticks() { awk '{print $14 + $15}' /proc/"$route_pid"/stat 2>/dev/null || echo 0; }

measure() { # name url
    local out line
    out=$(wrk -t2 -c64 -d"${seconds}s" -s "$work/post.lua" "$2/v1/chat/completions")
    line=$(awk '/Requests\/sec/{rps=$2} /Latency/{lat=$2} END{print rps, lat}' <<<"$out")
    printf '%-8s %10s req/s   mean latency %s\n' "$1" ${line}
    requests=$(awk '/requests in/{print $1}' <<<"$out")
}
echo "wrk -t2 -c64 -d${seconds}s, small JSON chat completion"
measure direct "http://127.0.0.1:$fake_port"
before=$(cpu_ticks)
measure proxy "http://127.0.0.1:$port"
after=$(cpu_ticks)
# CPU time per request repeats from run to run far better than req/s on a
# shared machine: the figure to compare changes by.
if [[ "${requests:-0}" -gt 0 ]]; then
    echo "proxy CPU per request: $(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests )) µs (user + system, all threads)"
fi

# One stream: the events must arrive as spaced as the upstream sent them.
start=$(date +%s%N)
events=$(curl -sN -d '{"model":"bench","stream":true}' "http://127.0.0.1:$port/v1/chat/completions" | grep -c '^data:' || true)
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "stream   $events events in ${elapsed} ms (upstream: 21 events over ~1000 ms)"
[[ "$events" == 21 ]] || { echo "stream incomplete" >&2; exit 1; }
echo "proxy peak RSS $(awk '/VmHWM/{print $2 / 1024 " MiB"}' /proc/"$route_pid"/status 2>/dev/null || echo '?')"
