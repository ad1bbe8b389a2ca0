#!/bin/sh
# iwm menu under tmux, against two simulated servers and a real agent, in
# the order of IceWarp's Linux migrator: Connection (the certificate's
# fingerprint confirmed), Directory service, Dependencies (errors block
# Next, Save CSV, Ignore errors and continue), the main menu, Start full
# migration, Copy changes with its progress screen (pause, resume, speed),
# Finalize (confirmed), Start target server (the DNS reminder), Show
# failed files, Exit.  The target ends equal to the source; no secret
# typed into the menu is in a log, a command line or iwm.conf.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/menu.sh"

drv_setup --plant adsync:1 --plant path:backup:outside || { echo "Bail out! setup failed"; exit 1; }
# Only the local settings: the menu asks for the rest.
printf 'TOOL=%s\nTARGET_TOOL=%s\nMIGRATION_DIR=%s\n' "$SRC/tool.sh" \
    "$TGT/tool.sh" "$TMP/mig" >"$TMP/iwm.conf"
rm -f "$TMP/cred"
# Enough for the first phase to measure the full speed (1 MiB and more
# than 0.05 s of transfer), which Speed takes its percent of.
head -c 67108864 /dev/urandom >"$SRC/mail/dom1.example/user1/inbox/big.imap"
ok "the menu starts in tmux" menu_start

# --- Connection ---------------------------------------------------------------
ok "Connection screen" shows 'Connection.*'
ok "it asks for the host, the administrator and the password" \
    grep -q 'Password' "$TMP/screen"
ok "and SSL and the proxy" grep -q 'Use proxy server' "$TMP/screen"
typed "${URL#https://}"; keys Down
typed alice; keys Down
typed secret-pw; keys Enter
ok "the certificate's fingerprint is shown to confirm" shows 'authenticity'
fp1=$(printf '%s' "$FP" | cut -c1-47)
ok "it is the agent's ($fp1...)" grep -qF "$fp1" "$TMP/screen"
keys Enter

# --- Directory service ----------------------------------------------------------
ok "Directory service screen" shows 'Leave the fields blank'
typed ldap.target.local; keys Down
typed 'CN=sync,DC=target'; keys Down
typed 'ad-s3cret'; keys Enter

# --- Dependencies ---------------------------------------------------------------
ok "Dependencies screen after connecting" shows '\[ \] Ignore errors'
ok "the list with severities" grep -qE 'x error +[a-z-]+ ' "$TMP/screen"
ok "and the summary" grep -q '1 error, ' "$TMP/screen"
ok "iwm.conf written by the menu" grep -q "^TARGET_URL=$URL\$" "$TMP/iwm.conf"
ok "with the confirmed fingerprint" grep -qi "^FINGERPRINT=$FP\$" "$TMP/iwm.conf"
is "the credentials file is 0600" "$(stat -c %a "$TMP/credentials")" 600
is "the directory credentials file is 0600" "$(stat -c %a "$TMP/dircreds")" 600
ok "the directory credentials hold what was typed" \
    grep -qx 'password=ad-s3cret' "$TMP/dircreds"
keys Enter
ok "errors block Next" shows 'go on anyway'
keys Enter
shows '\[ \] Ignore errors' >/dev/null
keys Down Down Enter
ok "Save CSV asks where" shows 'Save the dependencies as CSV'
keys C-u; typed "$TMP/saved.csv"; keys Enter
ok "and saves it" shows 'Saved to'
ok "the CSV is the audit's" cmp "$TMP/saved.csv" "$TMP/mig/deps.csv"
keys Enter
shows '\[ \] Ignore errors' >/dev/null
# The cursor stays on Save CSV: Ignore is two lines down.
keys Down Down Enter
ok "Ignore errors and continue ticked" shows '\[X\] Ignore errors'
keys Enter

# --- Main menu: Start full migration ----------------------------------------------
ok "main menu" shows 'Start full migration'
ok "with the phase" grep -q 'Phase: connected' "$TMP/screen"
ok "a description line under the items" shows 'First phase, the source keeps running' 10
ok "every item" sh -c 'for i in "Copy changes" "Finalize migration" "Start target server" "Show failed files" "Exit"; do grep -q "$i" "$1" || exit 1; done' - "$TMP/screen"
choose 1 'First phase, the source keeps running'
ok "Start full migration ends with the driver's summary" shows 'Start full migration: done\.' 90
ok "the driver's summary" grep -q 'copy: first phase done' "$TMP/screen"
keys Enter
ok "the main menu shows the phase and the last pass" shows 'Last pass: copy pass at'
ok "phase copied" grep -q 'Phase: copied' "$TMP/screen"
ok "the mailboxes are on the target" same_tree "$SRC/mail/dom1.example/user1" "$TGT/mail/dom1.example/user1"

# --- Copy changes: progress, pause, resume, speed --------------------------------------
U=$SRC/mail/dom1.example/user1
i=0
while [ "$i" -lt 12 ]; do
	head -c 2097152 /dev/urandom >"$U/inbox/p$i.imap"
	i=$((i + 1))
done
full=$(sed -n 's/^full_rate=//p' "$TMP/mig/state")
ok "the first phase measured the full speed" test "${full:-0}" -gt 0
pct=$((800000 * 100 / ${full:-1}))
[ "$pct" -ge 1 ] || pct=1
[ "$pct" -le 50 ] || pct=50
iwm_ speed "$pct" >/dev/null
choose 2 'Copy the files changed since'
ok "the progress screen" shows 'P: Pause' 20
ok "done of total, percent, rate, ETA, mailbox" shows 'Done: +[0-9]+ of 1[0-9] files, [0-9.]+ [kM]B of [0-9.]+ MB \([1-9][0-9]*%\)' 20
ok "the rate and ETA" shows 'Rate: +[1-9][0-9.]* [kM]?B/s +ETA: [0-9]+ s' 10
ok "the current mailbox" shows 'Mailbox: +dom1.example/user1' 20
# (Patterns that do not match themselves on grep's own command line.)
ok "no secret on any command line" sh -c \
    '! cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " | grep -q "secret-p[w]\|ad-s3cre[t]"'
keys p
ok "Pause: then Resume or Cancel" shows 'PAUSED.*R: Resume.*C: Cancel'
PUSH=$(cat "$TMP/mig/run/push.pid" 2>/dev/null)
wait_stopped "$PUSH"
is "the running copy is stopped" "$(proc_state "$PUSH")" T
n1=$(find "$TGT/mail/dom1.example/user1/inbox" -name 'p*.imap' | wc -l)
sleep 1
n2=$(find "$TGT/mail/dom1.example/user1/inbox" -name 'p*.imap' | wc -l)
is "nothing moves while paused" "$n2" "$n1"
ok "not everything was copied before the pause ($n1 of 12)" test "$n1" -lt 12
keys r
ok "Resume" shows 'P: Pause   C: Cancel'
ok "the copy runs again" test "$(proc_state "$PUSH")" != T
keys s
ok "Speed asks for a percent" shows 'Percent of the full speed'
keys C-u; typed 100; keys Enter
ok "Copy changes ends" shows 'Copy changes: done\.' 90
ok "with the driver's summary" grep -qE 'sync: [0-9]+ files' "$TMP/screen"
ok "speed 100% reached the driver" grep -q '^speed=100$' "$TMP/mig/state"
keys Enter
ok "back in the main menu, a sync pass last" shows 'Last pass: sync pass at'
ok "the changes are on the target" same_tree "$U" "$TGT/mail/dom1.example/user1"

# --- Show failed files ---------------------------------------------------------------
choose 5 'could not be copied, to examine'
ok "Show failed files" shows 'Files that could not be copied'
ok "none" grep -q 'no failed files' "$TMP/screen"
keys Enter

# --- Finalize migration ------------------------------------------------------------------
shows 'Last pass' >/dev/null
choose 3 'Second phase: STOPS'
ok "Finalize asks to confirm: the source stops" shows 'STOPS THE SOURCE SERVER'
keys Enter
ok "No leaves it" shows 'Last pass'
ok "nothing was stopped" sh -c '! grep -q "^finalizing\|phase=finaliz" "$1"' - "$TMP/mig/state"
choose 3 'Second phase: STOPS'
shows 'STOPS THE SOURCE SERVER' >/dev/null
keys Left Enter
ok "Finalize migration ends" shows 'Finalize migration: done\.' 150
ok "with the driver's summary" grep -q 'finalize: done in' "$TMP/screen"
keys Enter
ok "phase finalized" shows 'Phase: finalized'
ok "the source's services are off" sh -c \
    '! iwm-services --tool "$1/tool.sh" status | grep -q "	on	"' - "$SRC"

# --- Start target server --------------------------------------------------------------------
choose 4 'After you switched the DNS records'
ok "Start target server reminds of the DNS records" shows 'Switch the DNS records'
keys Left Enter
ok "Start target server ends" shows 'Start target server: done\.' 90
ok "the migration is complete" grep -q 'migration is complete' "$TMP/screen"
keys Enter
ok "phase started" shows 'Phase: started'
awk -F '\t' '!/^#/ { on = ($3 == "enable") ? ($4 + 0 != 0) : ($4 + 0 == 0); if (on) print $1 }' \
    "$SRC/temp/iw_migration/services.state" | grep -vx 'web\|control' | sort >"$TMP/svc.src"
iwm-services --tool "$TGT/tool.sh" status | awk -F '\t' '$2 == "on" { print $1 }' |
    grep -vx 'web\|control' | sort >"$TMP/svc.tgt"
ok "the target runs what ran on the source" cmp "$TMP/svc.src" "$TMP/svc.tgt"

# --- Exit ----------------------------------------------------------------------------------------
choose 6 'Leave the menu; the migration'
w=0
while [ ! -s "$TMP/menu.rc" ] && [ "$w" -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
is "Exit leaves the menu with status 0" "$(cat "$TMP/menu.rc" 2>/dev/null)" 0
ok "the target equals the source" iwm_ verify
ok "the directory credentials reached the synchronised domain" \
    grep -q "ldap.target.local" "$TGT/config/syncad.dat"
ok "the menu's steps are in the driver's log" sh -c \
    'grep -q "	menu	Start full migration" "$1"/temp/mig*.log &&
     grep -q "	menu	Finalize migration: confirmed" "$1"/temp/mig*.log' - "$SRC"
ok "no secret in iwm.conf, the logs or the migration folder" sh -c \
    '! grep -rq "secret-pw\|ad-s3cret" "$1" "$2/logs/migration" "$2"/temp/mig*.log "$3"' \
    - "$TMP/iwm.conf" "$SRC" "$TMP/mig"
done_testing
