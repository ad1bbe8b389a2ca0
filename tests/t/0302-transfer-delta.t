#!/bin/sh
# A large file changed in the middle goes as a librsync delta: the bytes
# on the wire are a small fraction of the file and the result is
# identical.  A delta against a base that changed meanwhile is refused
# with 409 and the file goes whole instead.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/logs" "$dst"
head -c 33554432 /dev/urandom >"$src/logs/big.log"
touch -d '2021-05-06 07:08:09' "$src/logs/big.log"
ok "agent starts" serve_start --root mail="$dst"
ok "first pass" pass "$src"
ok "copied" cmp "$src/logs/big.log" "$dst/logs/big.log"

# Change 64 KiB in the middle, keep the size.
head -c 65536 /dev/urandom |
    dd of="$src/logs/big.log" bs=65536 seek=256 conv=notrunc 2>/dev/null
touch -d '2021-05-07 07:08:09' "$src/logs/big.log"
ok "second pass" pass "$src"
ok "identical after the delta" cmp "$src/logs/big.log" "$dst/logs/big.log"
ok "mtime kept" same_mtimes "$src" "$dst"
is "sent as a delta" "$(stat_of deltas)" 1
wire=$(stat_of wire)
ok "wire bytes ($wire) under 5% of 32 MiB" test "$wire" -lt 1677721
ok "no temp files" no_temps "$dst"

# Appended log: a delta too.
head -c 100000 /dev/urandom >>"$src/logs/big.log"
ok "third pass (append)" pass "$src"
ok "identical after append" cmp "$src/logs/big.log" "$dst/logs/big.log"
is "append sent as a delta" "$(stat_of deltas)" 1

# The base changes between signature and delta: 409, then sent whole.
sig=$TMP/sig
curl -sk --fail -u alice:secret-pw -o "$sig" -D "$TMP/h" "$URL/v1/sig/mail/logs/big.log"
ok "signature fetched" test -s "$sig"
bsize=$(sed -n 's/^X-Iwm-Size: *\([0-9]*\).*/\1/p' "$TMP/h")
is "signature reports the size" "$bsize" "$(stat -c %s "$dst/logs/big.log")"
code=$(curl -sk -o /dev/null -w '%{http_code}' -u alice:secret-pw -X POST \
    -H "X-Iwm-Base-Size: $bsize" -H "X-Iwm-Base-Mtime: 1.000000000" \
    -H "X-Iwm-Size: 1" -H "X-Iwm-Mtime: 1.000000000" -H "X-Iwm-Mode: 644" \
    --data-binary @/dev/null "$URL/v1/delta/mail/logs/big.log")
is "delta on a changed base: 409" "$code" 409
ok "target file untouched" cmp "$src/logs/big.log" "$dst/logs/big.log"
done_testing
