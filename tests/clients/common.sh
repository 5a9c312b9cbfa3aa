# Sourced first by the clients tests (after `set -uo pipefail`, with
# $here set): BUILD_DIR from $1, the npm cache, a work folder, and the
# processes started, all cleaned up on exit; fail() prints the logs.
build=$(cd "${1:?usage: $(basename "$0") BUILD_DIR}" && pwd)
cache=${ROUTE_CLIENTS_CACHE:-$build/clients}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.out "$work"/*.log; do [[ -f $f ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    exit 1
}
