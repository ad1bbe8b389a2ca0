#!/bin/sh
# Copy correctness, mtimes: nanoseconds are compared (the agent's listing
# says what its file system stores), and a copy taken within a clock tick
# of its source's mtime is racily clean: the agent marks it, its listing
# says so, and the next pass checks it by content, even after a restart
# of the agent.  Two same-size writes inside one clock tick (simulated:
# the second write gets the first one's mtime back) must both arrive.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/d" "$dst"
printf 'first version.\n' >"$src/d/ns"
touch -d '2021-01-01 00:00:00.100000000' "$src/d/ns"
ok "agent starts" serve_start --root mail="$dst"
ok "the listing says what the file system stores" sh -c \
    'iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" |
    head -n 1 | grep -q " mtime-res=1 .*modes=1"'
ok "first pass" pass "$src"
ok "copied" cmp "$src/d/ns" "$dst/d/ns"
is "target keeps the mtime to the nanosecond" \
    "$(stat -c %.9Y "$dst/d/ns")" "$(stat -c %.9Y "$src/d/ns")"

# Same size, same second, 0.1 s later.
printf 'other version.\n' >"$src/d/ns"
touch -d '2021-01-01 00:00:00.200000000' "$src/d/ns"
ok "second pass" pass "$src"
ok "a change within the same second is copied" cmp "$src/d/ns" "$dst/d/ns"

# A file copied right after it was written: racily clean.
printf 'AAAAAAAAAAAAAAAA\n' >"$src/d/hot"
m=$(stat -c %.9Y "$src/d/hot")
ok "pass copies the hot file" pass "$src"
ok "copied" cmp "$src/d/hot" "$dst/d/hot"
tscan --roots mail >"$TMP/list"
ok "the target's listing marks the copy racy" grep -q "	d/hot	-	racy\$" "$TMP/list"
ok "... and only that one" sh -c '[ "$(grep -c "	racy\$" "$1")" = 1 ]' - "$TMP/list"
ok "the mark is kept on the target" test -s "$dst/.iwm-racy"
ok "... and never listed" sh -c '! grep -q "iwm-racy" "$1"' - "$TMP/list"

# The second write of the same tick: same size, same mtime.
printf 'BBBBBBBBBBBBBBBB\n' >"$src/d/hot"
touch -d "@$m" "$src/d/hot"
is "same size and mtime as the copy" "$(stat -c '%s %.9Y' "$src/d/hot")" \
    "$(stat -c '%s %.9Y' "$dst/d/hot")"
# Days later: another agent process reads the mark from disk.
serve_stop
ok "agent restarts" serve_start --root mail="$dst"
ok "next pass" pass "$src"
ok "the second write arrived" cmp "$src/d/hot" "$dst/d/hot"
ok "... checked by content (a delta or the whole small file)" \
    grep -q "d/hot" "$TMP/journal"

# Once the copy is older than a tick, it is trusted again.
sleep 3
ok "a pass after the tick" pass "$src"
tscan --roots mail >"$TMP/list"
ok "no racy copy left" sh -c '! grep -q "	racy\$" "$1"' - "$TMP/list"
ok "the mark file is gone" test ! -e "$dst/.iwm-racy"
ok "then nothing to do" pass "$src"
is "no record in the journal" "$(records "$TMP/journal")" 0

# A client cannot touch the mark file.
code=$(curl -sk -o /dev/null -w '%{http_code}' -u alice:secret-pw -X PUT \
    -H "X-Iwm-Size: 0" -H "X-Iwm-Mtime: 1.000000000" -H "X-Iwm-Mode: 644" \
    --data-binary @/dev/null "$URL/v1/file/mail/.iwm-racy")
is "the mark file's name is reserved" "$code" 400
done_testing
