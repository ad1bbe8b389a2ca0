#!/bin/sh
# 0101-iwsim-target.t: `iwsim create --target` builds the pre-configured
# target the migrator guide asks for (an administrator in a domain the
# source lacks, its own archive path, VoIP, DNS and webmail settings),
# and DIR/icewarpd.sh controls modules as on Linux; every module call and
# every service switch change is a line of DIR/.iwsim/events.log.
. "$(dirname "$0")/../lib.sh"

command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"

S=$TMP/src
T=$TMP/tgt
iwsim create "$S" --domains 2 --users 2 --folders 0 --messages 1
ok "create --target" iwsim create "$T" --target --messages 2
val() {
	# as the public scripts read a value: sed 's/^[^:]*: //'
	"$1/tool.sh" get system "$2" | sed 's/^[^:]*: //'
}

# ---- the administrator account and its domain --------------------------------
is "the target has only its own domain" "$("$T/tool.sh" export domain '*')" "target.local,"
is "the administrator account, U_Admin 1" \
	"$("$T/tool.sh" export account '*@*' u_type u_admin u_accountdisabled)" "admin@target.local,0,1,0,"
is "its domain is absent from the source" "$("$S/tool.sh" export domain 'target.local' 2>/dev/null)" ""
fails "... (an exact key that matches nothing is an error)" "$S/tool.sh" export domain target.local
ok "the administrator has a mailbox" test -d "$T/mail/target.local/admin/inbox"
is "... where u_fullmailboxpath says" "$("$T/tool.sh" export account admin@target.local u_fullmailboxpath)" \
	"admin@target.local,$T/mail/target.local/admin/,"

# ---- preserved settings differ from a source's -------------------------------
for v in C_System_Tools_AutoArchive_Path C_System_Services_SIP_LocalAccessHost \
	C_System_Services_SIP_RemoteAccessHost C_System_Services_SIP_LocalNet \
	C_System_Services_SIP_SDPRemoteAccessHost C_Mail_SMTP_General_DNSServer C_Webmail_URL \
	C_Mail_SMTP_General_HostName C_GW_SuperPass C_System_Storage_Accounts_ODBCConnString \
	C_GW_ConnectionString C_InstallPath; do
	ok "target's own $v" test "$(val "$T" "$v")" != "$(val "$S" "$v")"
done
is "its own archive path, another layout" "$(val "$T" C_System_Tools_AutoArchive_Path)" "$T/storage/archive/"
ok "... which exists" test -d "$T/storage/archive"
is "VoIP local network" "$(val "$T" C_System_Services_SIP_LocalNet)" "172.16.0.0/12;198.51.100.0/24"
is "DNS server" "$(val "$T" C_Mail_SMTP_General_DNSServer)" "198.51.100.53"
is "webmail URL" "$(val "$T" C_Webmail_URL)" "https://mail.target.local/webmail/"
ok "server.xml names the target's URL" grep -q '<url>https://mail.target.local/webmail/</url>' \
	"$T/config/_webmail/server.xml"
ok "server.xml differs from the source's" sh -c '! cmp -s "$1" "$2"' - "$T/config/_webmail/server.xml" \
	"$S/config/_webmail/server.xml"
is "path.dat line 11: the target's host name" "$(sed -n 11p "$T/path.dat")" "mail.target.local"
is "icewarp.conf: the target's install dir" "$(sed -n 's/^IWS_INSTALL_DIR="\(.*\)"$/\1/p' "$T/icewarp.conf")" "$T"
exits "--domains 0 needs --target" 64 iwsim create "$TMP/x" --domains 0
ok "a target with domains of its own too" iwsim create "$TMP/t2" --target --domains 1 --users 1 --folders 0
is "... its domains and target.local" "$("$TMP/t2/tool.sh" export domain '*' | tr '\n' ' ')" \
	"dom1.example, target.local, "

# ---- icewarpd.sh and the events log ------------------------------------------
E=$T/.iwsim/events.log
pids() {
	for f in "$T"/var/*.pid; do
		[ -e "$f" ] && printf '%s ' "${f##*/}"
	done
}
ok "icewarpd.sh is executable" test -x "$T/icewarpd.sh"
is "every module runs: var/<module>.pid" "$(pids)" "cal.pid control.pid im.pid pop3.pid smtp.pid "
is "the events log starts empty" "$(wc -c <"$E" | tr -d ' ')" 0
ok "--stop pop3" "$T/icewarpd.sh" --stop pop3
is "... pop3 stopped" "$(pids)" "cal.pid control.pid im.pid smtp.pid "
ok "--restart pop3" "$T/icewarpd.sh" --restart pop3
ok "--stop all" "$T/icewarpd.sh" --stop all
is "... every module stopped" "$(pids)" ""
# C5: the tool answers with every module stopped and every switch off.
for v in C_Mail_SMTP_Active C_Mail_POP_Active C_Mail_IMAP_Active C_Mail_Control_Active; do
	"$T/tool.sh" set system "$v" 0
done
ok "the tool answers with everything off" "$T/tool.sh" get system C_System_Storage_Dir_MailPath
ok "... and still changes accounts" "$T/tool.sh" set account admin@target.local u_name "Admin"
ok "--start (no module: all)" "$T/icewarpd.sh" --start
is "... every module runs again" "$(pids)" "cal.pid control.pid im.pid pop3.pid smtp.pid "
ok "--restart all" "$T/icewarpd.sh" --restart all
exits "unknown module: usage" 64 "$T/icewarpd.sh" --restart imap
exits "unknown action: usage" 64 "$T/icewarpd.sh" --reload all
"$T/tool.sh" set system c_mail_control_disableweb 1 C_Mail_Control_Active 1
"$T/tool.sh" set system C_System_Tools_WatchDog_POP3 0
"$T/tool.sh" set system C_System_Storage_Dir_TempPath "$T/temp/"
is "the events log: modules and switches, in order" "$(cat "$E")" "stop pop3
restart pop3
stop all
set C_Mail_SMTP_Active 0
set C_Mail_POP_Active 0
set C_Mail_IMAP_Active 0
set C_Mail_Control_Active 0
start all
restart all
set C_Mail_Control_DisableWeb 1
set C_Mail_Control_Active 1
set C_System_Tools_WatchDog_POP3 0"

done_testing
