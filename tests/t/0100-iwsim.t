#!/bin/sh
# 0100-iwsim.t: the IceWarp simulator looks like a real server from the
# outside: reproducible trees, tool.sh formats, round trips, account classes,
# Windows paths, auto-archive and every planted dependency.
. "$(dirname "$0")/../lib.sh"

command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"

listing() {
	(cd "$1" && find . -printf '%P %s %T@\n' | LC_ALL=C sort)
}

sums() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum)
}

# ACTIVE flags (one per line) of the content.xml FILTERs that hold tag $2.
filter_active() {
	tr -d '\r\n' <"$1" | awk -v t="<$2>" '{
		n = split($0, a, "</FILTER>")
		for (i = 1; i <= n; i++)
			if (index(a[i], t)) {
				sub(/.*<ACTIVE>/, "", a[i])
				printf "%s", substr(a[i], 1, 1)
			}
	}'
}

# ---- create: options, reproducibility --------------------------------------
A=$TMP/a
B=$TMP/b
C=$TMP/c
is "create is silent" "$(iwsim create "$A" 2>&1)" ""
ok "a second server with the same seed" iwsim create "$B"
ok "another seed" iwsim create "$C" --seed 2
is "same seed: same names, sizes and mtimes" "$(listing "$A")" "$(listing "$B")"
is "same seed: same export" \
	"$("$A/tool.sh" export account '*@*' u_type u_name u_mailboxpath | sed "s#$A#D#g")" \
	"$("$B/tool.sh" export account '*@*' u_type u_name u_mailboxpath | sed "s#$B#D#g")"
sums "$A" >"$TMP/sum1"
rm -rf "$A"
iwsim create "$A"
sums "$A" >"$TMP/sum2"
ok "same seed and directory: byte-identical tree" cmp "$TMP/sum1" "$TMP/sum2"
fails "another seed gives another tree" test "$(listing "$A")" = "$(listing "$C")"
ok "messages differ with another seed" test "$(find "$A/mail" -name '*.imap' | LC_ALL=C sort | head -n 1 | xargs basename)" != \
	"$(find "$C/mail" -name '*.imap' | LC_ALL=C sort | head -n 1 | xargs basename)"
fails "refuses a non-empty directory" iwsim create "$A"
exits "bad number is a usage error" 64 iwsim create "$TMP/x1" --users abc
exits "negative number is a usage error" 64 iwsim create "$TMP/x2" --messages -1
exits "unknown option is a usage error" 64 iwsim create "$TMP/x3" --bogus
exits "unknown plant is a usage error" 64 iwsim create "$TMP/x4" --plant nothing
exits "missing DIR is a usage error" 64 iwsim create
ok "--help documents the plants" sh -c 'iwsim --help | grep -q "rule:LEVEL:ACTION"'
is "-v prints one line" "$(iwsim create "$TMP/v" -v | wc -l | tr -d ' ')" 1

# ---- installation layout ---------------------------------------------------
ok "tool.sh is executable" test -x "$A/tool.sh"
is "icewarp.conf names the install dir" "$(sed -n 's/^IWS_INSTALL_DIR="\(.*\)"$/\1/p' "$A/icewarp.conf")" "$A"
ok "icewarp.conf has the version" grep -q '^IWS_VERSION="14.1.0.5"$' "$A/icewarp.conf"
is "path.dat line 1 is the config path" "$(sed -n 1p "$A/path.dat")" "$A/config/"
is "path.dat line 2 is the html path" "$(sed -n 2p "$A/path.dat")" "$A/html/"
ok "content.xml" grep -q '<CONTENTFILTER>' "$A/config/content.xml"
ok "syncad.dat has DOMAIN nodes" grep -q '<DOMAINS>' "$A/config/syncad.dat"
ok "server.xml has dbconn" grep -q '<dbconn>' "$A/config/_webmail/server.xml"
ok "_hosts" test -f "$A/config/_webmail/_hosts/mail.dom1.example.xml"
ok "servicebind.dat" grep -q '^smtp;0.0.0.0;25' "$A/config/servicebind.dat"
ok "per-domain list file" test -f "$A/config/dom1.example/list1.txt"
ok "smtp log" test -f "$A/logs/smtp/s20261101.log"
ok "temp dir" test -d "$A/temp"
ok "outgoing queue dir" test -d "$A/mail/_outgoing/retry"
if command -v sqlite3 >/dev/null 2>&1; then
	ok "groupware.db has EventOwner" sh -c "sqlite3 '$A/calendar/groupware.db' .tables | grep -qw EventOwner"
	ok "groupware.db has ContactItem" sh -c "sqlite3 '$A/calendar/groupware.db' .tables | grep -qw ContactItem"
	ok "antispam.db has Senders rows" test "$(sqlite3 "$A/spam/antispam.db" 'SELECT count(*) FROM Senders')" -gt 0
	is "accounts.db Users in step with the tool" "$(sqlite3 "$A/config/accounts.db" 'SELECT count(*) FROM Users')" \
		"$("$A/tool.sh" export account '*@*' | wc -l | tr -d ' ')"
	is "accounts.db Domains" "$(sqlite3 "$A/config/accounts.db" 'SELECT group_concat(D_Name) FROM Domains')" \
		"dom1.example,dom2.example"
else
	skip_db=1
fi

# ---- tool.sh: get/set system -----------------------------------------------
is "get system prints Name: value" "$("$A/tool.sh" get system C_System_Storage_Dir_MailPath)" \
	"C_System_Storage_Dir_MailPath: $A/mail/"
is "names are case-insensitive, echoed as given" "$("$A/tool.sh" get system c_system_storage_dir_mailpath)" \
	"c_system_storage_dir_mailpath: $A/mail/"
is "several variables, one line each" "$("$A/tool.sh" get system C_InstallPath C_ConfigPath | wc -l | tr -d ' ')" 2
is "accounts connection string" "$("$A/tool.sh" get system C_System_Storage_Accounts_ODBCConnString)" \
	"C_System_Storage_Accounts_ODBCConnString: $A/config/accounts.db;;;;7;3"
is "archive enabled by default" "$("$A/tool.sh" get system C_System_Tools_AutoArchive_Enable)" \
	"C_System_Tools_AutoArchive_Enable: 1"
fails "unknown system variable fails" "$A/tool.sh" get system C_No_Such_Variable
fails "unknown command fails" "$A/tool.sh" frobnicate system C_InstallPath
fails "unknown object fails" "$A/tool.sh" get galaxy x
ok "every documented system variable exists" "$A/tool.sh" get system \
	C_InstallPath C_ConfigPath C_System_Storage_Dir_MailPath C_System_Storage_Dir_TempPath \
	C_System_Storage_Dir_LogPath C_SpamPath C_CalendarPath C_System_Tools_AutoArchive_Enable \
	C_System_Tools_AutoArchive_Path C_System_Storage_Mailbox_UseSorting C_System_Storage_Accounts_StorageMode \
	C_GW_ConnectionString C_AS_Challenge_ConnectionString C_System_Storage_Accounts_ODBCConnString \
	C_Accounts_Global_Accounts_DirectoryCacheConnectionString C_ActiveSync_DBConnection C_AS_SpamReportsDBConn \
	C_Mail_SMTP_Active C_Mail_POP_Active C_Mail_IMAP_Active C_Mail_Control_Active C_Mail_Control_DisableWeb \
	C_GW_General_Disable C_IM_General_Disable C_System_Services_SIP_Enable C_FTPService_Active \
	C_ActiveSync_Active C_Webmail_Active C_System_Services_SIP_LocalNet C_System_Services_SIP_LocalAccessHost \
	C_System_Services_SIP_RemoteAccessHost C_System_Services_SIP_Calls C_System_Services_SIP_CallsFile \
	C_System_Services_SIP_RTPDump C_System_Services_SIP_RTPDumpPath C_System_Services_SIP_TTSOutputPath \
	C_Mail_SMTP_General_DNSServer C_System_Logging_Syslog_Active C_System_Logging_Syslog_Server \
	C_System_Logging_General_Archive C_System_Logging_General_ArchiveTo C_System_Tools_AutoBackup_Enable \
	C_System_Tools_AutoBackup_BackupTo C_System_Tools_Backup_Dirs C_System_Tools_Monitor_Enable \
	C_System_Tools_Monitor_DiskPaths C_Webmail_URL C_Mail_Filter_RulesContentXML C_FTP_GlobalSettings \
	C_AV_Misc_DisableExternalAV C_Accounts_Policies_Pass_DenyExport
ok "set system" "$A/tool.sh" set system C_Mail_SMTP_Active 0
is "set system took effect" "$("$A/tool.sh" get system c_mail_smtp_active)" "c_mail_smtp_active: 0"
ok "modify is the old alias, several pairs" "$A/tool.sh" modify system C_Mail_SMTP_Active 1 C_Mail_POP_Active 0
is "both pairs set" "$("$A/tool.sh" get system C_Mail_SMTP_Active C_Mail_POP_Active | tr '\n' ' ')" \
	"C_Mail_SMTP_Active: 1 C_Mail_POP_Active: 0 "
fails "set of an unknown system variable fails" "$A/tool.sh" set system C_No_Such_Variable 1

# ---- tool.sh: export and CSV -----------------------------------------------
is "export: trailing comma" "$("$A/tool.sh" export account user1@dom1.example u_type)" "user1@dom1.example,0,"
is "export: no variables" "$("$A/tool.sh" export account user1@dom1.example)" "user1@dom1.example,"
is "export: comma quoted" "$("$A/tool.sh" export account resource1@dom1.example u_type u_name)" \
	'resource1@dom1.example,8,"Meeting room, 2nd floor",'
is "export: quotes doubled" "$("$A/tool.sh" export account user2@dom1.example u_name)" \
	'user2@dom1.example,"Bob ""The Builder"" Novak",'
is "export: CR LF inside a quoted value" "$("$A/tool.sh" export account list1@dom1.example m_listfile_contents | tr '\r\n' '~~')" \
	'list1@dom1.example,"user1@dom1.example~~user2@dom1.example~~",~'
fails "export: an unknown account variable fails" "$A/tool.sh" export account user1@dom1.example u_nosuchvar u_type
is "export: case-insensitive variables" "$("$A/tool.sh" export account user1@dom1.example U_TYPE U_MailBoxPath)" \
	"user1@dom1.example,0,dom1.example/user1/,"
is "export: all accounts (2 domains x (5 users + list, group, resource))" \
	"$("$A/tool.sh" export account '*@*' u_type | wc -l | tr -d ' ')" 16
is "export: one domain" "$("$A/tool.sh" export account '*@dom2.example' u_type | grep -vc '@dom2\.example,')" 0
is "export: ordered by domain, then alias" "$("$A/tool.sh" export account '*@*' | tr -d ',' |
	awk -F@ '{print $2 " " $1}' | LC_ALL=C sort -c && echo sorted)" sorted
is "export: u_fullmailboxpath" "$("$A/tool.sh" export account user1@dom1.example u_fullmailboxpath)" \
	"user1@dom1.example,$A/mail/dom1.example/user1/,"
is "export: types of list, group, resource" \
	"$("$A/tool.sh" export account '*@dom1.example' u_type | grep -E '^(list1|group1|resource1)@' | tr '\n' ' ')" \
	"group1@dom1.example,7, list1@dom1.example,1, resource1@dom1.example,8, "
is "export domain" "$("$A/tool.sh" export domain '*' d_type)" "dom1.example,0,
dom2.example,0,"
is "export remoteaccount" "$("$A/tool.sh" export remoteaccount '*' ra_server)" "ra1,pop.provider1.example.net,"
is "get account" "$("$A/tool.sh" get account user1@dom1.example u_alias U_FullMailboxPath)" \
	"u_alias: user1
U_FullMailboxPath: $A/mail/dom1.example/user1/"
is "get domain" "$("$A/tool.sh" get domain dom1.example d_type)" "d_type: 0"
fails "get of a missing account fails" "$A/tool.sh" get account nobody@dom1.example u_type

# ---- create / set / delete / import ----------------------------------------
ok "set account" "$A/tool.sh" set account user1@dom1.example u_name "New, name"
is "set account took effect" "$("$A/tool.sh" get account user1@dom1.example u_name)" "u_name: New, name"
ok "set account by pattern" "$A/tool.sh" set account '*@dom1.example' u_accountdisabled 2
is "pattern reached one domain only" "$("$A/tool.sh" export account '*@*' u_accountdisabled | grep -c ',2,$')" 8
ok "create account" "$A/tool.sh" create account new@dom1.example u_name "New user" u_mailboxpath dom1.example/new/
is "created account exported" "$("$A/tool.sh" export account new@dom1.example u_type u_name u_fullmailboxpath)" \
	"new@dom1.example,0,New user,$A/mail/dom1.example/new/,"
fails "create of an existing account fails" "$A/tool.sh" create account new@dom1.example
ok "the failure names item exists (-7)" sh -c "'$A/tool.sh' create account new@dom1.example 2>&1 | grep -q -- -7"
fails "create in a missing domain fails" "$A/tool.sh" create account x@nowhere.example
ok "delete account" "$A/tool.sh" delete account new@dom1.example
is "deleted account gone" "$("$A/tool.sh" export account 'new@*')" ""
fails "delete of a missing account fails" "$A/tool.sh" delete account new@dom1.example
ok "create domain" "$A/tool.sh" create domain dom9.example d_description "Nine"
fails "create of an existing domain fails" "$A/tool.sh" create domain dom9.example
ok "set domain" "$A/tool.sh" set domain dom9.example d_type 3
is "domain set" "$("$A/tool.sh" export domain dom9.example d_type d_description)" "dom9.example,3,Nine,"
ok "account in the new domain" "$A/tool.sh" create account a@dom9.example
ok "delete domain" "$A/tool.sh" delete domain dom9.example
is "deleting a domain deletes its accounts" "$("$A/tool.sh" export account '*@dom9.example')" ""
if [ -z "${skip_db:-}" ]; then
	is "accounts.db follows create/delete" "$(sqlite3 "$A/config/accounts.db" 'SELECT count(*) FROM Users')" \
		"$("$A/tool.sh" export account '*@*' | wc -l | tr -d ' ')"
fi

# u_backup: export, delete all, recreate one by one from the blob, export again.
"$B/tool.sh" export account '*@*' u_type u_name u_mailboxpath m_listfile_contents u_password >"$TMP/before"
"$B/tool.sh" export account '*@*' u_backup >"$TMP/backup"
is "u_backup never holds a comma" "$(awk -F, 'NF != 3' "$TMP/backup")" ""
restore_each() {
	while IFS=, read -r email blob _rest; do
		"$B/tool.sh" create account "$email" u_backup "$blob" || return 1
	done <"$TMP/backup"
}
ok "delete account *@*" "$B/tool.sh" delete account '*@*'
is "server has no accounts" "$("$B/tool.sh" export account '*@*')" ""
ok "create account EMAIL u_backup BLOB" restore_each
"$B/tool.sh" export account '*@*' u_type u_name u_mailboxpath m_listfile_contents u_password >"$TMP/after"
ok "u_backup round trip" cmp "$TMP/before" "$TMP/after"
"$B/tool.sh" export domain '*' d_backup >"$TMP/dbackup"
"$B/tool.sh" export domain '*' d_type d_description >"$TMP/dbefore"
ok "delete domain *" "$B/tool.sh" delete domain '*'
is "export domain * prints nothing" "$("$B/tool.sh" export domain '*')" ""
ok "import domain FILE d_backup" "$B/tool.sh" import domain "$TMP/dbackup" d_backup
ok "import account FILE u_backup" "$B/tool.sh" import account "$TMP/backup" u_backup
"$B/tool.sh" export domain '*' d_type d_description >"$TMP/dafter"
ok "d_backup round trip" cmp "$TMP/dbefore" "$TMP/dafter"
"$B/tool.sh" export account '*@*' u_type u_name u_mailboxpath m_listfile_contents u_password >"$TMP/after2"
ok "import round trip (quoted CR LF values too)" cmp "$TMP/before" "$TMP/after2"
"$B/tool.sh" export account '*@dom1.example' u_type u_name >"$TMP/plain"
ok "import of plain values" "$B/tool.sh" import account "$TMP/plain" u_type u_name
fails "import of a missing file fails" "$B/tool.sh" import account "$TMP/nonexistent" u_backup
"$B/tool.sh" export remoteaccount '*' ra_backup >"$TMP/rbackup"
ok "delete remoteaccount" "$B/tool.sh" delete remoteaccount ra1
ok "create remoteaccount from ra_backup" "$B/tool.sh" create remoteaccount ra1 ra_backup "$(cut -d, -f2 "$TMP/rbackup")"
is "ra_backup round trip" "$("$B/tool.sh" export remoteaccount '*' ra_backup)" "$(cat "$TMP/rbackup")"
fails "a bad backup blob fails" "$B/tool.sh" create account z@dom1.example u_backup 'not,a,blob'

# ---- account classes ---------------------------------------------------------
K=$TMP/k
ok "create with every class" iwsim create "$K" --archivists 2 --externs 2 --shared 2 --unused 2
kx() {
	"$K/tool.sh" export account "$1" u_mailboxpath u_fullmailboxpath
}
imaps() {
	find "$1" -name '*.imap' | wc -l | tr -d ' '
}
is "regular: relative mailbox path" "$(kx user1@dom1.example)" \
	"user1@dom1.example,dom1.example/user1/,$K/mail/dom1.example/user1/,"
is "regular: some absolute" "$(kx user3@dom1.example)" \
	"user3@dom1.example,$K/mail/dom1.example/user3/,$K/mail/dom1.example/user3/,"
ok "regular: inbox messages" test "$(imaps "$K/mail/dom1.example/user1/inbox")" -eq 5
ok "regular: imapindex.dat" test -f "$K/mail/dom1.example/user1/inbox/imapindex.dat"
is "regular: Drafts is empty" "$(imaps "$K/mail/dom1.example/user1/Drafts")" 0
ok "regular: ~spam, Sent, Trash" test -d "$K/mail/dom1.example/user1/~spam" -a -d "$K/mail/dom1.example/user1/Sent" \
	-a -d "$K/mail/dom1.example/user1/Trash"
ok "regular: nested custom folder" test -d "$K/mail/dom1.example/user1/Projects/Old"
ok "regular: webclient settings" test -f "$K/mail/dom1.example/user1/~webmail/settings.xml"
is "regular: 35 messages (4 + 2 custom + 1 nested folders x 5)" "$(imaps "$K/mail/dom1.example/user2")" 35
msg=$(find "$K/mail/dom1.example/user2/inbox" -name '*.imap' | LC_ALL=C sort | head -n 1)
name=$(basename "$msg")
is "message file named from its mtime" "${name%????.imap}" "$(date -u -d "@$(stat -c %Y "$msg")" +%Y%m%d%H%M%S)"
ok "message is RFC 822" grep -q '^Message-ID: <' "$msg"
ok "message has a body" test "$(stat -c %s "$msg")" -gt 300
is "archivist: domain archive" "$(kx archive1@dom1.example)" \
	"archive1@dom1.example,$K/archive/dom1.example/,$K/archive/dom1.example/,"
is "archivist: a user's archive" "$(kx archive2@dom2.example)" \
	"archive2@dom2.example,$K/archive/dom2.example/user1/,$K/archive/dom2.example/user1/,"
ok "archivist: data in the archive" test "$(imaps "$K/archive/dom2.example/user1")" -gt 0
is "extern: outside the mail dir" "$(kx extern1@dom1.example)" \
	"extern1@dom1.example,$K/external/extern1/,$K/external/extern1/,"
ok "extern: data" test "$(imaps "$K/external/extern1/inbox")" -eq 5
is "shared: a folder of another user" "$(kx shared2@dom2.example)" \
	"shared2@dom2.example,dom2.example/user1/Shared/,$K/mail/dom2.example/user1/Shared/,"
ok "shared: the folder holds messages" test "$(imaps "$K/mail/dom2.example/user1/Shared")" -eq 5
ok "unused: directory in the mail dir" test "$(imaps "$K/mail/dom1.example/olduser1")" -eq 5
is "unused: no account uses it" "$("$K/tool.sh" export account '*@*' u_fullmailboxpath | grep -c olduser)" 0
arch_ok() {
	for f in "$K"/archive/dom1.example/user1/inbox/*.imap; do
		m="$K/mail/dom1.example/user1/inbox/${f##*/}"
		[ -f "$m" ] && [ "$(stat -c '%s %Y' "$f")" = "$(stat -c '%s %Y' "$m")" ] || return 1
	done
}
ok "archive mirrors mail (same names, sizes, mtimes)" arch_ok
is "archive keeps the older half" "$(imaps "$K/archive/dom1.example/user1/inbox")" 2

# ---- --no-archive, --windows ---------------------------------------------
N=$TMP/n
ok "create --no-archive" iwsim create "$N" --no-archive
is "auto-archive off" "$("$N/tool.sh" get system C_System_Tools_AutoArchive_Enable)" "C_System_Tools_AutoArchive_Enable: 0"
ok "the archive dir may still exist" test -d "$N/archive/dom1.example"

NM=$TMP/nm
ok "create --no-mailboxes" iwsim create "$NM" --no-mailboxes --users 50
is "accounts without mailboxes" "$("$NM/tool.sh" export account '*@*' u_type | wc -l | tr -d ' ')" 106
fails "no mailbox data" test -e "$NM/mail/dom1.example/user1"

W=$TMP/w
ok "create --windows" iwsim create "$W" --windows --externs 1 --archivists 1 --shared 1
is "windows: install path" "$("$W/tool.sh" get system C_InstallPath)" "C_InstallPath: C:\\Program Files\\IceWarp\\"
is "windows: mail path" "$("$W/tool.sh" get system C_System_Storage_Dir_MailPath)" \
	"C_System_Storage_Dir_MailPath: C:\\Program Files\\IceWarp\\mail\\"
is "windows: regular user" "$("$W/tool.sh" export account user1@dom1.example u_mailboxpath u_fullmailboxpath)" \
	'user1@dom1.example,dom1.example\user1\,C:\Program Files\IceWarp\mail\dom1.example\user1\,'
is "windows: extern" "$("$W/tool.sh" export account extern1@dom1.example u_fullmailboxpath)" \
	'extern1@dom1.example,E:\externs\extern1\,'
ok "windows: extern data under drive-e" test "$(imaps "$W/drive-e/externs/extern1")" -gt 0
is "windows: archivist" "$("$W/tool.sh" export account archive1@dom1.example u_fullmailboxpath)" \
	'archive1@dom1.example,C:\Program Files\IceWarp\archive\dom1.example\,'
is "windows: path.dat with CR LF" "$(sed -n 1p "$W/path.dat" | tr -d '\r')" "C:\\Program Files\\IceWarp\\config\\"
ok "windows: files still under DIR" test -d "$W/mail/dom1.example/user1/inbox"

# ---- planted dependencies ---------------------------------------------------
# A server with none: nothing risky anywhere.
D0=$A
for tag in COPYTOFOLDER RESPOND EXECUTE HEADERFOOTER EXTRACT APPEND SQL; do
	is "no plant: no $tag filter" "$(filter_active "$D0/config/content.xml" "$tag")" ""
done
is "no plant: only harmless filters" "$(filter_active "$D0/config/content.xml" REJECT)" 1
is "no plant: no tasks" "$(grep -c '<TASK>' "$D0/config/tasks.xml")" 0
is "no plant: no external filters" "$(grep -c '<FILTER>' "$D0/config/extfilters.xml")" 0
is "no plant: global rules empty" "$("$D0/tool.sh" get system C_Mail_Filter_RulesContentXML)" "C_Mail_Filter_RulesContentXML: "
is "no plant: domain rule harmless" \
	"$("$D0/tool.sh" get domain dom1.example d_rulescontentxml | grep -o '<ACTIONTYPE>[0-9]*' | tr '\n' ' ')" \
	"<ACTIONTYPE>9 <ACTIONTYPE>27 "
is "no plant: FTP empty" "$("$D0/tool.sh" get system C_FTP_GlobalSettings)" "C_FTP_GlobalSettings: "
is "no plant: no directory sync" "$(grep -c '<ACTIVE>1' "$D0/config/syncad.dat")" 0
is "no plant: no database lists or executables" \
	"$("$D0/tool.sh" export account '*@*' u_type m_sendalllists | grep -cE ',2,|,5,$')" 0
is "no plant: VoIP local net default (empty)" "$("$D0/tool.sh" get system C_System_Services_SIP_LocalNet)" \
	"C_System_Services_SIP_LocalNet: "
for v in C_System_Services_SIP_CallsFile C_System_Services_SIP_RTPDumpPath C_System_Services_SIP_TTSOutputPath \
	C_System_Logging_General_ArchiveTo C_System_Tools_AutoBackup_BackupTo C_System_Logging_Syslog_Server \
	C_System_Tools_Backup_Dirs C_System_Tools_Monitor_DiskPaths; do
	is "no plant: $v empty" "$("$D0/tool.sh" get system "$v")" "$v: "
done

P=$TMP/p
ok "create --plant all" iwsim create "$P" --plant all --domains 3
for tag in COPYTOFOLDER RESPOND EXECUTE HEADERFOOTER EXTRACT APPEND SQL; do
	is "filter $tag active and inactive" "$(filter_active "$P/config/content.xml" "$tag")" 10
done
rules_of() {
	# "TYPE:ACTIVE" of each rule but the harmless first one
	tr -d '\r\n' | sed 's#</RULE>#&\
#g' | sed -n 's#.*<RULEID>\([0-9]*\)</RULEID>.*<ACTIVE>\([01]\)</ACTIVE>.*<ACTIONTYPE>\([0-9]*\)</ACTIONTYPE>.*#\1 \3:\2#p' |
		awk '$1 > 1 {printf "%s ", $2}'
}
want_rules="5:1 5:0 8:1 8:0 12:1 12:0 13:1 13:0 15:1 15:0 17:1 17:0 21:1 21:0 "
is "global rules: every action, active and inactive" \
	"$("$P/tool.sh" get system C_Mail_Filter_RulesContentXML | rules_of)" "$want_rules"
is "domain rules" "$("$P/tool.sh" get domain dom1.example d_rulescontentxml | rules_of)" "$want_rules"
is "user rules" "$("$P/tool.sh" get account user1@dom1.example u_rulescontentxml | rules_of)" "$want_rules"
ok "FTP global" sh -c "'$P/tool.sh' get system C_FTP_GlobalSettings | grep -q '<SITE>'"
is "FTP service on" "$("$P/tool.sh" get system C_FTPService_Active)" "C_FTPService_Active: 1"
ok "FTP domain" sh -c "'$P/tool.sh' get domain dom1.example D_FTP_DomainSettings | grep -q '<SITE>'"
ok "FTP user" sh -c "'$P/tool.sh' get account user1@dom1.example U_FTP_UserSettings | grep -q '<SITE>'"
is "tasks active and inactive" "$(grep -o '<ACTIVE>[01]' "$P/config/tasks.xml" | tr '\n' ' ')" "<ACTIVE>1 <ACTIVE>0 "
is "AV filters enabled and disabled" "$(grep -o '<ENABLED>[01]' "$P/config/extfilters.xml" | tr '\n' ' ')" \
	"<ENABLED>1 <ENABLED>0 "
is "database-fed list" "$("$P/tool.sh" export account dblist1@dom1.example u_type m_sendalllists m_odbc m_sql)" \
	'dblist1@dom1.example,1,5,"crmdsn,crmuser,crmpass,db.dom1.example,3",SELECT email FROM customers WHERE newsletter = 1,'
is "two directory-synced domains of three" "$(grep -c '<ACTIVE>1</ACTIVE>' "$P/config/syncad.dat")" 2
is "D_LDAP_Active follows" "$("$P/tool.sh" export domain '*' d_ldap_active | tr '\n' ' ')" \
	"dom1.example,1, dom2.example,1, dom3.example,0, "
is "executable account" "$("$P/tool.sh" export account exec1@dom1.example u_type)" "exec1@dom1.example,2,"
ok "VoIP local network not the default" sh -c "'$P/tool.sh' get system C_System_Services_SIP_LocalNet | grep -q '10\\.20\\.'"
ok "syslog server" sh -c "'$P/tool.sh' get system C_System_Logging_Syslog_Server | grep -q ': syslog'"
ok "backup dirs" sh -c "'$P/tool.sh' get system C_System_Tools_Backup_Dirs | grep -q ': /'"
ok "monitor disk paths" sh -c "'$P/tool.sh' get system C_System_Tools_Monitor_DiskPaths | grep -q ': /'"
ok "content.xml well-formed end" grep -q '</CONTENTFILTER>' "$P/config/content.xml"

Q=$TMP/q
ok "create with each path-check case" iwsim create "$Q" --plant path:voip-calls:relative \
	--plant path:voip-record:inside --plant path:tts:outside --plant path:log-archive:inside \
	--plant path:backup:outside --plant filter:execute:off --plant rule:user:extract
val() {
	"$Q/tool.sh" get system "$1" | sed 's/^[^:]*: //'
}
is "voip calls file: relative" "$(val C_System_Services_SIP_CallsFile)" "logs/voip/calls.log"
is "voip calls on" "$(val C_System_Services_SIP_Calls)" 1
is "recording path: inside" "$(val C_System_Services_SIP_RTPDumpPath)" "$Q/voip/recordings/"
is "recording on" "$(val C_System_Services_SIP_RTPDump)" 1
is "tts output: outside" "$(val C_System_Services_SIP_TTSOutputPath)" "/srv/icewarp-data/voip/tts/"
is "deleted-log archive: inside" "$(val C_System_Logging_General_ArchiveTo)" "$Q/logs/archive/deleted-logs.zip"
is "backup to file: outside" "$(val C_System_Tools_AutoBackup_BackupTo)" "/srv/icewarp-data/backup/icewarp-backup.zip"
is "one inactive execute filter only" "$(filter_active "$Q/config/content.xml" EXECUTE)" 0
is "one user rule only" "$("$Q/tool.sh" get account user1@dom1.example u_rulescontentxml | rules_of)" "15:1 "
is "global rules untouched" "$(val C_Mail_Filter_RulesContentXML)" ""

M=$TMP/m
ok "create with malformed XML" iwsim create "$M" --plant malformed-content-xml --plant malformed-rule:global \
	--plant malformed-rule:domain --plant malformed-rule:user
fails "content.xml is cut short" grep -q '</CONTENTFILTER>' "$M/config/content.xml"
fails "global rule XML malformed" sh -c "'$M/tool.sh' get system C_Mail_Filter_RulesContentXML | grep -q '</RULES>\$'"
fails "domain rule XML malformed" sh -c "'$M/tool.sh' get domain dom1.example d_rulescontentxml | grep -q '</RULES>\$'"
fails "user rule XML malformed" sh -c "'$M/tool.sh' get account user1@dom1.example u_rulescontentxml | grep -q '</RULES>\$'"
ok "a malformed server still answers" "$M/tool.sh" export account '*@*' u_type u_rulescontentxml

WP=$TMP/wp
ok "windows plants" iwsim create "$WP" --windows --plant path:backup:inside --plant path:voip-calls:outside
is "windows: inside path" "$("$WP/tool.sh" get system C_System_Tools_AutoBackup_BackupTo)" \
	'C_System_Tools_AutoBackup_BackupTo: C:\Program Files\IceWarp\backup\icewarp-backup.zip'
is "windows: outside path" "$("$WP/tool.sh" get system C_System_Services_SIP_CallsFile)" \
	'C_System_Services_SIP_CallsFile: D:\IceWarpData\logs\voip\calls.log'

done_testing
