#!/bin/sh
# The driver's first phase on two simulated servers and a real agent:
# init (secrets, a configuration that is parsed, never run), connect and
# its failures, deps and --ignore-errors, copy (the four steps) with mail
# changes between passes, sync, verify, an unreadable file in `iwm
# failed`, status, reset.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"

drv_setup --plant adsync:2 || { echo "Bail out! setup failed"; exit 1; }

# --- init ---------------------------------------------------------------
ok "init wrote iwm.conf" grep -q "^TARGET_URL=$URL\$" "$TMP/iwm.conf"
ok "no secret in iwm.conf" sh -c '! grep -q secret-pw "$1"' - "$TMP/iwm.conf"
fails "init refuses to replace iwm.conf" iwm_ init --target "$URL"
chmod 644 "$TMP/cred"
ok "init --force" iwm_ init --force --target "$URL" --credentials "$TMP/cred" \
    --fingerprint "$FP" --tool "$SRC/tool.sh" --target-tool "$TGT/tool.sh" \
    --migration-dir "$TMP/mig"
is "init made the credentials file 0600" "$(stat -c %a "$TMP/cred")" 600
exits "init refuses proxy credentials in the URL" 64 \
    iwm_c "$TMP/other.conf" init --target "$URL" \
    --credentials "$TMP/cred" --proxy http://u:p@proxy:3128
# On a terminal, init asks; the passwords go to files of mode 0600 only.
if command -v script >/dev/null 2>&1; then
	printf 'https://127.0.0.1:9\n\nagentuser\nagent-pw\nAB:CD\nhttp://proxy:3128\ny\n\npuser\npx-pw\ny\n\nldap.t\ncn=x\nad-pw\n\n/opt/x/tool.sh\n\n' |
	    script -qec "sh $TOP/bin/iwm -c $TMP/tty/iwm.conf init" /dev/null >/dev/null 2>&1
	ok "init on a terminal wrote iwm.conf" grep -q '^PROXY=http://proxy:3128$' "$TMP/tty/iwm.conf"
	is "the agent's credentials, mode 0600" "$(stat -c %a "$TMP/tty/credentials") $(cat "$TMP/tty/credentials")" "600 agentuser:agent-pw"
	is "the proxy's, mode 0600" "$(stat -c %a "$TMP/tty/proxy-credentials") $(cat "$TMP/tty/proxy-credentials")" "600 puser:px-pw"
	ok "the directory credentials as the restore reads them" grep -qx 'password=ad-pw' "$TMP/tty/dircreds"
	ok "no password in iwm.conf" sh -c '! grep -q "agent-pw\|px-pw\|ad-pw" "$1"' - "$TMP/tty/iwm.conf"
fi
# The configuration is read, never run.
cp "$TMP/iwm.conf" "$TMP/evil.conf"
printf 'JOBS=$(touch %s/pwned)4\n' "$TMP" >>"$TMP/evil.conf"
exits "a value with \$(...) is not run, it is refused as JOBS" 65 \
    iwm_c "$TMP/evil.conf" status
ok "nothing was run" test ! -e "$TMP/pwned"
printf 'FOO=1\n' >"$TMP/bad.conf"
exits "an unknown name is an error" 65 iwm_c "$TMP/bad.conf" status

# --- connect ------------------------------------------------------------
sed "s/^FINGERPRINT=.*/FINGERPRINT=$(printf '%064d' 0 | sed 's/../&:/g;s/:$//')/" \
    "$TMP/iwm.conf" >"$TMP/wrongfp.conf"
exits "connect with a wrong fingerprint: exit 77" 77 \
    iwm_c "$TMP/wrongfp.conf" connect
ok "and says so" said "certificate does not match"
chmod 640 "$TMP/cred"
fails "connect refuses a credentials file readable by others" iwm_ connect
ok "and names the mode" said "mode 640"
chmod 600 "$TMP/cred"
ok "connect: everything checked" iwm_ connect
ok "the target's administrator in its own domain" said "ok .*target administrator admin@target.local"
ok "the target's database connections" said "ok .*target database connections work"
ok "the target's DNS" said "ok .*DNS server set"
ok "the target's VoIP hosts" said "ok .*VoIP interface hosts"
# The preconfiguration checks fail with a clear message on a bare target.
iwsim create "$TMP/bare" --seed 3 --domains 1 --users 1 --messages 1 >/dev/null
"$TMP/bare/tool.sh" set system C_Mail_SMTP_General_DNSServer "" >/dev/null 2>&1
sed "s|^TARGET_TOOL=.*|TARGET_TOOL=$TMP/bare/tool.sh|" "$TMP/iwm.conf" >"$TMP/bare.conf"
exits "connect to a target that is not pre-configured: exit 1" 1 \
    iwm_c "$TMP/bare.conf" connect
ok "no administrator in a domain of its own" said "FAIL.*administrator"
ok "no DNS server" said "FAIL.*DNS server"

# --- deps -----------------------------------------------------------------
exits "copy before deps is refused" 64 iwm_ copy
exits "deps: two directory-synchronised domains stop the migration" 2 iwm_ deps
ok "the CSV is kept in the migration folder" grep -q '^Severity,Category' "$TMP/mig/deps.csv"
exits "copy after deps errors is refused" 2 iwm_ copy
ok "deps --ignore-errors goes on" iwm_ deps --ignore-errors

# --- copy: the four steps -----------------------------------------------------
(cd "$TGT/mail/target.local" && find . | sort) >"$TMP/own.before"
ok "copy" iwm_ copy
ok "the disk space check ran first" said "disk space check"
ok "step 1" said "step 1: all files"
ok "step 4" said "step 4: new webmail cache rows"
ok "mailboxes copied" same_tree "$SRC/mail/dom1.example/user1" "$TGT/mail/dom1.example/user1"
TARCH=$("$TGT/tool.sh" get system C_System_Tools_AutoArchive_Path | sed 's/^[^:]*: //')
ok "archive copied into the target's own archive path" same_tree "$SRC/archive/dom2.example" "${TARCH%/}/dom2.example"
ok "logs copied" test -d "$TGT/logs/smtp"
(cd "$TGT/mail/target.local" && find . | sort) >"$TMP/own.after"
ok "the target's own domain untouched" cmp "$TMP/own.before" "$TMP/own.after"
ok "log in <logs>/migration (the guide's migYYYYDDMM)" test -s "$SRC/logs/migration/mig$(date +%Y%d%m).log"
ok "log in <temp>" test -s "$SRC/temp/mig$(date +%Y%d%m).log"
ok "log lines: time, step, what happened" sh -c \
    'grep -qE "^[0-9-]+T[0-9:]+Z	copy	pass 1 \(copy\)" "$1"' - "$SRC/temp/mig$(date +%Y%d%m).log"
ok "no secret in the logs" sh -c '! grep -rq secret-pw "$1/logs/migration" "$1/temp" "$2"' - "$SRC" "$TMP/mig"

# --- mail changes between passes ----------------------------------------------
U=$SRC/mail/dom1.example/user1
printf 'From: a@b\n\nnew message\n' >"$U/inbox/new1.imap"
first=$(find "$U/inbox" -name '*.imap' | sort | head -n 1)
rm -f "$first"
mv "$U/Projects" "$U/Projects renamed"
rewritten=$(find "$U/Sent" -name '*.imap' | sort | head -n 1)
printf 'rewritten in place, same name\n' >>"$rewritten"
ok "sync" iwm_ sync
ok "sync prints its duration and amount" said "^sync: [0-9]+ files, .* moved, [0-9]+ deleted, [0-9]+ failed in [0-9]+ s"
ok "after sync the mailbox equals the source" same_tree "$U" "$TGT/mail/dom1.example/user1"
ok "the deleted message is gone" test ! -e "$TGT/mail/dom1.example/user1/inbox/$(basename "$first")"
ok "the old folder name is gone" test ! -e "$TGT/mail/dom1.example/user1/Projects"
ok "verify: equal" iwm_ verify
ok "verify prints a summary line" said "^verify: equal"
printf 'x' >>"$TGT/mail/dom1.example/user2/inbox/imapindex.dat"
exits "verify finds a file changed on the target: exit 1" 1 iwm_ verify
ok "and names it" said "differs.*user2/inbox/imapindex.dat"

# --- an unreadable file ---------------------------------------------------------
printf 'secret mail\n' >"$U/inbox/locked.imap"
chmod 000 "$U/inbox/locked.imap"
# As root, without the capabilities that bypass file modes.
exits "sync with an unreadable file: exit 0, the file is reported" 0 \
    setpriv --bounding-set -dac_override,-dac_read_search --inh-caps=-all \
    sh "$TOP/bin/iwm" -c "$TMP/iwm.conf" sync
iwm_ failed >/dev/null
ok "iwm failed lists it" said "user1/inbox/locked.imap"
iwm_ failed --save "$TMP/f.txt" >/dev/null
ok "iwm failed --save FILE" grep -q locked.imap "$TMP/f.txt"
iwm_ status >/dev/null
ok "status counts it" said "failed files *1"
chmod 644 "$U/inbox/locked.imap"
ok "the next pass copies it" iwm_ sync
iwm_ failed >/dev/null
ok "and iwm failed is empty" said "no failed files"

# --- status and reset ---------------------------------------------------------------
iwm_ status >/dev/null
ok "status shows the phase" said "phase *copied"
ok "status shows the passes" said "^  1 +copy"
n_tgt=$(find "$TGT/mail" -type f | wc -l)
ok "reset" iwm_ reset
iwm_ status >/dev/null
ok "reset cleared the progress" said "phase *new"
is "reset deleted nothing on the target" "$(find "$TGT/mail" -type f | wc -l)" "$n_tgt"
exits "after reset, copy needs connect again" 64 iwm_ copy
done_testing
