#!/bin/sh
# Copy correctness, type changes: a name that turns from a file into a
# directory (or back) between passes is replaced in one pass (deleted,
# then created), only inside the scope, and never on the word of an
# incomplete listing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/dom" "$dst"
printf 'file\n' >"$src/dom/x"
printf 'keep\n' >"$src/dom/y"
# Files written a while ago (recent ones are racily clean: 0311).
age() { find "$src" -type f -exec touch -d '2021-01-01 00:00:00' {} +; }
age
ok "agent starts" serve_start --root mail="$dst"
ok "first pass" pass "$src"
ok "x is a file on the target" test -f "$dst/dom/x"

# File to directory, with contents.
rm "$src/dom/x"
mkdir -p "$src/dom/x/sub"
printf 'a\n' >"$src/dom/x/a"
printf 'b\n' >"$src/dom/x/sub/b"
age
ok "pass after file -> directory" pass "$src"
ok "x is a directory with its contents" cmp "$src/dom/x/sub/b" "$dst/dom/x/sub/b"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0

# Directory (with a subtree) back to a file.
rm -r "$src/dom/x"
printf 'file again\n' >"$src/dom/x"
age
ok "pass after directory -> file" pass "$src"
ok "x is the file" cmp "$src/dom/x" "$dst/dom/x"
ok "the rest is untouched" cmp "$src/dom/y" "$dst/dom/y"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0

# An incomplete listing never deletes: the directory stays.
rm "$src/dom/x"
mkdir "$src/dom/x"
printf 'n\n' >"$src/dom/x/n"
ok "pass" pass "$src"
rm -r "$src/dom/x"
printf 'file\n' >"$src/dom/x"
iwm-scan --root mail="$src" | grep -v '^#iwm-end' >"$TMP/src.m"
tscan --roots mail >"$TMP/dst.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m" 2>"$TMP/diff.err"
ok "the diff deletes nothing" sh -c '! grep -q "^-" "$1"' - "$TMP/diff.m"
push --delete "$TMP/diff.m" >"$TMP/journal" 2>"$TMP/push.err"
ok "the target's directory is still there" test -f "$dst/dom/x/n"

# Outside the scope: never replaced.
iwm-scan --root mail="$src" | sed 's/^#iwm-manifest 1 .*/#iwm-manifest 1 scope=mail:other\//' >"$TMP/src.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
ok "out of scope: no deletion" sh -c '! grep -q "^-" "$1"' - "$TMP/diff.m"
done_testing
