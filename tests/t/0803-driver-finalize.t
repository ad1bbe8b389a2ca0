#!/bin/sh
# The whole migration, Linux to Linux, on two simulated servers through a
# real agent: copy, mail changes between passes, sync, finalize with the
# agent killed in the middle and the rerun resuming at that step, a second
# finalize refused, start-target; the target equals the source as it was
# at finalize (files, databases, accounts, preserved settings, path fixes,
# services); the messages still queued on the source at finalize reach
# the target's queues, the target's own queued messages stay.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"

drv_setup --plant adsync:1 || { echo "Bail out! setup failed"; exit 1; }
# The target's directory credentials for the synchronised domain.
printf 'server=ldap.target.local\nuser=CN=sync,DC=target\npassword=ad-s3cret\n' >"$TMP/dircreds"
chmod 600 "$TMP/dircreds"
sed -i "s|^DIRCREDS=.*|DIRCREDS=$TMP/dircreds|" "$TMP/iwm.conf"
tget() { "$1/tool.sh" get system "$2" | sed 's/^[^:]*: //'; }
TDNS=$(tget "$TGT" C_Mail_SMTP_General_DNSServer)
TARCH=$(tget "$TGT" C_System_Tools_AutoArchive_Path)
ok "the target's DNS server differs from the source's" \
    test "$TDNS" != "$(tget "$SRC" C_Mail_SMTP_General_DNSServer)"
ok "connect" iwm_ connect
ok "deps" iwm_ deps
exits "finalize before copy is refused" 64 iwm_ finalize
ok "copy" iwm_ copy

# Mail changes between passes: new messages, deletions, a renamed
# folder, a file rewritten in place.
U=$SRC/mail/dom1.example/user1
V=$SRC/mail/dom2.example/user2
printf 'From: a@b\r\n\r\nfirst new\r\n' >"$U/inbox/209901010000000001.imap"
rm -f "$(find "$U/inbox" -name '*.imap' | sort | head -n 1)"
mv "$U/Projects" "$U/Projects 2026"
ok "sync" iwm_ sync
printf 'From: a@b\r\n\r\nsecond new\r\n' >"$V/inbox/209901010000000002.imap"
rm -f "$(find "$V/Sent" -name '*.imap' | sort | head -n 1)"
idx=$U/inbox/imapindex.dat
mt=$(stat -c %Y "$idx")
printf 'rewritten in place\n' >>"$idx"
touch -d "@$mt" "$idx"      # same mtime, another size
# Queued when the source stops: waiting for a retry, and just received.
mkdir -p "$SRC/mail/_outgoing/retry" "$SRC/mail/_incoming" \
    "$TGT/mail/_incoming"
printf 'To: x@remote.example\r\n\r\nqueued\r\n' >"$SRC/mail/_outgoing/retry/q1.dat"
printf 'To: user1@dom1.example\r\n\r\nreceived\r\n' >"$SRC/mail/_incoming/i1.tmp"
printf 'the target own\r\n' >"$TGT/mail/_incoming/own.tmp"

# The agent is killed as soon as the target's services are being stopped.
(
	while ! grep -q 'target-stop\|restore-' "$TMP/mig/run/step" 2>/dev/null; do
		sleep 0.01
	done
	kill -9 "$SERVE_PID"
) &
KILLER=$!
exits "finalize with the agent killed in the middle: it stops" 69 iwm_ finalize
wait "$KILLER"
failed=$(sed -n 's/^failed_step=//p' "$TMP/mig/state")
case $failed in
target-stop | restore-*) r=ok ;;
*) r="failed at '$failed'" ;;
esac
is "the failed step is recorded (an action on the target)" "$r" ok
ok "and the next thing to do is said" said "next: .*Run iwm finalize again"
iwm_ status >/dev/null
ok "status names the failed step" said "finalize stopped +at $failed"
exits "the agent is down: a rerun fails again at the same step" 69 iwm_ finalize
drv_agent
ok "with the agent back, finalize resumes" iwm_ finalize
ok "it resumed at $failed" said "finalize [0-9]+/12 $failed"
ok "it did not stop the source again" sh -c '! grep -q "stop-source" "$1"' - "$TMP/last"
ok "it did not copy again" sh -c '! grep -q "final-copy" "$1"' - "$TMP/last"
exits "a second finalize is refused" 64 iwm_ finalize
ok "with a clear message" said "cannot be finalized twice"

# The source was stopped at finalize: its services are off.
ok "the source's services are off" sh -c \
    '! iwm-services --tool "$1/tool.sh" status | grep -q "	on	"' - "$SRC"
# After finalize, a change on the source is not migrated.
printf 'late\n' >"$U/inbox/209901010000000009.imap"
ok "start-target" iwm_ start-target
ok "the DNS reminder is shown" said "DNS"
# Services that ran on the source, by the state it recorded.
awk -F '\t' '!/^#/ { on = ($3 == "enable") ? ($4 + 0 != 0) : ($4 + 0 == 0); if (on) print $1 }' \
    "$SRC/temp/iw_migration/services.state" | sort >"$TMP/svc.src"
iwm-services --tool "$TGT/tool.sh" status | awk -F '\t' '$2 == "on" { print $1 }' |
    grep -vx 'web\|control' | sort >"$TMP/svc.tgt"
grep -vx 'web\|control' "$TMP/svc.src" >"$TMP/svc.src2"
ok "the target runs what ran on the source ($(wc -l <"$TMP/svc.src2") services)" \
    cmp "$TMP/svc.src2" "$TMP/svc.tgt"
rm -f "$U/inbox/209901010000000009.imap"

# The target equals the source as it was at finalize.
ok "verify: files, tables and accounts equal" iwm_ verify
ok "verify compared tables" said "tables equal, 0 differ"
ok "mailbox with the changes equal" same_tree "$U" "$TGT/mail/dom1.example/user1"
ok "the other mailbox too" same_tree "$V" "$TGT/mail/dom2.example/user2"
ok "the rewritten file has the source's content" cmp "$idx" "$TGT/mail/dom1.example/user1/inbox/imapindex.dat"
ok "the late message did not travel" test ! -e "$TGT/mail/dom1.example/user1/inbox/209901010000000009.imap"
ok "the message queued for a retry is in the target's queue" \
    cmp "$SRC/mail/_outgoing/retry/q1.dat" "$TGT/mail/_outgoing/retry/q1.dat"
ok "the message received and not delivered too" \
    cmp "$SRC/mail/_incoming/i1.tmp" "$TGT/mail/_incoming/i1.tmp"
ok "the target's own queued message stays" test -f "$TGT/mail/_incoming/own.tmp"
is "the target kept its DNS server" "$(tget "$TGT" C_Mail_SMTP_General_DNSServer)" "$TDNS"
is "the target kept its archive path" "$(tget "$TGT" C_System_Tools_AutoArchive_Path)" "$TARCH"
ok "the target's administrator is there" sh -c \
    '"$1/tool.sh" export account "admin@target.local" u_admin | grep -q "admin@target.local,1"' - "$TGT"
ok "the source's accounts are there" sh -c \
    '"$1/tool.sh" export account "*@dom1.example" u_type | sort >"$3/a.s";
     "$2/tool.sh" export account "*@dom1.example" u_type | sort >"$3/a.t"; cmp "$3/a.s" "$3/a.t"' \
    - "$SRC" "$TGT" "$TMP"
arch=$("$TGT/tool.sh" get account archive1@dom1.example u_mailboxpath | sed 's/^[^:]*: //')
tarch=$(tget "$TGT" C_System_Tools_AutoArchive_Path)
is "the archivist points into the target's archive" "$arch" "${tarch}dom1.example/"
ok "the directory credentials reached the synchronised domain" \
    grep -q "ldap.target.local" "$TGT/config/syncad.dat"
TTEMP=$(tget "$TGT" C_System_Storage_Dir_TempPath)
ok "the credentials file is removed on both sides" sh -c \
    'test ! -e "$1/temp/iw_migration/dircreds" && test ! -e "$2/iw_migration/dircreds"' - "$SRC" "$TTEMP"
ok "the directory password is in no log" sh -c \
    '! grep -rq "ad-s3cret" "$1/logs/migration" "$1"/temp/mig*.log "$2/mig"' - "$SRC" "$TMP"
ok "the log says every step" sh -c 'for s in stop-source final-copy settings-backup db-export pathfix-plan transfer target-stop restore-settings restore-db restore-preserved pathfix restart; do
    grep -q "finalize	step $s: done" "$1"/temp/mig*.log || { echo "$s"; exit 1; }; done' - "$SRC"
done_testing
