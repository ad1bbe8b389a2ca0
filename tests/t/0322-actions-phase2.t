#!/bin/sh
# The second phase on the target, driven through the agent's actions
# only: the source stops and backs up (services state, settings bundle,
# path-fix plan, database carriers), its migration root is pushed, then
# iwm-push --action runs on the target services-status, services-stop
# (keeping control), restore-settings, restore-db, restore-preserved,
# pathfix, restart and services-start, each the real program with the
# arguments of iwm-serve(1).  The agent outlives the module restart.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/settings.sh"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"

S=$TMP/src
T=$TMP/tgt
ok "a source server with archivists and externs" st_source "$S" --archivists 2 --externs 2
ok "a pre-configured target" st_target "$T"
# What runs differs: FTP and proxy on the source, off on the target.
"$S/tool.sh" set system C_FTPService_Active 1 C_Proxy_Active 1 >/dev/null
"$T/tool.sh" set system C_FTPService_Active 0 C_Proxy_Active 0 >/dev/null
iwm-services --tool "$S/tool.sh" status >"$TMP/src.status" 2>/dev/null
M=$S/temp/iw_migration

# The source's part, by hand.
exits "source: services stopped" 0 iwm-services --tool "$S/tool.sh" stop
exits "source: settings backup" 0 iwm-dbexport --settings --tool "$S/tool.sh"
exits "source: path-fix plan" 0 iwm-pathfix --plan --tool "$S/tool.sh" -o "$M/pathfix"
exits "source: databases exported" 0 iwm-dbexport -q --tool "$S/tool.sh" -o "$M/db"

ok "agent on the target (--tool)" serve_start --tool "$T/tool.sh"
printf 'boss-pw\n' | iwm-serve --add-user boss --users "$TMP/users" --role admin
printf 'boss:boss-pw\n' >"$TMP/boss"
chmod 600 "$TMP/boss"
serve_stop
ok "... with an admin user" serve_start --tool "$T/tool.sh"
TM=$T/temp/iw_migration

action() {
	iwm-push --target "$URL" --credentials "$TMP/boss" --fingerprint "$FP" \
	    --action "$@"
}
# run NAME: the action's output in $TMP/NAME.out, its status in RC.
run() {
	action "$1" >"$TMP/$1.out" 2>"$TMP/$1.err"
	RC=$?
}
val() {
	st_val "$T/tool.sh" "$1"
}

iwm-scan --root migration="$M" >"$TMP/m.src"
tscan --roots migration >"$TMP/m.dst"
iwm-diff "$TMP/m.src" "$TMP/m.dst" >"$TMP/m.diff"
ok "the source's migration root pushed to the target" push "$TMP/m.diff"
ok "... services.state, settings, pathfix, db arrived" test -s "$TM/services.state" \
    -a -s "$TM/settings/settings.db" -a -s "$TM/pathfix" -a -s "$TM/db/accounts.db"

for a in services-status services-stop restore-settings restore-db \
    restore-preserved pathfix restart services-start; do
	is "$a: refused to the copy user (403)" "$(curl -sk -o /dev/null -w '%{http_code}' \
	    -X POST -u alice:secret-pw "$URL/v1/action/$a")" 403
done

run services-status
is "services-status: exit 0" "$RC" 0
iwm-services --tool "$T/tool.sh" status >"$TMP/direct.status" 2>/dev/null
ok "... prints what iwm-services status prints" cmp "$TMP/services-status.out" "$TMP/direct.status"
ok "... ftp is off on the target" grep -q "^ftp	off	C_FTPService_Active	0\$" "$TMP/services-status.out"

run services-stop
is "services-stop: exit 0" "$RC" 0
ok "... the target's state kept outside the pushed root" test -s "$T/temp/iwm-target/services.state"
is "... in a private directory" "$(stat -c %a "$T/temp/iwm-target")" 700
ok "... the source's state in the migration root untouched" cmp "$TM/services.state" "$M/services.state"
is "... control still on" "$(val C_Mail_Control_Active)" 1
is "... web off" "$(val C_Mail_Control_DisableWeb)" 1
is "... SMTP off" "$(val C_Mail_SMTP_Active)" 0
ok "... switches logged by the simulator" grep -q "^set C_Mail_SMTP_Active 0\$" "$T/.iwsim/events.log"
ok "... its output streamed: one line per switch" grep -q "^smtp	off	C_Mail_SMTP_Active	0" "$TMP/services-stop.out"

run restore-settings
is "restore-settings: exit 0" "$RC" 0
is "... a source setting restored" "$(val C_System_Logging_Syslog_Server)" syslog.src.example
is "... a preserved one kept (webmail URL)" "$(val C_Webmail_URL)" https://target.example/webmail/
is "... web stayed off during the restore" "$(val C_Mail_Control_DisableWeb)" 1
ok "... the target's preserved values saved" test -s "$T/temp/iwm-target/preserved.db"

run restore-db
is "restore-db: exit 0" "$RC" 0
ok "... one line per carrier" grep -q "$TM/db/accounts.db" "$TMP/restore-db.out"

run restore-preserved
is "restore-preserved: exit 0" "$RC" 0
ok "... the target's administrator is there" sh -c \
    '"$1" get account admin@target.local u_admin | grep -q ": 1"' - "$T/tool.sh"

run pathfix
is "pathfix: exit 0" "$RC" 0
is "... an extern in the target's default place" \
    "$("$T/tool.sh" get account extern1@dom1.example u_mailboxpath | sed 's/^[^:]*: //')" \
    "$T/mail/dom1.example/extern1/"
ok "... its output lists the accounts" grep -q "^extern1@dom1.example	extern	" "$TMP/pathfix.out"

# A module restarted by icewarpd.sh that keeps the action's output open
# (a daemon inheriting it) does not hold the action.
mv "$T/icewarpd.sh" "$T/icewarpd.sh.real"
cat >"$T/icewarpd.sh" <<EOF
#!/bin/sh
sleep 60 &
echo \$! >"$TMP/daemon.pid"
exec "$T/icewarpd.sh.real" "\$@"
EOF
chmod 755 "$T/icewarpd.sh"
n0=$(grep -c '^restart all$' "$T/.iwsim/events.log")
t0=$(date +%s)
run restart
is "restart: exit 0" "$RC" 0
ok "... ended although a module holds its output open" \
    test "$(($(date +%s) - t0))" -lt 30
ok "... that module is still running" kill -0 "$(cat "$TMP/daemon.pid")"
kill "$(cat "$TMP/daemon.pid")"
is "... icewarpd.sh --restart all ran once" "$(grep -c '^restart all$' "$T/.iwsim/events.log")" "$((n0 + 1))"
ok "... the agent is still running" kill -0 "$SERVE_PID"
exits "... and still answers" 0 action services-status

run services-start
is "services-start (the source's state): exit 0" "$RC" 0
iwm-services --tool "$T/tool.sh" status >"$TMP/tgt.status" 2>/dev/null
awk -F '\t' '{ print $1 "\t" $2 }' "$TMP/src.status" >"$TMP/want"
awk -F '\t' '{ print $1 "\t" $2 }' "$TMP/tgt.status" >"$TMP/got"
ok "... the services that ran on the source run on the target" cmp "$TMP/want" "$TMP/got"
is "... ftp on, as on the source" "$(val C_FTPService_Active)" 1
is "... web on again" "$(val C_Mail_Control_DisableWeb)" 0

for a in services-status services-stop restore-settings restore-db \
    restore-preserved pathfix restart services-start; do
	ok "$a: start and end logged" sh -c 'grep -q "action $2 by boss: started" "$1" &&
	    grep -q "action $2: ended after .*: exit " "$1"' - "$TMP/serve.log" "$a"
done
ok "no password in the agent's log" sh -c '! grep -q -e boss-pw -e secret-pw -e tgtsecret -e easpass "$1"' - "$TMP/serve.log"
done_testing
