#!/usr/bin/env bash
# Installs what is missing, builds, and starts openai-api-route: with a tray
# icon where a display exists, headless otherwise. Arguments go to the app,
# e.g.  scripts/run.sh -addr :8888
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec "${BUILD_DIR:-build}/app/openai-api-route" "$@"
