#!/bin/sh
# Copy correctness, symbolic links: one on the source is reported (a
# warning, exit 1, a record in --failed), never skipped in silence; one
# on the target shows in its listing, so --delete removes it (never
# following it) instead of failing on its directory for ever.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/dom/u" "$dst" "$TMP/outside"
printf 'mail\n' >"$src/dom/u/1.imap"
ln -s /etc/passwd "$src/dom/u/link"
printf 'precious\n' >"$TMP/outside/keep"
touch -d '2021-01-01' "$src/dom/u/1.imap"
ok "agent starts" serve_start --root mail="$dst"
ok "the scan lists the link" sh -c \
    'iwm-scan --root mail="$1" | grep -q "^\.	l	.*	dom/u/link	"' - "$src"
iwm-scan --root mail="$src" >"$TMP/src.m"
tscan --roots mail >"$TMP/dst.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
push --delete --failed "$TMP/failed" "$TMP/diff.m" >"$TMP/journal" \
    2>"$TMP/push.err"
is "push exits 1" "$?" 1
ok "it warns" grep -q "dom/u/link: a symbolic link: not copied" "$TMP/push.err"
ok "the link is in --failed" grep -q "	l	.*	dom/u/link	" "$TMP/failed"
ok "nothing made on the target" test ! -e "$dst/dom/u/link" -a ! -L "$dst/dom/u/link"
ok "the rest copied" cmp "$src/dom/u/1.imap" "$dst/dom/u/1.imap"

# Links planted on the target: in a directory the source does not have,
# and where the source has a file.
mkdir -p "$dst/dom/gone"
ln -s "$TMP/outside" "$dst/dom/gone/evil"
rm "$dst/dom/u/1.imap"
ln -s "$TMP/outside/keep" "$dst/dom/u/1.imap"
tscan --roots mail >"$TMP/dst.m"
ok "the target's listing shows its links" sh -c \
    'grep -q "^\.	l	.*	dom/gone/evil	-" "$1" &&
    grep -q "^\.	l	.*	dom/u/1.imap	-" "$1"' - "$TMP/dst.m"
rm "$src/dom/u/link"
ok "pass with --delete" pass "$src"
ok "the directory holding a link is gone" test ! -e "$dst/dom/gone" -a ! -L "$dst/dom/gone/evil"
ok "the link replaced by the file" sh -c \
    '[ ! -L "$1" ] && cmp "$2" "$1"' - "$dst/dom/u/1.imap" "$src/dom/u/1.imap"
ok "nothing outside the root was touched" sh -c \
    '[ "$(cat "$1/keep")" = precious ] && [ -d "$1" ]' - "$TMP/outside"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
done_testing
