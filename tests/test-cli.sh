#!/bin/sh
# The peercam binary's command line: --help, --version, and exit status 2 with a
# clear message for bad values. None of these needs a display.
set -u
peercam=$1
n=0
fail=0

ok ()   { n=$((n + 1)); echo "ok $n - $1"; }
nok ()  { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

out=$("$peercam" --help 2>&1); st=$?
for opt in --caller --viewer --server --room --source --call --host --host-only \
           --port --max-viewers --bind --headless --events --version; do
  case "$out" in
    *"$opt"*) ok "--help lists $opt" ;;
    *) nok "--help lists $opt" ;;
  esac
done
[ $st -eq 0 ] && ok "--help exits 0" || nok "--help exits 0 (got $st)"

out=$("$peercam" --version 2>&1); st=$?
case "$out" in
  "peercam "[0-9]*) [ $st -eq 0 ] && ok "--version" || nok "--version exit $st" ;;
  *) nok "--version prints the version (got '$out')" ;;
esac

expect_bad () {
  desc=$1; shift
  err=$("$peercam" "$@" 2>&1 >/dev/null); st=$?
  if [ $st -eq 2 ] && echo "$err" | grep -q "^peercam: "; then
    ok "$desc: exit 2 with message"
  else
    nok "$desc: expected exit 2 and a message, got $st: $err"
  fi
}

expect_bad "port out of range" --port 70000
expect_bad "port not a number" --port abc
expect_bad "--host=PORT out of range" --host=99999
expect_bad "bad server URL" --server ftp://x
expect_bad "bad bind address" --host-only --bind nowhere
expect_bad "caller and viewer" --caller --viewer
expect_bad "viewer cannot call" --viewer --call
expect_bad "events need headless" --events
expect_bad "empty token" --host-only --token ""
expect_bad "empty token (=)" --token=
expect_bad "origin without a scheme" --host-only --allow-origin example.org
expect_bad "new certificate without --tls" --host-only --new-certificate
expect_bad "no viewers" --host-only --max-viewers 0
expect_bad "viewers not a number" --host-only --max-viewers many
expect_bad "too many viewers" --host-only --max-viewers 65

echo "1..$n"
exit $fail
