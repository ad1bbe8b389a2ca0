#!/bin/sh
# Settings backup on a source and restore on a pre-configured target:
# every preserved setting keeps the target's value, every other exported
# setting equals the source's (paths mapped), domains, accounts and
# remote accounts equal, the target's administrator and its own domain
# intact; --verify, --dry-run, a damaged bundle, a rerun.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/settings.sh"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"

S=$TMP/src
T=$TMP/tgt
ok "a source server" st_source "$S"
ok "a pre-configured target" st_target "$T"
B=$S/temp/iw_migration/settings

exits "backup into the source's temp/iw_migration/settings" 0 \
    iwm-dbexport --settings --tool "$S/tool.sh"
ok "... one bundle" test -s "$B/settings.db"
ok "... no temporary file left" sh -c '[ "$(ls -A "$1")" = settings.db ]' - "$B"
is "... self-describing" "$(sqlite3 "$B/settings.db" "SELECT v FROM meta WHERE k = 'format'")" \
    "iwm-settings 1"
ok "... with a checksum" sh -c \
    'sqlite3 "$1" "SELECT v FROM meta WHERE k = '"'sha256'"'" | grep -Eq "^[0-9a-f]{64}$"' - "$B/settings.db"
is "... the domains" "$(sqlite3 "$B/settings.db" "SELECT COUNT(*) FROM object WHERE kind = 'domain'")" 3
is "... the accounts" "$(sqlite3 "$B/settings.db" "SELECT COUNT(*) FROM object WHERE kind = 'account'")" \
    "$("$S/tool.sh" export account "*@*" u_type | wc -l | tr -d ' ')"
is "... the remote accounts" "$(sqlite3 "$B/settings.db" "SELECT COUNT(*) FROM object WHERE kind = 'remoteaccount'")" 2
for f in content.xml syncad.dat _webmail/server.xml _webmail/_hosts/mail.dom1.example.xml dom1.example/list1.txt webmail.dat; do
	is "... config file $f" "$(sqlite3 "$B/settings.db" "SELECT COUNT(*) FROM file WHERE path = '$f'")" 1
done
is "... no database file" "$(sqlite3 "$B/settings.db" "SELECT COUNT(*) FROM file WHERE path LIKE '%.db'")" 0
is "... no read-only or calculated variable" "$(sqlite3 "$B/settings.db" \
    "SELECT COUNT(*) FROM sysvar WHERE name IN ('C_InstallPath', 'C_ConfigPath', 'C_CalendarPath') OR name LIKE '%\_Real' ESCAPE '\\'")" 0
is "... a [D] variable asked by name" "$(sqlite3 "$B/settings.db" \
    "SELECT value FROM sysvar WHERE name = 'C_Webmail_DBConnection'")" ""
ok "... and it is in the bundle" sh -c \
    '[ "$(sqlite3 "$1" "SELECT COUNT(*) FROM sysvar WHERE name = '"'C_Webmail_DBConnection'"' AND value IS NOT NULL")" = 1 ]' - "$B/settings.db"

# What the target had before.
st_pvars "$T/tool.sh" >"$TMP/pvars"
ok "the target knows some preserved variables" test "$(wc -l <"$TMP/pvars")" -ge 15
while read -r n; do printf '%s=%s\n' "$n" "$(st_val "$T/tool.sh" "$n")"; done <"$TMP/pvars" >"$TMP/pv.before"
"$T/tool.sh" export account "admin@target.local" u_backup >"$TMP/admin.before"
"$T/tool.sh" export domain "target.local" d_backup >"$TMP/admdom.before"
"$T/tool.sh" export domain "tonly.example" d_backup >"$TMP/tonly.before"
"$T/tool.sh" export account "keep@tonly.example" u_backup >"$TMP/keep.before"
cp "$T/config/_webmail/server.xml" "$TMP/server.xml.before"
ok "source and target differ on every checked preserved variable" sh -c '
	for n in C_Webmail_URL C_Mail_SMTP_General_DNSServer C_System_Services_SIP_LocalNet C_ActiveSync_DBUser; do
		[ "$("$1" get system $n)" != "$("$2" get system $n)" ] || exit 1
	done' - "$S/tool.sh" "$T/tool.sh"

exits "--dry-run before the restore" 0 iwm-restore settings --dry-run --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... says what it would set" grep -q "^would set	var	C_Mail_Filter_Content_Enable" "$TMP/o"
ok "... and which domains it would import" grep -q "^would import	domains	2 new	0 changed" "$TMP/o"
ok "... changes nothing" sh -c '[ "$("$1" get system C_Mail_Filter_Content_Enable)" = "C_Mail_Filter_Content_Enable: 1" ]' - "$T/tool.sh"
ok "... saves nothing" test ! -e "$T/temp/iwm-target/preserved.db"
exits "--verify before any restore: no saved values" 66 iwm-restore settings --verify --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"

exits "restore on the target" 0 iwm-restore settings --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... the preserved values were saved first" test -s "$T/temp/iwm-target/preserved.db"
ok "... mode 0600" sh -c '[ "$(stat -c %a "$1")" = 600 ]' - "$T/temp/iwm-target/preserved.db"

while read -r n; do printf '%s=%s\n' "$n" "$(st_val "$T/tool.sh" "$n")"; done <"$TMP/pvars" >"$TMP/pv.after"
ok "every preserved variable keeps the target's value" cmp "$TMP/pv.before" "$TMP/pv.after"
ok "server.xml is the target's" cmp "$TMP/server.xml.before" "$T/config/_webmail/server.xml"

st_rvars "$B/settings.db" >"$TMP/rvars"
ok "the bundle restores many variables" test "$(wc -l <"$TMP/rvars")" -ge 25
# shellcheck disable=SC2046
"$S/tool.sh" get system $(cat "$TMP/rvars") | sed "s|$S/|$T/|g" >"$TMP/rv.src"
# shellcheck disable=SC2046
"$T/tool.sh" get system $(cat "$TMP/rvars") >"$TMP/rv.tgt"
ok "every other exported variable equals the source's (paths mapped)" cmp "$TMP/rv.src" "$TMP/rv.tgt"
is "... a path value points into the target" "$(st_val "$T/tool.sh" C_System_Logging_General_ArchiveTo)" "$T/logs/archive/"

st_objects "$S/tool.sh" >"$TMP/obj.src"
st_objects "$T/tool.sh" >"$TMP/obj.tgt"
is "domains, accounts, remote accounts equal (backups compared)" "$(comm -23 "$TMP/obj.src" "$TMP/obj.tgt" | wc -l | tr -d ' ')" 0
ok "the target's administrator account kept" sh -c '"$1" export account admin@target.local u_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/admin.before"
ok "... and its domain" sh -c '"$1" export domain target.local d_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/admdom.before"
ok "a domain only the target has is untouched" sh -c '"$1" export domain tonly.example d_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/tonly.before"
ok "... and its account" sh -c '"$1" export account keep@tonly.example u_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/keep.before"
for f in content.xml syncad.dat dom1.example/list1.txt _webmail/_hosts/mail.dom3.example.xml; do
	ok "config file $f equals the source's" cmp "$S/config/$f" "$T/config/$f"
done
is "webmail.dat: the source's paths are the target's" "$(cat "$T/config/webmail.dat")" \
    "<webmail><php>$T/php/php.exe</php><root>$T/html/webmail/</root></webmail>"

exits "--verify after the restore: exit 0" 0 iwm-restore settings --verify --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
cp "$TMP/.out" "$TMP/verify.out"
ok "... a preserved line per preserved variable" sh -c '
	while read -r n; do grep -q "^preserved	var	$n\$" "$1" || { echo "no $n"; exit 1; }; done <"$2"' - "$TMP/verify.out" "$TMP/pvars"
ok "... a restored line per restored variable" sh -c '
	while read -r n; do grep -qi "^restored	var	$n\$" "$1" || { echo "no $n"; exit 1; }; done <"$2"' - "$TMP/verify.out" "$TMP/rvars"
ok "... the administrator account preserved" grep -q "^preserved	account	admin@target.local" "$TMP/verify.out"
ok "... server.xml preserved" grep -q "^preserved	file	_webmail/server.xml" "$TMP/verify.out"
ok "... the accounts restored" grep -q "^restored	accounts	" "$TMP/verify.out"
ok "... no mismatch" sh -c '! grep -q MISMATCH "$1"' - "$TMP/verify.out"

"$T/tool.sh" set system C_Mail_Filter_Content_Enable 1
"$T/tool.sh" set system C_Webmail_URL https://changed.example/
exits "--verify after a change on the target: exit 1" 1 iwm-restore settings --verify --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... names the restored one" grep -q "^MISMATCH	var	C_Mail_Filter_Content_Enable	(restored)" "$TMP/o"
ok "... and the preserved one" grep -q "^MISMATCH	var	C_Webmail_URL	(preserved)" "$TMP/o"
exits "--dry-run: exit 0" 0 iwm-restore settings -n --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... would set exactly those two" sh -c '[ "$(grep -c "^would set" "$1")" = 2 ]' - "$TMP/o"
ok "... and no object" grep -q "^would import	accounts	0 new	0 changed" "$TMP/o"
is "... still changed" "$(st_val "$T/tool.sh" C_Webmail_URL)" https://changed.example/
exits "restore again" 0 iwm-restore settings --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... the saved preserved values were kept, not taken again" grep -q "saved before: kept" "$TMP/o"
is "... the preserved URL is the target's first one" "$(st_val "$T/tool.sh" C_Webmail_URL)" https://target.example/webmail/
exits "--verify: exit 0 again" 0 iwm-restore settings --verify --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
exits "a third run sets nothing" 0 iwm-restore settings --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
ok "... 0 variables set" grep -q "^restored	variables	0 set" "$TMP/o"

# A damaged bundle changes nothing.
cp -r "$B" "$TMP/bad"
sqlite3 "$TMP/bad/settings.db" "UPDATE sysvar SET value = '0' WHERE name = 'C_Mail_Filter_BW_Enable'"
"$T/tool.sh" set system C_Mail_Filter_Content_Enable 1
exits "a bundle whose checksum does not match: exit 65" 65 iwm-restore settings --tool "$T/tool.sh" "$TMP/bad"
cp "$TMP/.out" "$TMP/o"
is "... nothing restored" "$(st_val "$T/tool.sh" C_Mail_Filter_Content_Enable)" 1
exits "no bundle: exit 66" 66 iwm-restore settings --tool "$T/tool.sh" "$TMP/none"
cp "$TMP/.out" "$TMP/o"
exits "iwm-restore preserved re-applies them alone" 0 iwm-restore preserved --tool "$T/tool.sh"
cp "$TMP/.out" "$TMP/o"
exits "usage: settings needs DIR" 64 iwm-restore settings --tool "$T/tool.sh"
cp "$TMP/.out" "$TMP/o"
exits "usage: --verify with --dry-run" 64 iwm-restore settings --verify -n --tool "$T/tool.sh" "$B"
cp "$TMP/.out" "$TMP/o"
exits "a second backup replaces the bundle" 0 iwm-dbexport --settings -q --tool "$S/tool.sh"
cp "$TMP/.out" "$TMP/o"
ok "... still one file" sh -c '[ "$(ls -A "$1")" = settings.db ]' - "$B"
done_testing
