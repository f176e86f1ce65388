#!/bin/sh
# `meson dist` makes the release tarball from the committed tree, then the
# tarball must configure and build on its own: this catches files the build
# needs but git does not track. meson dist refuses a dirty worktree, so a
# developer's tree skips (exit 77); CI's clean clone runs it. Prints TAP.
set -u

src=${PEERCAM_SOURCE_ROOT:?meson test sets PEERCAM_SOURCE_ROOT}

if ! command -v git >/dev/null || ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  echo "1..0 # SKIP not a git checkout"
  exit 77
fi
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "1..0 # SKIP the worktree has uncommitted changes (meson dist needs a clean tree)"
  exit 77
fi
# Untracked source files would be missing from the tarball while the build here
# still sees them; say so, but it is not a reason to skip.
untracked=$(git -C "$src" ls-files --others --exclude-standard -- src ui resources po tests meson.build | head -n 5)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
log () { sed 's/^/# /' "$1" | tail -n 40; }

echo "1..4"
[ -n "$untracked" ] && echo "$untracked" | sed 's/^/# untracked (not in the tarball): /'

# A private build dir: meson dist must not touch the one under test. Only the
# configure step is needed for dist; gui_tests off keeps it lean.
if timeout 60 meson setup "$tmp/dist-build" "$src" -Dgui_tests=false >"$tmp/setup.log" 2>&1 &&
   timeout 60 meson dist -C "$tmp/dist-build" --no-tests --formats xztar >"$tmp/dist.log" 2>&1; then
  ok "meson dist --no-tests --formats xztar"
else
  not_ok "meson dist --no-tests --formats xztar"
  log "$tmp/setup.log"; log "$tmp/dist.log"
fi

tarball=$(ls "$tmp"/dist-build/meson-dist/*.tar.xz 2>/dev/null | head -n 1)
if [ -n "$tarball" ] && mkdir "$tmp/x" && tar -xJf "$tarball" -C "$tmp/x"; then
  ok "tarball extracts ($(basename "$tarball"))"
else
  not_ok "tarball extracts"
fi
top=$(ls -d "$tmp"/x/*/ 2>/dev/null | head -n 1)

if [ -n "$top" ] && timeout 60 meson setup "$tmp/b" "$top" -Dgui_tests=false >"$tmp/setup2.log" 2>&1; then
  ok "meson setup on the extracted tarball"
else
  not_ok "meson setup on the extracted tarball"
  log "$tmp/setup2.log"
fi

# Only the app and its data, not every test binary: the whole suite is CI's
# other job, and the timeout here is 3 minutes.
if [ -f "$tmp/b/build.ninja" ] && timeout 150 ninja -C "$tmp/b" src/peercam >"$tmp/ninja.log" 2>&1 &&
   timeout 30 ninja -C "$tmp/b" resources/io.github.peercam.Peercam.desktop \
     resources/io.github.peercam.Peercam.metainfo.xml >>"$tmp/ninja.log" 2>&1; then
  ok "ninja builds peercam from the tarball"
else
  not_ok "ninja builds peercam from the tarball"
  log "$tmp/ninja.log"
fi

exit $failed
