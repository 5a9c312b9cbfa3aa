#!/usr/bin/env bash
# Builds the .deb, checks it with lintian, installs it with apt, uses it, and
# removes it again. Needs root (or sudo) and a Debian/Ubuntu system.
#   packaging/test-install.sh            (build dir: build-deb, or $BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)

scripts/deps.sh
if ! command -v lintian >/dev/null || ! command -v appstreamcli >/dev/null || ! command -v desktop-file-validate >/dev/null; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
        lintian appstream desktop-file-utils man-db curl
fi
appstreamcli validate --no-net packaging/io.github.openai_api_route.metainfo.xml
desktop-file-validate packaging/io.github.openai_api_route.desktop

build_dir=${BUILD_DIR:-build-deb}
BUILD_DIR=$build_dir BUILD_TYPE=Release scripts/build.sh -DROUTE_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
(cd "$build_dir" && cpack -G DEB >/dev/null)
deb=$(ls "$build_dir"/openai-api-route_*.deb | head -n 1)
echo "package: $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'

# lintian: errors fail the test; the warnings we keep are listed in the README.
lintian --tag-display-limit 0 --suppress-tags-from-file packaging/lintian-suppressed "$deb" | tee /tmp/lintian.out || true
if grep -q '^E:' /tmp/lintian.out; then
    echo "lintian reported errors" >&2
    exit 1
fi

DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "./$deb"
trap 'DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -q openai-api-route >/dev/null 2>&1 || true' EXIT

openai-api-route -version
openai-api-route -help | grep -q -- '-noauth'
test -f /usr/share/applications/io.github.openai_api_route.desktop
test -f /usr/share/icons/hicolor/scalable/apps/openai-api-route.svg
test -f /usr/lib/systemd/user/openai-api-route.service || test -f /lib/systemd/user/openai-api-route.service
test -f /usr/lib/systemd/system/openai-api-route@.service || test -f /lib/systemd/system/openai-api-route@.service
test -f /usr/share/doc/openai-api-route/examples/team-nginx.conf
man -w openai-api-route >/dev/null
# The units must parse; systemd may not run inside a build container, so only report.
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /usr/lib/systemd/system/openai-api-route.service || echo "note: systemd-analyze could not verify the unit here"
fi

data=$(mktemp -d)
out=$data/out.txt
openai-api-route --no-gui -database "$data/db.sqlite" -addr 127.0.0.1:0 >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 50); do grep -q '/v1' "$out" && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*/v1' "$out" | head -n 1 | sed 's/127.0.0.1://; s#/v1##')
token=$(grep -o 'sk-route-[A-Za-z0-9]*' "$out" | head -n 1)
curl -sf -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/admin/login" | grep -q success
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/models")
[[ "$status" == 503 ]]   # no upstream configured yet: a clear 503
kill -TERM "$pid"
wait "$pid"

DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get remove -y -q openai-api-route
trap - EXIT
! command -v openai-api-route >/dev/null
test -f "$data/db.sqlite"   # the user's data stays
rm -rf "$data"
echo "install test passed"
