#!/bin/sh
# iwm-serve --sig-cache: signatures of written files are kept outside the
# roots and used while the file is unchanged, so deltas need no read of
# the base; a file changed behind the agent's back (even with its size
# and mtime put back) is signed afresh; results stay identical.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
cache=$TMP/sigcache
mkdir -p "$src/logs" "$dst"
ok "cache inside a root is refused" sh -c '! iwm-serve --listen 127.0.0.1:0 \
    --insecure-http --users /dev/null --root mail="$1" \
    --sig-cache "$1/c" 2>/dev/null' sh "$dst"
head -c 8388608 /dev/urandom >"$src/logs/big.log"
touch -d '2021-05-06 07:08:09' "$src/logs/big.log"
ok "agent starts" serve_start --root mail="$dst" --sig-cache "$cache"
ok "first pass" pass "$src"
ok "copied" cmp "$src/logs/big.log" "$dst/logs/big.log"
is "upload signed into the cache" "$(find "$cache" -type f | wc -l)" 1
curl -sk --fail -u alice:secret-pw -o "$TMP/sig.cached" \
    "$URL/v1/sig/mail/logs/big.log"
serve_stop
ok "agent without cache" serve_start --root mail="$dst"
curl -sk --fail -u alice:secret-pw -o "$TMP/sig.fresh" \
    "$URL/v1/sig/mail/logs/big.log"
ok "cached signature is the computed one" cmp "$TMP/sig.cached" "$TMP/sig.fresh"
serve_stop
ok "agent with cache again" serve_start --root mail="$dst" --sig-cache "$cache"

change() {	# change OFFSET-IN-64K-BLOCKS DATE
	head -c 65536 /dev/urandom |
	    dd of="$src/logs/big.log" bs=65536 seek="$1" conv=notrunc 2>/dev/null
	touch -d "$2" "$src/logs/big.log"
}
change 40 '2021-05-07 07:08:09'
ok "delta pass" pass "$src"
is "sent as a delta" "$(stat_of deltas)" 1
ok "identical after the delta" cmp "$src/logs/big.log" "$dst/logs/big.log"
change 90 '2021-05-08 07:08:09'
ok "delta on a derived signature" pass "$src"
is "sent as a delta again" "$(stat_of deltas)" 1
ok "identical again" cmp "$src/logs/big.log" "$dst/logs/big.log"
curl -sk --fail -u alice:secret-pw -o "$TMP/sig.derived" \
    "$URL/v1/sig/mail/logs/big.log"

# Appended: a new size, the derived signature keeps the block length.
head -c 300000 /dev/urandom >>"$src/logs/big.log"
ok "append pass" pass "$src"
ok "identical after append" cmp "$src/logs/big.log" "$dst/logs/big.log"

# Changed behind the agent's back, size and mtime put back.
m=$(stat -c %y "$dst/logs/big.log")
head -c 65536 /dev/urandom |
    dd of="$dst/logs/big.log" bs=65536 seek=10 conv=notrunc 2>/dev/null
touch -d "$m" "$dst/logs/big.log"
change 100 '2021-05-09 07:08:09'
ok "pass after a change behind the agent" pass "$src"
ok "identical (stale signature not used)" cmp "$src/logs/big.log" \
    "$dst/logs/big.log"

# A base changed between signature and delta: still 409.
bsize=$(stat -c %s "$dst/logs/big.log")
code=$(curl -sk -o /dev/null -w '%{http_code}' -u alice:secret-pw -X POST \
    -H "X-Iwm-Base-Size: $bsize" -H "X-Iwm-Base-Mtime: 1.000000000" \
    -H "X-Iwm-Size: 1" -H "X-Iwm-Mtime: 1.000000000" -H "X-Iwm-Mode: 644" \
    --data-binary @/dev/null "$URL/v1/delta/mail/logs/big.log")
is "delta on a changed base: 409" "$code" 409
ok "mtime kept" same_mtimes "$src" "$dst"
ok "no temp files" no_temps "$dst"

# Deleted: the entry goes.
rm "$src/logs/big.log"
ok "delete pass" pass "$src"
is "cache emptied" "$(find "$cache" -type f | wc -l)" 0
done_testing
