#!/bin/sh
# Copy correctness, deltas: the client sends a hash (XXH3-128) of the whole new
# file with each delta and the agent checks the patched file before the
# rename.  A target file changed between its signature and the patch
# (keeping its size and mtime, as a write within one clock tick does) is
# patched against the wrong base: the check fails (412), the file goes
# whole, and --stats counts it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/logs" "$dst" "$TMP/cache"
head -c 4194304 /dev/urandom >"$src/logs/big"
touch -d '2022-03-04 05:06:07.5' "$src/logs/big"
ok "agent starts" serve_start --root mail="$dst" --sig-cache "$TMP/cache"
ok "first pass" pass "$src"
ok "copied" cmp "$src/logs/big" "$dst/logs/big"

# A normal delta passes the check.
head -c 65536 /dev/urandom |
    dd of="$src/logs/big" bs=65536 seek=3 conv=notrunc 2>/dev/null
touch -d '2022-03-05 05:06:07.5' "$src/logs/big"
ok "second pass" pass "$src"
is "sent as a delta" "$(stat_of deltas)" 1
is "no check failed" "$(stat_of delta_mismatch)" 0
ok "identical" cmp "$src/logs/big" "$dst/logs/big"

# The first MiB changes on the source: a slow literal, then copies.
head -c 1048576 /dev/urandom |
    dd of="$src/logs/big" bs=1048576 seek=0 conv=notrunc 2>/dev/null
touch -d '2022-03-06 05:06:07.5' "$src/logs/big"
iwm-scan --root mail="$src" >"$TMP/src.m"
tscan --roots mail >"$TMP/dst.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
push_bg --delete --stats --rate 1048576 "$TMP/diff.m" >"$TMP/journal" \
    2>"$TMP/push.err"
ok "the patch has begun" wait_upload "$dst/logs"
# Meanwhile the target's copy changes in place: same size, same mtime.
m=$(stat -c %.9Y "$dst/logs/big")
head -c 1048576 /dev/urandom |
    dd of="$dst/logs/big" bs=1048576 seek=3 conv=notrunc 2>/dev/null
touch -d "@$m" "$dst/logs/big"
wait "$PUSH_PID"
is "push succeeds" "$?" 0
ok "the file is the source's" cmp "$src/logs/big" "$dst/logs/big"
is "the failed check is counted" "$(stat_of delta_mismatch)" 1
is "... and the file went whole" "$(stat_of deltas)" 0
ok "the agent logged it" grep -q "whole-file check of a delta failed" \
    "$TMP/serve.log"
ok "no temp files" no_temps "$dst"
ok "next pass: nothing to do" pass "$src"
is "no record" "$(records "$TMP/journal")" 0
done_testing
