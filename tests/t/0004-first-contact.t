#!/bin/sh
# What a new administrator hits first: typos are errors that say what to do,
# sizes have one syntax, and an install into any prefix finds its data.
. "$(dirname "$0")/../lib.sh"

iwsim create "$TMP/srv" --domains 1 --users 2 --no-mailboxes >/dev/null ||
    { echo "Bail out! iwsim create"; exit 1; }

exits "iwm-deps --ignore with a typo is a usage error" 64 \
    iwm-deps --tool "$TMP/srv/tool.sh" --ignore pathh
cp "$TMP/.out" "$TMP/err"
ok "... naming the valid categories" grep -q "valid: content-filter.*disk-space" "$TMP/err"
exits "iwm-deps --ignore path is accepted" 0 sh -c \
    'iwm-deps --tool "$1" --ignore path --ignore preserved >/dev/null; [ $? -le 2 ]' - "$TMP/srv/tool.sh"

exits "iwm-push --rate 20m (lower case) is refused" 64 \
    iwm-push --target https://127.0.0.1:9/ --rate 20m /dev/null
cp "$TMP/.out" "$TMP/err"
ok "... saying the suffixes are upper case" grep -q "upper case.*20M" "$TMP/err"
exits "iwm-serve --max-body 4g is refused" 64 iwm-serve --max-body 4g
exits "iwm-serve --max-body 0 is refused" 64 iwm-serve --max-body 0
exits "iwm-push --rate 1.5M is refused" 64 \
    iwm-push --target https://127.0.0.1:9/ --rate 1.5M /dev/null

# A domain the server does not host is an error naming those it hosts.
exits "iwm-scan --domain nosuch.example: exit 66" 66 \
    iwm-scan --tool "$TMP/srv/tool.sh" --domain nosuch.example
cp "$TMP/.out" "$TMP/err"
ok "... naming the hosted domains" grep -q "hosts: dom1.example" "$TMP/err"
ok "... and no manifest on standard output" sh -c \
    '! iwm-scan --tool "$1" --domain nosuch.example 2>/dev/null | grep -q .' - "$TMP/srv/tool.sh"
exits "iwm-scan --domain DOM1.EXAMPLE (another case) is accepted" 0 \
    iwm-scan --tool "$TMP/srv/tool.sh" --domain DOM1.EXAMPLE

# Every documented pipeline runs in POSIX sh: no bash process substitution.
ok "no <(...) in the README, man pages and examples" sh -c \
    '! grep -n "<(" "$1"/README.md "$1"/man/man*/*.[0-9] "$1"/examples/*' - "$TOP"

# The runbooks: first-phase.sh still says "something to copy" with exit 1
# (iwm-diff --exit-code); audit-nightly.sh says why it failed on stderr,
# where cron mails it.
printf '#iwm-manifest 1 scope=mail,archive,logs\n#iwm-end\n' >"$TMP/empty.m"
exits "first-phase.sh against an empty target: exit 1 (something to copy)" 1 \
    sh "$TOP/examples/first-phase.sh" -t "$TMP/srv/tool.sh" -w "$TMP/fp" "$TMP/empty.m"
IWM_AUDIT_DIR=$TMP/audit IWM_TOOL=$TMP/no-such-tool \
    sh "$TOP/examples/audit-nightly.sh" >"$TMP/audit.out" 2>"$TMP/audit.err"
is "audit-nightly.sh with a broken tool: exit 69 (that of iwm-deps)" "$?" 69
ok "... saying so on standard error" grep -q "iwm-deps failed with status 69" "$TMP/audit.err"
ok "... with iwm-deps' own message" grep -q "no-such-tool" "$TMP/audit.err"
is "... and nothing on standard output" "$(cat "$TMP/audit.out")" ""

# `make demo` says what it does before anything else.
is "make demo begins with what the demo does" \
    "$(make -s -n -C "$TOP" demo 2>/dev/null | head -n 1 | cut -c1-15)" 'echo "iwm demo:'

# Secrets files must be private, as ssh wants its keys.
printf 'alice:pw\n' >"$TMP/cred"
chmod 644 "$TMP/cred"
printf '#iwm-manifest 1\n+\tf\t1\t1.000000000\t644\tmail\ta\t/etc/hostname\n' >"$TMP/m"
fails "iwm-push refuses a credentials file others can read" \
    iwm-push --target https://127.0.0.1:9/ --credentials "$TMP/cred" \
    --fingerprint "$(printf '%064d' 0)" "$TMP/m"
cp "$TMP/.out" "$TMP/err"
ok "... saying which mode to set" grep -q "chmod 600 $TMP/cred" "$TMP/err"
printf 'pw\n' | iwm-serve --add-user alice --users "$TMP/users" >/dev/null 2>&1
chmod 640 "$TMP/users"
exits "iwm-serve refuses a users file the group can read" 69 \
    iwm-serve --listen 127.0.0.1:0 --insecure-http --users "$TMP/users" \
    --root data="$TMP/data"
cp "$TMP/.out" "$TMP/err"
ok "... saying which mode to set" grep -q "chmod 600" "$TMP/err"

# An install into a prefix other than the compiled-in one.
# Install the build that is there (plain or SAN=1) rather than switch it.
san=
[ -f "$TOP/.build-san" ] && san=SAN=1
make -s -C "$TOP" install $san PREFIX=/opt/iwm-elsewhere DESTDIR="$TMP/stage" \
    >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; echo "Bail out! make install"; exit 1; }
inst="$TMP/stage/opt/iwm-elsewhere"
for p in "$inst"/bin/iwm-*; do
	ok "installed $(basename "$p") --help exits 0" "$p" --help
done
ok "installed data files" test -f "$inst/share/iwm/deps.conf"
exits "installed iwm-deps finds deps.conf and audits" 0 sh -c \
    'IWM_DATADIR= "$1" --tool "$2" >"$3"; [ $? -le 2 ] && [ -s "$3" ]' - \
    "$inst/bin/iwm-deps" "$TMP/srv/tool.sh" "$TMP/deps.tsv"
ok "installed man pages" test -f "$inst/share/man/man1/iwm-scan.1"
done_testing
