#!/bin/sh
# 0103-iwsim-scripts.t: the simulator's tool answers the commands public
# admin scripts send to real servers (milamber86/scripts, "M/x", and
# kashiparsavan/icewarp-health-agent, "KP/x"), issued as they issue them
# and parsed with their own patterns; variables come from the public API
# constants with their flags; and a round trip of domains, accounts and
# remote accounts between two simulated servers with the tool's own
# export and create verbs, compared byte for byte.
. "$(dirname "$0")/../lib.sh"

command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"
command -v perl >/dev/null 2>&1 || skip_all "perl not installed"

A=$TMP/a
iwsim create "$A" --domains 2 --users 4 --folders 0 --messages 1 --no-mailboxes
tool=$A/tool.sh

# ---- system variables, as M/iwcfgexport.sh, M/iw_backup.sh read them -------------
is "C_License: <header><purchaseid> (M/iwcfgexport.sh)" \
	"$("$tool" get system C_License | grep -E -o "<header><purchaseid>(.*)</purchaseid>" |
		sed -r 's|<header><purchaseid>(.*)</purchaseid>|\1|')" "IWSIM-2026-0001"
is "c_license_xml: <licensetype> (M/iw_backup.sh)" \
	"$("$tool" get system c_license_xml | grep -P '(?<=<licensetype>).*(?=</licensetype>)' -o -m 1)" onpremise
ok "... an XML value over several lines" test "$("$tool" get system c_license_xml | wc -l)" -gt 3
is "... first line: the name as asked, then the value" "$("$tool" get system c_license_xml | head -n 1)" \
	'c_license_xml: <?xml version="1.0" encoding="UTF-8"?>'
ok "C_Accounts_Policies_SuperUserPassword answers (M/iwmon_agent.sh: empty = API broken)" \
	test -n "$("$tool" get system C_Accounts_Policies_SuperUserPassword | awk '{print $2}')"
exits "... and is read-only: set fails (M/iwcfgimport.sh checks \$?)" 1 \
	"$tool" set system C_Accounts_Policies_SuperUserPassword newsecret
is "C_System_Storage_Accounts_StorageMode (awk '{print \$2}')" \
	"$("$tool" get system C_System_Storage_Accounts_StorageMode | awk '{print $2}')" 2
is "c_system_storage_accounts_odbcconnstring, lower case echoed (M/iw_backup.sh)" \
	"$("$tool" get system c_system_storage_accounts_odbcconnstring |
		perl -pe 's|^c_system_storage_accounts_odbcconnstring: (.*);(.*);.*;.*;.*;.*$|\1|')" \
	"$A/config/accounts.db"
is "mail path: grep -P '(?<=: ).*(?=/mail/)' (M/iw_backup.sh)" \
	"$("$tool" get system C_System_Storage_Dir_MailPath | grep -P '(?<=: ).*(?=/mail/)' -o)" "$A"
is "C_ActiveSync_DBUser: sed -r 's|^C_ActiveSync_DBUser: (.*)\$|\1|' (M/check_eas.sh)" \
	"$("$tool" get system C_ActiveSync_DBUser | sed -r 's|^C_ActiveSync_DBUser: (.*)$|\1|')" ""
is "C_Version: awk '{print \$2}' | tr -d '.' (M/iwmon_agent.sh)" \
	"$("$tool" get system C_Version | awk '{print $2}' | tr -d '.')" 14105
exits "C_Version is read-only" 1 "$tool" set system C_Version 15.0
# KP/lib/common.sh: display system KEY, CR stripped, awk -F': ' '{print $2}' | head -n1
kp() {
	"$tool" display system "$1" | tr -d '\r' | awk -F': ' '{print $2}' | head -n1
}
is "display system C_Version (KP/collectors/icewarp/version.sh)" "$(kp C_Version)" "14.1.0.5"
is "display = get" "$("$tool" display system C_InstallPath c_configpath)" \
	"$("$tool" get system C_InstallPath c_configpath)"
for w in C_System_Tools_WatchDog_SMTP C_System_Tools_WatchDog_POP3 C_System_Tools_Watchdog_Check_Protocols; do
	ok "display system $w (KP/collectors/icewarp/watchdog.sh)" sh -c 'case $1 in 0|1) exit 0 ;; esac; exit 1' - "$(kp "$w")"
done
is "C_System_Tools_AutoBackup_Enable (KP/collectors/icewarp/backup.sh)" "$(kp c_system_tools_autobackup_enable)" 0
is "any variable of the API constants answers" "$("$tool" get system C_System_Tools_Watchdog_Int)" \
	"C_System_Tools_Watchdog_Int: 0"
exits "unknown system variable: error" 1 "$tool" get system C_No_Such_Variable
is "... and nothing printed" "$("$tool" get system C_InstallPath C_No_Such_Variable 2>/dev/null)" ""
is "get system *: no [D] variable (C_License)" "$("$tool" get system '*' | grep -c '^C_License:')" 0
is "... no [W] variable" "$("$tool" get system '*' | grep -ci '^C_Accounts_Global_Accounts_DirectoryCache_RefreshNow:')" 0
is "... but the others, by their names" "$("$tool" get system '*' | grep -c '^C_System_Storage_Dir_MailPath: ')" 1
ok "... more than a thousand" test "$("$tool" get system '*' | grep -c '^C_')" -gt 1000
is "[D] variables answer when asked by name" "$("$tool" get system C_CalendarPath)" "C_CalendarPath: $A/calendar/"
is "[W] variables read empty" "$("$tool" get system C_Accounts_Global_Accounts_DirectoryCache_RefreshNow)" \
	"C_Accounts_Global_Accounts_DirectoryCache_RefreshNow: "
ok "... and take a value" "$tool" set system C_Accounts_Global_Accounts_DirectoryCache_RefreshNow 1
exits "C_InstallPath is read-only" 1 "$tool" set system C_InstallPath /elsewhere/
exits "a *_Real variable is read-only" 1 "$tool" set system C_System_Storage_Accounts_ODBCConnString_Real x

# ---- accounts: icewarp_get_license.sh, check_eas.sh, iw_backup_server.sh ---------
lic=$("$tool" export account "*@*" u_type u_accountdisabled u_activesync | grep -E "^(.*)\@(.*),0,0,(.*)," |
	perl -pe 's|(.*)\@(.*),0,0,(.*),|\2,\1,\3,|')
is "license report: users of a domain (M/icewarp_get_license.sh)" "$(echo "$lic" | grep -c '^dom1.example,')" 4
is "... full (ActiveSync) users" "$(echo "$lic" | grep -c ',1,$')" 4
is "... light users" "$(echo "$lic" | grep -c ',0,$')" 4
"$tool" set account user1@dom2.example u_accountdisabled 1
is "... a disabled account leaves the report" "$("$tool" export account "*@*" u_type u_accountdisabled u_activesync |
	grep -cE "^(.*)\@(.*),0,0,(.*),")" 7
is "u_password hidden by the default policy (M/check_eas.sh's parse)" \
	"$("$tool" export account user1@dom1.example u_password | sed -r 's|^.*,(.*),$|\1|')" ""
"$tool" set system C_Accounts_Policies_Pass_DenyExport 0
is "... still hidden with only DenyExport 0" "$("$tool" export account user1@dom1.example u_password)" \
	"user1@dom1.example,,"
"$tool" set system C_Accounts_Policies_Pass_AllowAdminPass 1
pw=$("$tool" export account user1@dom1.example u_password | sed -r 's|^.*,(.*),$|\1|')
ok "... exported with DenyExport 0 and AllowAdminPass 1" test -n "$pw"
is "... get account too" "$("$tool" get account user1@dom1.example u_password)" "u_password: $pw"
is "imapsync list: egrep ',0,' | sed (M/iw_backup_server.sh)" \
	"$("$tool" export account "*@*" u_type u_mailbox u_password | grep -E ",0," |
		sed -r 's:^(.*?),0,(.*?),(.*?),$:\1;\3;\1;\3;:' | head -n 1)" \
	"user1@dom1.example;$pw;user1@dom1.example;$pw;"
"$tool" set system C_Accounts_Policies_Pass_DenyExport 1 C_Accounts_Policies_Pass_AllowAdminPass 0
is "... hidden again once the policy is put back" "$("$tool" get account user1@dom1.example u_password)" "u_password: "
is "first user: grep ',0' | sed -r 's|,0,||' | head -1 (M/iwmon_agent.sh)" \
	"$("$tool" export account "*@*" u_type | grep ",0" | sed -r 's|,0,||' | head -1)" "user1@dom1.example"
is "u_mailbox: the alias (M/domainmove.sh: awk -F ',' '{print \$2}')" \
	"$("$tool" export account user2@dom1.example u_mailbox | awk -F ',' '{print $2}')" user2
is "u_fullmailboxpath with a trailing slash (M/domainmove.sh)" \
	"$("$tool" export account user2@dom1.example u_fullmailboxpath | awk -F ',' '{print $2}')" \
	"$A/mail/dom1.example/user2/"
ok "set account E u_directorycache_refreshnow 1 (M/domainmove.sh)" \
	"$tool" set account user2@dom1.example u_directorycache_refreshnow 1
is "... recorded in the events log" "$(tail -n 1 "$A/.iwsim/events.log")" \
	"set user2@dom1.example U_DirectoryCache_RefreshNow 1"
is "... write-only: reads empty" "$("$tool" get account user2@dom1.example u_directorycache_refreshnow)" \
	"u_directorycache_refreshnow: "
ok "set domain D d_directorycache_refreshnow 1" "$tool" set domain dom1.example D_DirectoryCache_RefreshNow 1
is "... recorded" "$(tail -n 1 "$A/.iwsim/events.log")" "set dom1.example D_DirectoryCache_RefreshNow 1"
ok "U_Admin" "$tool" set account user3@dom1.example u_admin 1
is "... exported" "$("$tool" export account '*@dom1.example' u_admin | grep ',1,$')" "user3@dom1.example,1,"
is "an unset Bool reads 0" "$("$tool" export account user4@dom1.example U_Admin)" "user4@dom1.example,0,"
ok "U_AccountDisabled 2 by pattern (seed-fr: block a domain)" "$tool" set account '*@dom2.example' u_accountdisabled 2
is "... every account of the domain" "$("$tool" export account '*@dom2.example' u_accountdisabled | grep -vc ',2,$')" 0
exits "U_FullMailboxPath is read-only" 1 "$tool" set account user1@dom1.example u_fullmailboxpath /x/
exits "unknown account variable: error" 1 "$tool" get account user1@dom1.example u_nosuchvar
exits "a domain variable on an account: error" 1 "$tool" export account user1@dom1.example d_type
exits "create domain D u_backup BLOB: error (u_ is an account variable)" 1 \
	"$tool" create domain new.example u_backup "$("$tool" export domain dom1.example d_backup | cut -d, -f2)"
exits "... and the domain was not created" 1 "$tool" export domain new.example
ok "create domain with properties (M/icewarp_install.sh)" \
	"$tool" create domain new.example d_description "Initial domain" d_adminemail admin@new.example
ok "create account with properties" "$tool" create account admin@new.example u_name "Admin" u_password secret u_admin 1
is "... exported" "$("$tool" export account admin@new.example u_name u_admin)" "admin@new.example,Admin,1,"
exits "export of an exact key matching nothing: error" 1 "$tool" export account nobody@new.example u_type
is "export of a pattern matching nothing: empty, no error" "$("$tool" export account 'nobody*@new.example' u_type; echo "rc=$?")" "rc=0"
is "remote account: RA_Enabled" "$("$tool" export remoteaccount '*' ra_enabled ra_name)" "ra1,1,ra1,"
ok "... switched off" "$tool" set remoteaccount ra1 RA_Enabled 0
is "... reads 0" "$("$tool" get remoteaccount ra1 ra_enabled)" "ra_enabled: 0"
exits "RA_ unknown variable: error" 1 "$tool" get remoteaccount ra1 ra_nosuch
is "[D] RA_RulesContentXML answers by name" "$("$tool" get remoteaccount ra1 RA_RulesContentXML)" "RA_RulesContentXML: "

# ---- a round trip between two servers with the tool's own verbs ---------------------
S=$TMP/s
T=$TMP/t
iwsim create "$S" --domains 3 --users 3 --folders 0 --messages 1 --archivists 1 --externs 1 --shared 1 \
	--remotes 2 --no-mailboxes --plant dblist --plant rule:user:copy
iwsim create "$T" --target --no-mailboxes
# M/iw_backup_server.sh's selections and commands (users ,0, groups ,7, ...), every type here.
"$S/tool.sh" export domain "*" d_backup >"$TMP/dom.csv"
"$S/tool.sh" export account "*@*" u_type u_backup >"$TMP/acc.csv"
"$S/tool.sh" export remoteaccount "*" ra_backup >"$TMP/ra.csv"
is "domain names: sed -r 's|^(.*),.*,\$|\1|' (M/iw_backup_server.sh)" \
	"$(sed -r 's|^(.*),.*,$|\1|' "$TMP/dom.csv" | tr '\n' ' ')" "dom1.example dom2.example dom3.example "
restore() {
	while IFS=, read -r d blob _; do
		"$T/tool.sh" create domain "$d" d_backup "$blob" || return 1
	done <"$TMP/dom.csv"
	for ty in 0 1 2 7 8; do
		grep -E "^(.*)@(.*?),$ty," "$TMP/acc.csv" | sed -r "s|^(.*),$ty,(.*),\$|\1 \2|" >"$TMP/acc.$ty"
		while read -r e blob; do
			"$T/tool.sh" create account "$e" u_backup "$blob" || return 1
		done <"$TMP/acc.$ty"
	done
	while IFS=, read -r r blob _; do
		"$T/tool.sh" create remoteaccount "$r" ra_backup "$blob" || return 1
	done <"$TMP/ra.csv"
}
ok "create domain/account/remoteaccount from the blobs on another server" restore
cmp_export() {
	"$S/tool.sh" "$@" >"$TMP/x.s" && "$T/tool.sh" "$@" >"$TMP/x.t" && cmp "$TMP/x.s" "$TMP/x.t"
}
ok "d_backup byte for byte" cmp_export export domain "dom*" d_backup
ok "u_backup byte for byte" cmp_export export account "*@dom*" u_type u_backup
ok "ra_backup byte for byte" cmp_export export remoteaccount "*" ra_backup
ok "account variables byte for byte" cmp_export export account "*@dom*" u_type u_name u_mailboxpath \
	u_accountdisabled u_activesync u_admin m_sendalllists m_odbc m_listfile_contents \
	g_listfile_contents u_rulescontentxml
ok "domain variables byte for byte" cmp_export export domain "dom*" d_type d_description d_adminemail \
	d_rulescontentxml
is "the target's own domain untouched" "$("$T/tool.sh" export account '*@target.local' u_admin)" \
	"admin@target.local,1,"
exits "a second restore: item exists (-7)" 1 "$T/tool.sh" create domain dom1.example d_backup "$(head -n 1 "$TMP/dom.csv" | cut -d, -f2)"
"$S/tool.sh" export account "*@*" u_backup >"$TMP/all.csv"
ok "import account FILE u_backup (the vendor route) into a third server" sh -c '
	iwsim create "$1" --target --no-mailboxes &&
	"$1/tool.sh" import domain "$2" d_backup &&
	"$1/tool.sh" import account "$3" u_backup' - "$TMP/u" "$TMP/dom.csv" "$TMP/all.csv"
is "... the same accounts" "$("$TMP/u/tool.sh" export account '*@dom*' u_backup)" "$(cat "$TMP/all.csv")"

done_testing
