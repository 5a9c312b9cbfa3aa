#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, only those missing.
# Usage: scripts/deps.sh [--gui-tools] [--tests]
#   --gui-tools  adds Xvfb & co. for screenshots
#   --tests      also unpacks nginx for the team-mode load-balancer test (see fetch_nginx)
set -euo pipefail
cd "$(dirname "$0")/.."

# Team mode's load-balancer test (tst_team) runs Debian's nginx as a private
# process on 127.0.0.1. Installing the nginx package would also start (and
# enable) its service on port 80, so only the binary is unpacked, into
# .cache/tools/nginx: nothing is installed or started. Its libraries (libc,
# libcrypt, PCRE2, OpenSSL, zlib) are on every Debian 12.
fetch_nginx() {
    if [[ -x /usr/sbin/nginx || -x .cache/tools/nginx/usr/sbin/nginx ]]; then
        return 0
    fi
    echo "Unpacking nginx for the tests into .cache/tools/nginx"
    local tmp
    tmp=$(mktemp -d)
    chmod a+rwx "$tmp" # apt-get download fetches as the _apt user
    (cd "$tmp" && apt-get download nginx >/dev/null) || {
        apt-get update -q >/dev/null && (cd "$tmp" && apt-get download nginx >/dev/null)
    }
    mkdir -p .cache/tools/nginx
    dpkg-deb -x "$tmp"/nginx_*.deb .cache/tools/nginx
    rm -rf "$tmp"
}

packages=(cmake ninja-build g++ ccache pkg-config
          qt6-base-dev libqt6sql6-sqlite libqt6sql6-psql libsqlite3-dev libqt6svg6 qt6-tools-dev qt6-l10n-tools qt6-tools-dev-tools
          libgl-dev libssl3 ca-certificates clang-format
          qtkeychain-qt6-dev   # keys in the system keychain (SPEC §13)
          postgresql)  # for the team-mode tests (label postgres), which start a private server of their own
want_tests=
for arg in "$@"; do
    case "$arg" in
        --gui-tools) packages+=(xvfb xauth imagemagick trayer fonts-noto-cjk) ;;
        --tests) want_tests=1
                 # tst_keychain runs a private Secret Service (tests/support/with-keyring.sh)
                 packages+=(gnome-keyring dbus-daemon) ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    [[ -z "$want_tests" ]] || fetch_nginx
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
[[ -z "$want_tests" ]] || fetch_nginx
