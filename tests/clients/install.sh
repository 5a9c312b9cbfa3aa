# Sourced by the clients tests: installs the pinned clients from npm into
# $cache once (exit 77 when the registry cannot be reached) and puts
# Claude Code's native binary in place. Needs $here, $cache and fail().
mkdir -p "$cache"
if ! cmp -s "$here/package.json" "$cache/package.json" || [[ ! -x "$cache/node_modules/.bin/claude" ]]; then
    if ! timeout 60 npm ping >/dev/null 2>&1; then
        echo "SKIP: the npm registry cannot be reached; the clients test needs it to install the agents" >&2
        exit 77
    fi
    cp "$here/package.json" "$cache/package.json"
    (cd "$cache" && timeout 900 npm install --no-audit --no-fund --loglevel=error) || fail "npm install"
fi
# npm may hold Claude Code's postinstall back; it puts the native binary in place.
if ! timeout 30 "$cache/node_modules/.bin/claude" --version >/dev/null 2>&1; then
    (cd "$cache" && timeout 300 node node_modules/@anthropic-ai/claude-code/install.cjs) || fail "claude install.cjs"
fi
cp "$here"/*.mjs "$cache/"
