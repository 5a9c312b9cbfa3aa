#!/usr/bin/env bash
# The real clients through the proxy, end to end: Claude Code (`claude -p`),
# Codex CLI (`codex exec`) and the Anthropic and OpenAI SDKs, against the
# fake model (route-fake-upstream --agent) behind two keys of each format.
# Each agent must finish a tool round trip; both turns of a session must
# reach the same key; the records must show the tokens.
#
# Usage: tests/clients/run.sh BUILD_DIR. The clients are installed from npm
# (pinned in package.json) into $ROUTE_CLIENTS_CACHE (default
# BUILD_DIR/clients). Exit 77 (CTest: skipped) only when npm cannot reach
# its registry. Everything listens on 127.0.0.1 and is stopped by PID.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

# ---- the clients, once per cache
source "$here/install.sh"
claude=$cache/node_modules/.bin/claude
codex=$cache/node_modules/.bin/codex
echo "clients: $("$claude" --version), $("$codex" --version)"

# ---- the fake model, the proxy, four keys
bin=$build/app/openai-api-route
timeout 600 "$build/tests/route-fake-upstream" --agent >"$work/fake.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q listening "$work/fake.out" && break; sleep 0.1; done
fake=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/fake.out" | head -n 1)
[[ -n "$fake" ]] || fail "the fake model did not start"
db=$work/db.sqlite
for k in a b; do "$bin" -database "$db" -add -sk "sk-ant-$k" -endpoint "http://127.0.0.1:$fake/v1" -format anthropic >/dev/null || fail "-add"; done
for k in c d; do "$bin" -database "$db" -add -sk "sk-oai-$k" -endpoint "http://127.0.0.1:$fake/v1" >/dev/null || fail "-add"; done
token=sk-route-clients-test
timeout 600 "$bin" --no-gui -database "$db" -addr 127.0.0.1:0 -auth "$token" -policy round_robin >"$work/route.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q 'listening on' "$work/route.out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/route.out" | head -n 1)
[[ -n "$port" ]] || fail "the proxy did not start"
echo "The secret word is pineapple." >"$work/note.txt"
prompt="Read the file $work/note.txt and tell me what it says."

# Both turns of a conversation (the tool call, then the answer) on one key.
same_key() {
    local path=$1
    local keys
    keys=$(grep "request POST $path" "$work/fake.out" | sed 's/.*key=//' | sort -u)
    local turns
    turns=$(grep -c "request POST $path" "$work/fake.out")
    ((turns >= 2)) || fail "$path: $turns turn(s) reached the fake, not 2"
    [[ $(echo "$keys" | wc -l) -eq 1 ]] || fail "$path: the turns of one session reached several keys: $keys"
    echo "$path: $turns turns, all on $keys"
}

# ---- Claude Code: ANTHROPIC_BASE_URL and a token, as README says
mkdir -p "$work/home-claude"
(cd "$work" && HOME="$work/home-claude" ANTHROPIC_BASE_URL="http://127.0.0.1:$port" ANTHROPIC_AUTH_TOKEN="$token" \
    timeout 180 "$claude" -p "$prompt" --allowedTools Read) >"$work/claude.out" 2>&1 || fail "claude -p"
grep -q pineapple "$work/claude.out" || fail "claude did not relay the file's text"
echo "claude: $(grep pineapple "$work/claude.out" | head -n 1)"
same_key /v1/messages

# ---- Codex CLI: a model provider with wire_api = "responses", as README says
mkdir -p "$work/home-codex/.codex"
cat >"$work/home-codex/.codex/config.toml" <<TOML
model = "fake-model"
model_provider = "route"

[model_providers.route]
name = "openai-api-route"
base_url = "http://127.0.0.1:$port/v1"
env_key = "ROUTE_TOKEN"
wire_api = "responses"
TOML
(cd "$work" && HOME="$work/home-codex" ROUTE_TOKEN="$token" timeout 180 "$codex" exec --skip-git-repo-check "$prompt") \
    >"$work/codex.out" 2>&1 || fail "codex exec"
grep -q pineapple "$work/codex.out" || fail "codex did not relay the file's text"
echo "codex: $(grep pineapple "$work/codex.out" | head -n 1)"
same_key /v1/responses

# ---- the SDKs: Anthropic's stream with x-api-key, OpenAI's chat
(cd "$cache" && ROUTE_BASE="http://127.0.0.1:$port" ROUTE_TOKEN="$token" timeout 60 node sdk.mjs) >"$work/sdk.out" 2>&1 \
    || fail "the SDKs"
grep -q 'anthropic-stream: Hello from the fake model. (stop end_turn' "$work/sdk.out" || fail "the Anthropic SDK's stream"
grep -q 'openai-chat: Hello from the fake model.' "$work/sdk.out" || fail "the OpenAI SDK's chat"
cat "$work/sdk.out"

# ---- the records: every turn complete, with its tokens
sleep 1 # records are written in batches
records=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/admin/request_records?limit=100") || fail "records"
echo "$records" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
def check(path, want):
    got = [r for r in rows if r["Path"] == path]
    assert len(got) >= want, "%s: %d records" % (path, len(got))
    for r in got:
        assert r["Outcome"] == "complete", "%s: %s %s" % (path, r["Outcome"], r["Error"])
        assert r["PromptTokens"] > 0 and r["CompletionTokens"] > 0, "%s: no tokens in %s" % (path, r)
    first = got[0]
    print("%s: %d records, tokens in %d (cached %d) out %d"
          % (path, len(got), first["PromptTokens"], first["CachedTokens"], first["CompletionTokens"]))
check("/v1/messages", 3)
check("/v1/responses", 2)
check("/v1/chat/completions", 1)
' || fail "records"
# ---- Claude Code on a chat-only key: Messages converted to Chat Completions
chatdb=$work/chat.sqlite
"$bin" -database "$chatdb" -add -sk sk-chat-only -endpoint "http://127.0.0.1:$fake/v1" >/dev/null || fail "-add"
timeout 600 "$bin" --no-gui -database "$chatdb" -addr 127.0.0.1:0 -auth "$token" >"$work/route-chat.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q 'listening on' "$work/route-chat.out" && break; sleep 0.1; done
chatport=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/route-chat.out" | head -n 1)
[[ -n "$chatport" ]] || fail "the chat-only proxy did not start"
(cd "$work" && HOME="$work/home-claude" ANTHROPIC_BASE_URL="http://127.0.0.1:$chatport" ANTHROPIC_AUTH_TOKEN="$token" \
    timeout 180 "$claude" -p "$prompt" --allowedTools Read) >"$work/claude-chat.out" 2>&1 || fail "claude -p over a chat key"
grep -q pineapple "$work/claude-chat.out" || fail "claude over a chat key did not relay the file's text"
echo "claude over a chat key: $(grep pineapple "$work/claude-chat.out" | head -n 1)"
grep -q "request POST /v1/chat/completions key=Bearer sk-chat-only" "$work/fake.out" || fail "nothing reached the chat key"
sleep 1
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$chatport/admin/request_records?limit=20" | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["Path"] == "/v1/messages"]
assert len(rows) >= 2, "%d converted turns" % len(rows)
for r in rows:
    assert r["Converted"] and r["Outcome"] == "complete" and r["CompletionTokens"] > 0, r
print("converted turns: %d, all complete with tokens" % len(rows))
' || fail "the converted records"

# ---- Codex on the same chat-only key, Responses converted to Chat
curl -sf -X PUT -H "Authorization: Bearer $token" -d '{"Responses":false}' "http://127.0.0.1:$chatport/admin/upstreams/1" \
    >/dev/null || fail "Responses: false"
mkdir -p "$work/home-codex-chat/.codex"
sed "s/127.0.0.1:$port/127.0.0.1:$chatport/" "$work/home-codex/.codex/config.toml" >"$work/home-codex-chat/.codex/config.toml"
(cd "$work" && HOME="$work/home-codex-chat" ROUTE_TOKEN="$token" timeout 180 "$codex" exec --skip-git-repo-check "$prompt") \
    >"$work/codex-chat.out" 2>&1 || fail "codex exec over a chat key"
grep -q pineapple "$work/codex-chat.out" || fail "codex over a chat key did not relay the file's text"
echo "codex over a chat key: $(grep pineapple "$work/codex-chat.out" | tail -n 1)"
sleep 1
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$chatport/admin/request_records?limit=20" | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["Path"] == "/v1/responses"]
assert len(rows) >= 2, "%d converted turns" % len(rows)
for r in rows:
    assert r["Converted"] and r["Outcome"] == "complete" and r["CompletionTokens"] > 0, r
print("converted Responses turns: %d, all complete with tokens" % len(rows))
' || fail "the converted Responses records"

# ---- the SDKs on the chat-only key: both conversions, streamed and not
(cd "$cache" && ROUTE_BASE="http://127.0.0.1:$chatport" ROUTE_TOKEN="$token" ROUTE_RESPONSES=1 timeout 60 node sdk.mjs) \
    >"$work/sdk-chat.out" 2>&1 || fail "the SDKs over a chat key"
grep -q 'anthropic-stream: Hello from the fake model. (stop end_turn' "$work/sdk-chat.out" || fail "Anthropic SDK, converted"
grep -q 'openai-responses: Hello from the fake model. (completed' "$work/sdk-chat.out" || fail "responses.create, converted"
grep -q 'openai-responses-stream: Hello from the fake model. (completed' "$work/sdk-chat.out" \
    || fail "responses.create stream, converted"
sed 's/^/chat key: /' "$work/sdk-chat.out"

echo "PASS: Claude Code, Codex CLI and the SDKs through the proxy"
