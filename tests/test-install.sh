#!/bin/sh
# `meson install` into a scratch DESTDIR, then checks that everything a desktop
# (and Flathub) looks for is installed where it looks, and still validates
# after installation. Prints TAP.
set -u

build=${PEERCAM_BUILD_ROOT:?meson test sets PEERCAM_BUILD_ROOT}
app_id=io.github.peercam.Peercam

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check () { desc=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/# /' "$tmp/out"; fi; }

echo "1..14"

# --no-rebuild: meson test already built everything, and a nested ninja would
# race the other tests. Meson skips gnome.post_install (schema compile, icon
# cache, desktop database) when DESTDIR is set, so the host is never touched.
if DESTDIR="$tmp/root" timeout 90 meson install -C "$build" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
  ok "meson install --destdir"
else
  not_ok "meson install --destdir"
  sed 's/^/# /' "$tmp/install.log"
fi

# The prefix is whatever the build was configured with (/usr/local by default).
bin=$(find "$tmp/root" -path '*/bin/peercam' -type f 2>/dev/null | head -n 1)
if [ -n "$bin" ]; then
  prefix=$(dirname "$(dirname "$bin")")
  echo "# prefix: ${prefix#"$tmp/root"}"
else
  prefix="$tmp/root/nonexistent"
fi

check "bin/peercam is executable" test -x "$prefix/bin/peercam"
for f in \
  share/applications/$app_id.desktop \
  share/metainfo/$app_id.metainfo.xml \
  share/icons/hicolor/scalable/apps/$app_id.svg \
  share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg \
  share/glib-2.0/schemas/$app_id.gschema.xml \
  share/locale/zh_CN/LC_MESSAGES/peercam.mo
do
  check "$f" test -s "$prefix/$f"
done

check "desktop-file-validate on the installed desktop file" \
  desktop-file-validate "$prefix/share/applications/$app_id.desktop"
check "appstreamcli validate --no-net on the installed metainfo" \
  appstreamcli validate --no-net "$prefix/share/metainfo/$app_id.metainfo.xml"
check "installed schema compiles (--strict)" \
  glib-compile-schemas --strict --dry-run "$prefix/share/glib-2.0/schemas"
check "installed desktop file carries the zh_CN generic name" \
  grep -q '^GenericName\[zh_CN\]=摄像头通话$' "$prefix/share/applications/$app_id.desktop"
check "installed zh_CN catalogue is a valid .mo" \
  msgunfmt -o /dev/null "$prefix/share/locale/zh_CN/LC_MESSAGES/peercam.mo"

# Nothing may land outside the prefix (a stray absolute install_dir would).
stray=$(find "$tmp/root" -type f 2>/dev/null | grep -v "^$prefix/" | head -n 5)
if [ -z "$stray" ]; then
  ok "everything is installed under the prefix"
else
  not_ok "everything is installed under the prefix"
  echo "$stray" | sed 's/^/# /'
fi

exit $failed
