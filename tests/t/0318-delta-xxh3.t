#!/bin/sh
# Signatures with XXH3-128 strong sums (iwm-protocol(7)): iwm-push asks
# for them with X-Iwm-Sig: xxh3 and its deltas against them rebuild the
# file; a client that does not ask (an older iwm-push, curl) gets
# librsync's BLAKE2 format as before; the signature cache keeps both
# formats apart, each derived after a delta, each equal to a fresh one.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
cache=$TMP/sigcache
mkdir -p "$src/logs" "$dst"
f=logs/big.log
head -c 8388608 /dev/urandom >"$src/$f"
touch -d '2021-05-06 07:08:09' "$src/$f"

# sig NAME [HEADER]: GET /v1/sig of the file into $TMP/NAME (headers in
# $TMP/NAME.h).
sig() {
	s_name=$1
	shift
	curl -sk --fail -u alice:secret-pw -D "$TMP/$s_name.h" \
	    -o "$TMP/$s_name" "$@" "$URL/v1/sig/mail/$f"
}
# magic FILE: the first four bytes in hex.
magic() {
	od -An -tx1 -N4 "$1" | tr -d ' \n'
}
entries() {
	find "$cache" -type f -name "$1" | wc -l
}
change() {	# change OFFSET-IN-64K-BLOCKS DATE
	head -c 65536 /dev/urandom |
	    dd of="$src/$f" bs=65536 seek="$1" conv=notrunc 2>/dev/null
	touch -d "$2" "$src/$f"
}

ok "agent starts" serve_start --root mail="$dst" --sig-cache "$cache"
ok "first pass" pass "$src"
ok "copied" cmp "$src/$f" "$dst/$f"
is "the upload is signed in the XXH3 format" "$(entries '*.xxh3')" 1
is "... and only in it" "$(entries '*')" 1

ok "signature asked with X-Iwm-Sig: xxh3" sig x3 -H 'X-Iwm-Sig: xxh3'
is "it has iwm's magic (iwm3)" "$(magic "$TMP/x3")" 69776d33
ok "the agent says which" grep -qi '^X-Iwm-Sig: xxh3' "$TMP/x3.h"
ok "signature asked without the header (an older client)" sig b2
is "it is librsync's BLAKE2 format" "$(magic "$TMP/b2")" 72730137
ok "content type unchanged for it" grep -qi \
    '^Content-Type: application/x-librsync-signature' "$TMP/b2.h"
ok "an unknown X-Iwm-Sig gets BLAKE2 too" sig md4 -H 'X-Iwm-Sig: md4'
ok "... the same bytes" cmp "$TMP/b2" "$TMP/md4"
is "the same length: strong sums truncated alike" \
    "$(stat -c %s "$TMP/x3")" "$(stat -c %s "$TMP/b2")"
is "the cache holds both formats" "$(entries '*')" 2
ok "again from the cache: the same XXH3 bytes" sig x3b -H 'X-Iwm-Sig: xxh3'
ok "... identical" cmp "$TMP/x3" "$TMP/x3b"
serve_stop

ok "agent without cache" serve_start --root mail="$dst"
ok "fresh XXH3 signature" sig x3fresh -H 'X-Iwm-Sig: xxh3'
ok "the upload's signature is the computed one" cmp "$TMP/x3" "$TMP/x3fresh"
ok "fresh BLAKE2 signature" sig b2fresh
ok "the cached BLAKE2 one is the computed one" cmp "$TMP/b2" "$TMP/b2fresh"
serve_stop

# A delta from iwm-push, with only the BLAKE2 entry cached: the agent
# signs in XXH3 for it (so iwm-push asked for XXH3) and derives both.
ok "agent with cache again" serve_start --root mail="$dst" --sig-cache "$cache"
rm -f "$cache"/*.xxh3
change 40 '2021-05-07 07:08:09'
ok "delta pass" pass "$src"
is "sent as a delta" "$(stat_of deltas)" 1
is "no whole-file check failed" "$(stat_of delta_mismatch)" 0
ok "identical after the delta" cmp "$src/$f" "$dst/$f"
ok "mtime kept" same_mtimes "$src" "$dst"
is "iwm-push asked for XXH3: its entry is back" "$(entries '*.xxh3')" 1
is "both formats derived for the new file" "$(entries '*')" 2
wire=$(stat_of wire)
ok "wire bytes ($wire) under 5% of 8 MiB" test "$wire" -lt 419430
change 90 '2021-05-08 07:08:09'
ok "a delta on the derived XXH3 signature" pass "$src"
is "sent as a delta again" "$(stat_of deltas)" 1
ok "identical again" cmp "$src/$f" "$dst/$f"
ok "derived XXH3 signature" sig x3derived -H 'X-Iwm-Sig: xxh3'
ok "derived BLAKE2 signature" sig b2derived
is "both still cached (no new entry)" "$(entries '*')" 2
serve_stop
ok "agent without cache, once more" serve_start --root mail="$dst"
ok "fresh XXH3" sig x3fresh2 -H 'X-Iwm-Sig: xxh3'
ok "fresh BLAKE2" sig b2fresh2
ok "the derived XXH3 signature is the file's" cmp "$TMP/x3derived" \
    "$TMP/x3fresh2"
ok "the derived BLAKE2 signature is the file's" cmp "$TMP/b2derived" \
    "$TMP/b2fresh2"

# No cache at all: a delta against an XXH3 signature computed on demand.
change 100 '2021-05-09 07:08:09'
ok "delta pass without cache" pass "$src"
is "sent as a delta" "$(stat_of deltas)" 1
ok "identical" cmp "$src/$f" "$dst/$f"
ok "its XXH3 signature" sig x3fresh3 -H 'X-Iwm-Sig: xxh3'
serve_stop

ok "agent with cache, the file changed behind it" \
    serve_start --root mail="$dst" --sig-cache "$cache"
ok "XXH3 signature" sig x3stale -H 'X-Iwm-Sig: xxh3'
fails "... not the stale cached one" cmp "$TMP/x3stale" "$TMP/x3derived"
ok "... but the file's" cmp "$TMP/x3stale" "$TMP/x3fresh3"
ok "no temp files" no_temps "$dst"
rm "$src/$f"
ok "delete pass" pass "$src"
is "cache emptied, both formats" "$(entries '*')" 0
done_testing
