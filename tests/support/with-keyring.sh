#!/bin/sh
# Runs a command inside a private D-Bus session with its own Secret Service
# (gnome-keyring, unlocked, its keyring in a temporary folder): the real
# system keychain service, never the user's. The daemon ends with the bus,
# which ends with the command.
#   tests/support/with-keyring.sh COMMAND [ARGS...]
set -eu
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/.local/share" XDG_RUNTIME_DIR="$scratch/run"
export XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/home/.cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "$tool not found: scripts/deps.sh --tests installs it" >&2; exit 1; }
done
exec dbus-run-session -- sh -c '
    printf "%s" "route-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' sh "$@"
