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
done_testing
