#!/bin/sh
# Copy correctness, directory mtimes: kept as on the source (set after
# their contents, as rsync -a does), empty IMAP folders included, and
# kept when a file inside is updated in place.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/dom/u/inbox" "$src/dom/u/empty folder" "$dst"
printf 'mail\n' >"$src/dom/u/inbox/1.imap"
head -c 2000000 /dev/urandom >"$src/dom/u/inbox/big.imap"
find "$src" -type f -exec touch -d '2020-01-02 03:04:05.6' {} +
find "$src" -type d -exec touch -d '2019-05-06 07:08:09.123456789' {} +
dirtimes() {
	(cd "$1" && find . -mindepth 1 -type d -printf '%P\t%T@\n' | sort)
}
ok "agent starts" serve_start --root mail="$dst"
ok "first pass" pass "$src"
is "directory mtimes kept" "$(dirtimes "$dst")" "$(dirtimes "$src")"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0

# Rewritten in place: the source's directory keeps its mtime.
printf 'MAIL\n' >"$src/dom/u/inbox/1.imap"
touch -d '2020-01-03 00:00:00' "$src/dom/u/inbox/1.imap"
ok "pass after an update in place" pass "$src"
ok "updated" cmp "$src/dom/u/inbox/1.imap" "$dst/dom/u/inbox/1.imap"
is "directory mtimes still kept" "$(dirtimes "$dst")" "$(dirtimes "$src")"

# A new message: the directory's new mtime follows.
printf 'new\n' >"$src/dom/u/inbox/2.imap"
touch -d '2020-01-04 00:00:00' "$src/dom/u/inbox/2.imap"
ok "pass after a new file" pass "$src"
is "directory mtimes follow" "$(dirtimes "$dst")" "$(dirtimes "$src")"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
# A directory the scan made up (an extern's domain absent on the
# source: no SOURCE, mtime 0) is compared by existence only.
iwm-scan --root mail="$src" |
    sed 's|^\(\.	d	0	\)[^	]*\(	[0-9]*	mail	dom	\).*|\10.000000000\2-|' >"$TMP/src.m"
ok "a made-up directory record" grep -q "^\.	d	0	0.000000000	.*	dom	-\$" "$TMP/src.m"
tscan --roots mail >"$TMP/dst.m"
iwm-diff "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
ok "is not compared by mtime" sh -c '! grep -q "	dom	" "$1"' - "$TMP/diff.m"
done_testing
