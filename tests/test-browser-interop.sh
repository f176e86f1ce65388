#!/usr/bin/env bash
# test-browser-interop.sh PEERCAM CASE — one browser interop case (see
# tests/interop/browser-cases.js) inside a network namespace of its own, so
# Chromium, node and Peercam only ever talk over that namespace's loopback.
#
# Exit status: 0 pass, 1 fail, 77 skip (not root, no Chromium, no node modules).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

peercam=${1:?usage: test-browser-interop.sh PEERCAM CASE}
case_name=${2:?usage: test-browser-interop.sh PEERCAM CASE}
here=$(cd "$(dirname "$0")" && pwd)
source_root=${PEERCAM_SOURCE_ROOT:-$(dirname "$here")}
export NODE_PATH=${NODE_PATH:-$source_root/.cache/node/node_modules}
chromium=${PEERCAM_CHROMIUM:-/usr/bin/chromium}
case_timeout=${PEERCAM_BROWSER_CASE_TIMEOUT:-100}

skip () {
  echo "1..0 # SKIP $*"
  echo "# SKIP $*" >&2
  exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace (CI runs as root)"
command -v ip >/dev/null || skip "ip (iproute2) is missing: apt-get install iproute2"
command -v node >/dev/null || skip "node is missing: apt-get install nodejs"
# The newer cases are held to under a minute each.
case $case_name in
  firefox-*|reference-*) case_timeout=${PEERCAM_BROWSER_CASE_TIMEOUT:-55} ;;
esac

case $case_name in
  firefox-*)
    firefox=${PEERCAM_FIREFOX:-/usr/bin/firefox-esr}
    export PEERCAM_FIREFOX_NODE_PATH=${PEERCAM_FIREFOX_NODE_PATH:-$source_root/.cache/node-firefox/node_modules}
    [ -x "$firefox" ] || skip "$firefox is missing: apt-get install firefox-esr"
    [ -d "$PEERCAM_FIREFOX_NODE_PATH/puppeteer-core" ] || skip "puppeteer-core is missing from $PEERCAM_FIREFOX_NODE_PATH (tools/test installs it)"
    ;;
  reference-*)
    [ -d "${PEERCAM_REFERENCE_NODE_PATH:-}/socket.io" ] || skip "socket.io@4.4.1 is missing from PEERCAM_REFERENCE_NODE_PATH (tools/test installs it)"
    [ -x "$chromium" ] || skip "$chromium is missing: apt-get install chromium"
    [ -d "$NODE_PATH/playwright-core" ] || skip "playwright-core is missing from $NODE_PATH (tools/test installs it)"
    ;;
  *)
    [ -x "$chromium" ] || skip "$chromium is missing: apt-get install chromium"
    [ -d "$NODE_PATH/playwright-core" ] || skip "playwright-core is missing from $NODE_PATH (tools/test installs it)"
    ;;
esac
[ -d "$NODE_PATH/socket.io" ] || skip "socket.io is missing from $NODE_PATH (tools/test installs it)"

ns=peercam-test-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/peercam-browser-XXXXXX")

cleanup () {
  # Only processes of this test live in its namespace.
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null
  done
  ip netns delete "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns" || skip "cannot create a network namespace (ip netns add failed)"
ip netns exec "$ns" ip link set lo up || { echo "not ok: lo up failed"; exit 1; }

# Private data and config dirs (certificates, settings); the cache stays, so
# GStreamer does not rebuild its plugin registry for every case.
env XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" TMPDIR="$tmp" NODE_PATH="$NODE_PATH" \
  timeout --kill-after=10 "$case_timeout" \
  ip netns exec "$ns" node "$here/interop/browser-cases.js" "$case_name" "$peercam"
status=$?
[ $status -eq 124 ] && echo "not ok 1 $case_name # timed out after ${case_timeout}s"
exit $status
