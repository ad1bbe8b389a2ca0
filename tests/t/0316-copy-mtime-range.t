#!/bin/sh
# Copy correctness, mtimes the target cannot store: a source file dated
# in the year 10000 (on a tmpfs source) copied to a file system that
# clamps it (ext4) is copied once, with a warning, and compared as the
# target stores it: not sent again on every pass.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	skip_all "no /dev/shm for a tmpfs source"
fi
dst=$TMP/dst
mkdir -p "$dst"
: >"$TMP/probe"
touch -d @253402300800 "$TMP/probe"
[ "$(stat -c %Y "$TMP/probe")" != 253402300800 ] ||
    skip_all "$TMP stores the year 10000: nothing to clamp"
src=$(mktemp -d /dev/shm/iwm-test-src.XXXXXX)
mkdir -p "$src/dom"
printf 'far future\n' >"$src/dom/f"
touch -d @253402300800 "$src/dom/f"
[ "$(stat -c %Y "$src/dom/f")" = 253402300800 ] ||
    { rm -rf "$src"; skip_all "/dev/shm does not store the year 10000"; }
ok "agent starts" serve_start --root mail="$dst"
# shellcheck disable=SC2034 # read by tests/lib.sh
T_CLEANUP='serve_stop; rm -rf "$src"'
ok "the listing says the range it stores" sh -c \
    'iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" |
    head -n 1 | grep -q " mtime-max=[0-9]"'
iwm-scan --root mail="$src" >"$TMP/src.m"
tscan --roots mail >"$TMP/dst.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m" 2>"$TMP/diff.err"
ok "the diff warns" grep -q "dom/f: mtime 253402300800 is outside" "$TMP/diff.err"
push --delete "$TMP/diff.m" >"$TMP/journal" 2>"$TMP/push.err"
ok "copied" cmp "$src/dom/f" "$dst/dom/f"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
ok "a third pass neither" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
done_testing
