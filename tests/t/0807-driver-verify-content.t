#!/bin/sh
# iwm verify --content: each side hashes its own files (iwm-scan --hash
# on the source, the agent's GET /v1/hash on the target) and the driver
# compares the hashes.  Equal trees pass; a target file changed in
# content with its size and mtime kept is found by --content only.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"

# shellcheck disable=SC2119 # no extra simulator options
drv_setup || { echo "Bail out! setup failed"; exit 1; }
ok "connect" iwm_ connect
ok "deps" iwm_ deps --ignore-errors
ok "copy" iwm_ copy

# The agent's hashed listing: the listing's records, a SHA-256 in NOTE.
iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    --roots mail >"$TMP/list.m"
iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    --roots mail --hash >"$TMP/hash.m"
is "same records as /v1/list" "$(cut -f1-7 "$TMP/hash.m" | md5sum)" \
    "$(cut -f1-7 "$TMP/list.m" | md5sum)"
F=dom1.example/user1/inbox/imapindex.dat
[ -f "$TGT/mail/$F" ] || F=$(cd "$TGT/mail" && find dom1.example -type f -name '*.imap' | sort | head -n 1)
is "a file's NOTE is its SHA-256" \
    "$(awk -F '\t' -v p="$F" '$7 == p { print $9 }' "$TMP/hash.m")" \
    "sha256:$(sha256sum <"$TGT/mail/$F" | cut -d' ' -f1)"
is "the source hashes the same way (iwm-scan --hash)" \
    "$(iwm-scan --root mail="$SRC/mail" --hash | awk -F '\t' -v p="$F" '$7 == p { print $9 }')" \
    "sha256:$(sha256sum <"$SRC/mail/$F" | cut -d' ' -f1)"
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
