#!/usr/bin/env bash
# One model list for every client (SPEC §10), as a new user tries it: three
# fake upstreams with different catalogs, one reached directly, one through
# Debian's tinyproxy (HTTP CONNECT, with a password) and one through
# microsocks (SOCKS5, with a password). The official `openai` SDK's
# models.list() through the proxy must list their union and the aliases;
# a chat for each model must reach the upstream that serves it, and an
# alias must arrive under its upstream's name. The proxies' own logs show
# the tunnels; no password may appear in the proxy's output.
#
# Usage: tests/clients/models.sh BUILD_DIR (needs tinyproxy and microsocks:
# `apt-get install tinyproxy-bin microsocks`, as .ci/run does).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
for tool in tinyproxy microsocks; do
    command -v $tool >/dev/null || fail "$tool is missing: apt-get install tinyproxy-bin microsocks"
done

source "$here/install.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# Started in this shell, not in a $(…): their PIDs must reach the cleanup.
start_fake() { # NAME MODELS
    timeout 300 "$build/tests/route-fake-upstream" --models "$2" --name "$1" >"$work/fake-$1.out" 2>&1 & pids+=($!)
}
fake_port() { # NAME
    wait_for "$work/fake-$1.out" listening || return 1
    sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/fake-$1.out" | head -n 1
}
start_fake A gpt-4o,o3
start_fake B deepseek-chat,deepseek-reasoner
start_fake C llama3,qwen3
a=$(fake_port A) || fail "fake A did not start"
b=$(fake_port B) || fail "fake B did not start"
c=$(fake_port C) || fail "fake C did not start"

# ---- the outbound proxies, on loopback, with passwords
http_port=$(free_port)
cat >"$work/tinyproxy.conf" <<CONF
Port $http_port
Listen 127.0.0.1
Timeout 60
LogLevel Connect
BasicAuth alice tiny-s3cret
CONF
timeout 300 tinyproxy -d -c "$work/tinyproxy.conf" >"$work/tinyproxy.log" 2>&1 & pids+=($!)
socks_port=$(free_port)
timeout 300 microsocks -i 127.0.0.1 -p "$socks_port" -u bob -P socks-s3cret >"$work/microsocks.log" 2>&1 & pids+=($!)
sleep 0.5

# ---- the proxy, and the three upstreams through its admin API
bin=$build/app/openai-api-route
token=sk-route-models-test
db=$work/db.sqlite
timeout 300 "$bin" --no-gui -database "$db" -addr 127.0.0.1:0 -auth "$token" >"$work/route.out" 2>&1 & pids+=($!)
wait_for "$work/route.out" 'listening on' || fail "the proxy did not start"
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/route.out" | head -n 1)
admin() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
admin -X POST "http://127.0.0.1:$port/admin/upstreams" \
    -d "{\"Name\":\"A\",\"SK\":\"sk-a\",\"Endpoint\":\"http://127.0.0.1:$a/v1\"}" >/dev/null || fail "add A"
admin -X POST "http://127.0.0.1:$port/admin/upstreams" -d "{\"Name\":\"B\",\"SK\":\"sk-b\",\
\"Endpoint\":\"http://127.0.0.1:$b/v1\",\"Proxy\":\"http://alice:tiny-s3cret@127.0.0.1:$http_port\",\
\"ModelMap\":{\"chat\":\"deepseek-chat\"}}" >/dev/null || fail "add B"
admin -X POST "http://127.0.0.1:$port/admin/upstreams" -d "{\"Name\":\"C\",\"SK\":\"sk-c\",\
\"Endpoint\":\"http://127.0.0.1:$c/v1\",\"Proxy\":\"socks5://bob:socks-s3cret@127.0.0.1:$socks_port\",\
\"ModelMap\":{\"local/*\":\"*\"}}" >/dev/null || fail "add C"
# The catalogs are fetched in the background as the upstreams are added.
for _ in $(seq 1 50); do
    n=$(admin "http://127.0.0.1:$port/admin/upstreams" | python3 -c 'import json,sys; print(sum(1 for u in json.load(sys.stdin) if u["Models"]))')
    [[ $n == 3 ]] && break
    sleep 0.1
done
[[ $n == 3 ]] || fail "only $n of 3 catalogs arrived: $(admin "http://127.0.0.1:$port/admin/upstreams")"

# ---- the official SDK, as a chat app's model picker and its requests
(cd "$cache" && ROUTE_BASE="http://127.0.0.1:$port" ROUTE_TOKEN="$token" timeout 60 node models.mjs) >"$work/sdk.out" 2>&1 \
    || fail "the SDK"
cat "$work/sdk.out"

# ---- the tunnels went through the real proxies; no password left the proxy
grep -q "127.0.0.1:$b" "$work/tinyproxy.log" || fail "tinyproxy shows no tunnel to B"
[[ $(grep -c "request" "$work/fake-C.out") -ge 2 ]] || fail "C saw too few requests"
# microsocks logs nothing: a wrong password there must break C, and only C.
admin -X PUT "http://127.0.0.1:$port/admin/upstreams/3" \
    -d "{\"Proxy\":\"socks5://bob:wrong@127.0.0.1:$socks_port\"}" >/dev/null || fail "edit C"
chat() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$port/v1/chat/completions" -d "{\"model\":\"$1\",\"messages\":[]}"; }
[[ $(chat qwen3) == 502 ]] || fail "C answered with a wrong SOCKS5 password: not through microsocks"
[[ $(chat gpt-4o) == 200 ]] || fail "A stopped answering"
if grep -e tiny-s3cret -e socks-s3cret "$work/route.out"; then fail "a proxy password is in the log"; fi
if admin "http://127.0.0.1:$port/admin/upstreams" | grep -e tiny-s3cret -e socks-s3cret; then
    fail "a proxy password is in the admin API"
fi
echo "models: the union, the aliases and the routing work through tinyproxy and microsocks"
