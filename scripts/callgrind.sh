#!/usr/bin/env bash
# Instructions per proxied chat request, counted by callgrind: the difference
# between a run of HIGH and one of LOW keep-alive requests through one worker,
# divided by HIGH-LOW, so start-up and shutdown cancel out. Every thread is
# counted, the store thread's record inserts included. Unlike req/s on a
# shared VM, this repeats to within about 1 %.
#
#   scripts/callgrind.sh [BINARY]          # default build/app/openai-api-route
#   APP=1 scripts/callgrind.sh             # with an app token instead of the seed token
#   LOW=200 HIGH=1200 scripts/callgrind.sh
#   KEEP=/tmp/cg scripts/callgrind.sh      # keep the callgrind files for callgrind_annotate
#
# Everything listens on 127.0.0.1 and is stopped by its PID.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$here/build/app/openai-api-route}")
fake=${FAKE:-$here/build/tests/route-fake-upstream}
low=${LOW:-200}
high=${HIGH:-1200}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$fake" >"$work/fake.out" &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/fake.out" && break; sleep 0.1; done
upstream_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/fake.out")

# One request loop for both runs: keep-alive, one connection, each answer read whole.
cat >"$work/load.py" <<'EOF'
import http.client, json, sys, time
port, token, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say five words."}]})
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
for _ in range(600):  # wait for the proxy under valgrind to listen
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/v1/chat/completions", body, headers)
        r = c.getresponse(); r.read()
        if r.status == 200: break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the proxy never answered")
for _ in range(count):
    c.request("POST", "/v1/chat/completions", body, headers)
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit("status %d" % r.status)
EOF

# Instructions of one run of COUNT requests.
measure() {
    local count=$1 db="$work/db-$1.sqlite" port token
    port=$(free_port)
    "$bin" -database "$db" -add -sk sk-callgrind -endpoint "http://127.0.0.1:$upstream_port/v1" >/dev/null
    token=seed-token
    if [[ ${APP:-0} == 1 ]]; then
        token=$("$bin" -database "$db" -token-add callgrind 2>/dev/null | grep -o 'sk-route-[A-Za-z0-9_-]*' | head -1)
    fi
    ROUTE_WORKERS=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg-$count" \
        "$bin" -no-gui -database "$db" -addr "127.0.0.1:$port" -auth seed-token >"$work/out-$count.log" 2>&1 &
    local pid=$!
    python3 "$work/load.py" "$port" "$token" "$count"
    kill -TERM "$pid"
    wait "$pid" || true
    grep -h "^totals:" "$work/cg-$count"* | awk '{s += $2} END {print s}'
}

a=$(measure "$low")
b=$(measure "$high")
if [[ -n ${KEEP:-} ]]; then mkdir -p "$KEEP" && cp "$work"/cg-* "$KEEP"/; fi
echo "instructions per request: $(((b - a) / (high - low)))  ($low: $a, $high: $b)"
