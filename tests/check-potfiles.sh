#!/bin/sh
# Fails when a file with translatable strings is missing from po/POTFILES, or
# when POTFILES names a file that does not exist.
set -eu
root=${1:-.}
cd "$root"
status=0
potfiles=po/POTFILES

for f in $(grep -v '^#' "$potfiles"); do
  if [ ! -f "$f" ]; then
    echo "POTFILES lists missing file: $f"
    status=1
  fi
done

# C and UI files that carry user-visible strings.
for f in $(grep -lE '(\b_|\bN_|\bC_|\bngettext)\s*\(\s*"' src/*.c src/*/*.c 2>/dev/null; grep -l 'translatable="yes"' ui/*.ui resources/*.ui 2>/dev/null); do
  if ! grep -qx "$f" "$potfiles"; then
    echo "missing from po/POTFILES: $f"
    status=1
  fi
done

# xgettext must be able to read every listed file (syntax errors show here).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
     --keyword=g_dngettext:2,3 -f "$potfiles" -o "$tmp/peercam.pot" 2>"$tmp/err"; then
  cat "$tmp/err"
  status=1
fi

# Every message in the catalogue must have a zh_CN translation.
if [ -f "$tmp/peercam.pot" ]; then
  msgmerge -q --no-fuzzy-matching po/zh_CN.po "$tmp/peercam.pot" -o "$tmp/zh_CN.po"
  untranslated=$(msgattrib --untranslated --no-obsolete "$tmp/zh_CN.po" | grep -c '^msgid ' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$tmp/zh_CN.po" | grep -c '^msgid ' || true)
  # msgattrib prints the header entry too when anything is left
  if [ "$untranslated" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
    echo "zh_CN: untranslated or fuzzy messages:"
    msgattrib --untranslated --no-obsolete "$tmp/zh_CN.po" | grep -A1 '^msgid ' | head -40
    status=1
  fi
fi

[ $status -eq 0 ] && echo "POTFILES and zh_CN translation complete"
exit $status
