#!/bin/sh
# iwm verify --content: each side hashes its own files (iwm-scan --hash
# on the source, the agent's GET /v1/hash on the target, XXH3-128) and
# the driver compares the hashes.  Equal trees pass; a target file changed in
# content with its size and mtime kept is found by --content only.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"

# shellcheck disable=SC2119 # no extra simulator options
drv_setup || { echo "Bail out! setup failed"; exit 1; }
ok "connect" iwm_ connect
ok "deps" iwm_ deps --ignore-errors
ok "copy" iwm_ copy

# The agent's hashed listing: the listing's records, an XXH3-128 in NOTE
# (known values: the empty file, and "abc\n").
mkdir -p "$TGT/mail/zz-known" "$TMP/known"
: >"$TGT/mail/zz-known/empty"
printf 'abc\n' >"$TGT/mail/zz-known/abc"
cp -p "$TGT/mail/zz-known/empty" "$TGT/mail/zz-known/abc" "$TMP/known/"
iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    --roots mail >"$TMP/list.m"
iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    --roots mail --hash >"$TMP/hash.m"
rm -r "$TGT/mail/zz-known"
is "same records as /v1/list" "$(cut -f1-7 "$TMP/hash.m" | md5sum)" \
    "$(cut -f1-7 "$TMP/list.m" | md5sum)"
note() { awk -F '\t' -v p="$2" '$7 == p { print $9 }' "$1"; }
is "the empty file's NOTE is its XXH3-128" "$(note "$TMP/hash.m" zz-known/empty)" \
    xxh128:99aa06d3014798d86001c324468d497f
is "and abc's" "$(note "$TMP/hash.m" zz-known/abc)" \
    xxh128:158bbebef0c159c99914d27c01087efa
iwm-scan --root known="$TMP/known" --hash >"$TMP/known.m"
is "the source hashes the same way (iwm-scan --hash)" \
    "$(note "$TMP/known.m" empty) $(note "$TMP/known.m" abc)" \
    "xxh128:99aa06d3014798d86001c324468d497f xxh128:158bbebef0c159c99914d27c01087efa"
F=$(cd "$TGT/mail" && find dom1.example -type f -name '*.imap' | sort | head -n 1)
iwm-scan --tool "$SRC/tool.sh" --roots mail --hash >"$TMP/src.m"
is "a copied file: the same hash on both sides" "$(note "$TMP/src.m" "$F")" \
    "$(note "$TMP/hash.m" "$F")"
ok "a hash, not nothing" sh -c 'case $1 in xxh128:????????????????????????????????) ;; *) exit 1 ;; esac' - "$(note "$TMP/src.m" "$F")"
ok "no NOTE on directories" sh -c '! awk -F "\t" "\$2 == \"d\" && NF > 8" "$1" | grep -q .' - "$TMP/hash.m"

ok "verify --content: equal trees pass" iwm_ verify --content
ok "with a summary line" said "^verify: equal: [0-9]+ files and directories \(contents compared\)"

# Same size, same mtime, another content: only the hashes differ.
T=$TGT/mail/$F
mt=$(stat -c %y "$T")
sz=$(stat -c %s "$T")
head -c "$sz" /dev/zero | tr '\0' 'Z' >"$T"
touch -d "$mt" "$T"
is "size kept" "$(stat -c %s "$T")" "$sz"
ok "plain verify does not see it" iwm_ verify
exits "verify --content finds it: exit 1" 1 iwm_ verify --content
ok "names the file and says content" said "differs.*$F.*content"
ok "the summary says how many differ" said "^verify: DIFFERENT: 1 of [0-9]+ files and directories differ \(contents compared\)"
exits "verify takes no other argument" 64 iwm_ verify --bogus
done_testing
