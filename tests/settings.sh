# tests/settings.sh: two simulated servers for the settings tests
# (tests/t/060x-*.t), sourced after lib.sh.
#
# st_source DIR [iwsim options]: a source whose settings and files differ
#   from the simulator's defaults (and so from the target's).
# st_target DIR [iwsim options]: a pre-configured target as IceWarp's
#   migrator guide asks: an administrator account in a domain the source
#   lacks, its own database users, VoIP hosts and local network, DNS
#   server, webmail URL and server.xml, plus a domain of its own.
# st_val TOOL NAME: one system variable's value.
# st_objects TOOL: every domain, account and remote account backup, sorted.
# st_pvars TOOL: the preserved variables (lib/data/preserved) TOOL knows.
# st_rvars BUNDLE: the variables the bundle restores (known, not preserved).

st_val() {
	"$1" get system "$2" | sed '1s/^[^:]*: //'
}

# A path below the server's install path, with its separators.
st_path() {
	st_i=$(st_val "$1/tool.sh" C_InstallPath)
	case $st_i in
	[A-Za-z]:\\*) printf '%s%s' "$st_i" "$(printf '%s' "$2" | tr / "\\\\")" ;;
	*) printf '%s%s' "$st_i" "$2" ;;
	esac
}

st_source() {
	st_d=$1
	shift
	iwsim create "$st_d" --domains 3 --users 2 --no-mailboxes --remotes 2 \
	    "$@" >/dev/null || return 1
	"$st_d/tool.sh" set system \
	    C_Mail_Filter_Content_Enable 0 \
	    C_Accounts_Global_ActiveDirectorySyncInterval 15 \
	    C_System_Tools_Monitor_DiskSize 2048 \
	    C_System_Logging_Syslog_Server syslog.src.example \
	    C_System_ADSyncLogType 2 \
	    C_System_Logging_General_ArchiveTo "$(st_path "$st_d" logs/archive/)" \
	    C_System_Tools_AutoBackup_BackupTo "$(st_path "$st_d" backup/server.zip)" \
	    C_Webmail_URL https://mail.src.example/webmail/ \
	    C_Mail_SMTP_General_DNSServer 192.0.2.99 \
	    C_System_Services_SIP_LocalNet 192.168.77.0/24 || return 1
	printf 'extra@dom1.example\r\n' >>"$st_d/config/dom1.example/list1.txt"
	printf '<webmail><php>%s</php><root>%s</root></webmail>\n' \
	    "$(st_path "$st_d" php/php.exe)" "$(st_path "$st_d" html/webmail/)" \
	    >"$st_d/config/webmail.dat"
	printf 'im=%s\nsip=voip.dll\n' "$(st_path "$st_d" modules/im.dll)" \
	    >"$st_d/config/immodules.dat"
}

st_target() {
	st_d=$1
	shift
	iwsim create "$st_d" --domains 1 --users 1 --no-mailboxes --remotes 1 \
	    --seed 2 "$@" >/dev/null || return 1
	st_t=$st_d/tool.sh
	"$st_t" create domain target.local d_description "Target admin domain" \
	    >/dev/null &&
	"$st_t" create account admin@target.local u_name Admin \
	    u_password tgtsecret u_admin 1 >/dev/null &&
	"$st_t" create domain tonly.example d_description "Target only" \
	    >/dev/null &&
	"$st_t" create account keep@tonly.example u_name Keep >/dev/null &&
	"$st_t" set system \
	    C_Webmail_URL https://target.example/webmail/ \
	    C_Mail_SMTP_General_DNSServer 198.51.100.53 \
	    C_System_Services_SIP_LocalAccessHost 198.51.100.10 \
	    C_System_Services_SIP_RemoteAccessHost sip.target.example \
	    C_System_Services_SIP_SDPRemoteAccessHost sdp.target.example \
	    C_System_Services_SIP_LocalNet 10.9.0.0/16 \
	    C_ActiveSync_DBUser easuser C_ActiveSync_DBPass easpass \
	    C_AS_SpamReportsDBConn "mysql:host=db.target;dbname=reports" \
	    C_AS_SpamReportsDBUser repuser C_AS_SpamReportsDBPass reppass \
	    C_Webmail_DBConnection "mysql:host=db.target;dbname=webmail" || return 1
	printf '<global_settings><item><dbconn>mysql:host=db.target;dbname=webmail</dbconn><smtpserver>smtp.target.example</smtpserver></item></global_settings>\n' \
	    >"$st_d/config/_webmail/server.xml"
}

st_objects() {
	{
		"$1" export domain "*" d_backup
		"$1" export account "*@*" u_backup
		"$1" export remoteaccount "*" ra_backup
	} | sort
}

st_pvars() {
	awk '$1 == "var" { print $2 }' "$TOP/lib/data/preserved" |
	while read -r st_n; do
		"$1" get system "$st_n" >/dev/null 2>&1 && echo "$st_n"
	done
}

st_rvars() {
	awk '$1 == "var" { print $2 }' "$TOP/lib/data/preserved" >"$TMP/.pv"
	sqlite3 "$1" "SELECT name FROM sysvar WHERE value IS NOT NULL ORDER BY name" |
	    grep -vixF -f "$TMP/.pv"
}
