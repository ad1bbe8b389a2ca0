#!/bin/sh
# Copy correctness, permissions: a chmod with the same size and mtime is
# carried (files and directories).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/dom/u" "$dst"
printf 'mail\n' >"$src/dom/u/1.imap"
chmod 600 "$src/dom/u/1.imap"
chmod 700 "$src/dom/u"
# Files written a while ago (recent ones are racily clean: 0311).
age() { find "$src" -type f -exec touch -d '2021-01-01 00:00:00' {} +; }
age
ok "agent starts" serve_start --root mail="$dst"
ok "first pass" pass "$src"
is "mode copied" "$(stat -c %a "$dst/dom/u/1.imap")" 600
chmod 640 "$src/dom/u/1.imap"
chmod 750 "$src/dom/u"
ok "pass after chmod" pass "$src"
is "file mode carried" "$(stat -c %a "$dst/dom/u/1.imap")" 640
is "directory mode carried" "$(stat -c %a "$dst/dom/u")" 750
is "mtime unchanged" "$(stat -c %.9Y "$dst/dom/u/1.imap")" \
    "$(stat -c %.9Y "$src/dom/u/1.imap")"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
done_testing
