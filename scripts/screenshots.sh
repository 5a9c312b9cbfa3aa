#!/usr/bin/env bash
# Screenshots of the desktop app under Xvfb with a tray host (trayer):
# the manager with upstreams, the tray menu, the add dialog, the request log
# with traffic, and the Chinese UI. Output: docs/screenshots/*.png
# Everything runs on 127.0.0.1, is bounded by `timeout`, and is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --gui-tools
command -v xdotool >/dev/null || { sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo); "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends xdotool; }
scripts/build.sh >/dev/null

bin=$PWD/${BUILD_DIR:-build}/app/openai-api-route
out=$PWD/docs/screenshots
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

display=:$((90 + RANDOM % 9))
timeout 300 Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY=$display XDG_RUNTIME_DIR=$work HOME=$work
sleep 1
timeout 300 trayer --edge top --align right --widthtype request --height 28 --transparent false --tint 0x303030 >/dev/null 2>&1 & pids+=($!)
sleep 1

# A fake upstream: python's http.server answering chat completions.
cat >"$work/fake.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps({"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 42000, "completion_tokens": 900, "total_tokens": 42900}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if not self.path.endswith("/models"):
            return self.do_POST()
        ids = ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "text-embedding-3-small"]
        body = json.dumps({"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
fake_port=$((20000 + RANDOM % 20000))
timeout 300 python3 "$work/fake.py" "$fake_port" & pids+=($!)
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$fake_port/v1/models" && break; sleep 0.1; done

shoot() { # name, language
    local name=$1 lang=$2 db=$work/$1.sqlite port=$((40000 + RANDOM % 20000))
    "$bin" -database "$db" -add -sk sk-proj-7Hq2examplekey4Fz9 -endpoint "http://127.0.0.1:$fake_port/v1" >/dev/null
    "$bin" -database "$db" -add -sk sk-or-v1-examplekey00c0ffee -endpoint http://127.0.0.1:9/v1 >/dev/null
    "$bin" -database "$db" -add -sk sk-ds-examplekey0000beef -endpoint "http://127.0.0.1:$fake_port/v1/" >/dev/null
    "$bin" -database "$db" -add -sk sk-ant-api03-examplekey0cafe -endpoint https://api.anthropic.com/v1 -format anthropic >/dev/null
    timeout 120 "$bin" -database "$db" -addr "127.0.0.1:$port" -auth demo-token -lang "$lang" >/dev/null 2>&1 & pids+=($!)
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    sleep 1
    # An alias and an outbound proxy (shown masked), as a user sets them.
    curl -s -o /dev/null -X PUT -H "Authorization: Bearer demo-token" -H "Content-Type: application/json" \
        -d '{"Name":"OpenAI","ModelMap":{"fast":"gpt-4o-mini"}}' "http://127.0.0.1:$port/admin/upstreams/1"
    curl -s -o /dev/null -X PUT -H "Authorization: Bearer demo-token" -H "Content-Type: application/json" \
        -d '{"Name":"OpenRouter","Proxy":"socks5://me:secret@127.0.0.1:1080","ModelMap":{"gpt-*":"openai/gpt-*"}}' \
        "http://127.0.0.1:$port/admin/upstreams/2"
    # Two app tokens with limits, as for two programs.
    agent=$(curl -s -X POST -H "Authorization: Bearer demo-token" -H "Content-Type: application/json" \
        -d '{"Name":"claude-code","RPM":60,"MonthlyBudgetUSD":20}' "http://127.0.0.1:$port/admin/tokens" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["Token"])')
    notebook=$(curl -s -X POST -H "Authorization: Bearer demo-token" -H "Content-Type: application/json" \
        -d '{"Name":"notebook","Allow":["gpt-4o-mini*"],"DailyTokenLimit":2000000}' "http://127.0.0.1:$port/admin/tokens" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["Token"])')
    sleep 1
    for i in $(seq 1 12); do
        model=gpt-4o-mini; ((i % 3)) || model=fast   # an alias now and then
        token=demo-token; ((i % 2)) && token=$agent; ((i % 5)) || token=$notebook
        ((i % 4)) || model=gpt-4o
        curl -s -o /dev/null -H "Authorization: Bearer $token" -d "{\"model\":\"$model\",\"n\":$i}" "http://127.0.0.1:$port/v1/chat/completions" || true
    done
    for i in $(seq 1 4); do
        python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$port/v1/chat/completions', data=b'{\"model\":\"gpt-4o\"}', headers={'Authorization': 'Bearer $notebook', 'Content-Type': 'application/json'})).read()" 2>/dev/null || true
    done
    import -window root -crop 32x32+1248+0 "$out/$name-tray.png"
    timeout 10 "$bin" -database "$db" -lang "$lang" >/dev/null   # a second launch opens the manager
    sleep 1
    xdotool search --sync --onlyvisible --name '^openai-api-route$' windowmove 0 0 || true
    sleep 1
    import -window root -crop 1000x560+0+0 "$out/$name-upstreams.png"
    xdotool mousemove 100 102 click 1; sleep 0.3; xdotool key ctrl+m; sleep 1.5   # the first upstream's Models dialog
    dialog=$(xdotool search --onlyvisible --name 'Models of upstream 1|上游 1 的模型' | tail -n 1 || true)
    import -window "${dialog:-root}" "$out/$name-models-dialog.png"
    xdotool key Escape; sleep 0.5
    # Tabs by their mnemonics, the same in both languages (a click first:
    # without a window manager, focus follows the pointer's clicks).
    xdotool mousemove 500 400 click 1; sleep 0.3
    xdotool key alt+r; sleep 1
    import -window root -crop 1000x560+0+0 "$out/$name-requests.png"
    xdotool key alt+a; sleep 1
    import -window root -crop 1000x560+0+0 "$out/$name-apps.png"
    xdotool key alt+g; sleep 1.5
    import -window root -crop 1000x560+0+0 "$out/$name-usage.png"
    xdotool key alt+s; sleep 1
    import -window root -crop 1000x560+0+0 "$out/$name-settings.png"
    xdotool mousemove 44 13 click 1; sleep 0.5
    xdotool mousemove 40 49 click 1; sleep 1.5
    import -window root "$out/$name-add-dialog.png"
    xdotool key Escape; sleep 0.5
    xdotool mousemove 1268 13 click 3; sleep 1
    import -window root -crop 420x320+860+0 "$out/$name-tray-menu.png"
    xdotool key Escape; sleep 0.3
    kill "${pids[-1]}" 2>/dev/null || true
    sleep 1
}

shoot en en
shoot zh zh_CN
rm -f "$out"/*-tray.png
ls -1 "$out"
