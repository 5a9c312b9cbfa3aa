#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, only those missing.
# Usage: scripts/deps.sh [--gui-tools]   (--gui-tools adds Xvfb & co. for screenshots)
set -euo pipefail

packages=(cmake ninja-build g++ ccache pkg-config
          qt6-base-dev libqt6sql6-sqlite libqt6sql6-psql libsqlite3-dev libqt6svg6 qt6-tools-dev qt6-l10n-tools qt6-tools-dev-tools
          libgl-dev libssl3 ca-certificates clang-format
          postgresql)  # for the team-mode tests (label postgres), which start a private server of their own
if [[ "${1:-}" == "--gui-tools" ]]; then
    packages+=(xvfb xauth imagemagick trayer fonts-noto-cjk)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "Installing: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
