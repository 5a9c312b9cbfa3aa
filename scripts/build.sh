#!/usr/bin/env bash
# Configures (once) and builds into build/ (or $BUILD_DIR) with Ninja and ccache.
# Extra arguments go to cmake's configure step, e.g. -DROUTE_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [[ ! -f "$build_dir/build.ninja" ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
elif [[ $# -gt 0 ]]; then
    cmake -S . -B "$build_dir" "$@"
fi
cmake --build "$build_dir" --parallel "$(nproc)"
