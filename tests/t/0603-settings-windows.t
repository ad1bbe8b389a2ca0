#!/bin/sh
# A Windows source (C:\Program Files\IceWarp\...) restored on a Linux
# target: values holding the source's paths point into the target's,
# with '/' separators; webmail.dat and immodules.dat adapted by
# lib/data/platform-rules; preserved values intact.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/settings.sh"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"

S=$TMP/win
T=$TMP/tgt
ok "a Windows source" st_source "$S" --windows
ok "a Linux target" st_target "$T"
# shellcheck disable=SC1003 # a Windows path ends with a backslash
is "the source reports Windows paths" "$(st_val "$S/tool.sh" C_System_Logging_General_ArchiveTo)" \
    'C:\Program Files\IceWarp\logs\archive\'
exits "backup: the Windows temp path is not here, so -o" 0 \
    iwm-dbexport --settings -q --tool "$S/tool.sh" -o "$TMP/bundle"
is "... the bundle says windows" "$(sqlite3 "$TMP/bundle/settings.db" "SELECT v FROM meta WHERE k = 'platform'")" windows
# shellcheck disable=SC1003
is "... and the source's install path" "$(sqlite3 "$TMP/bundle/settings.db" "SELECT v FROM meta WHERE k = 'install'")" \
    'C:\Program Files\IceWarp\'
exits "backup without -o: usage" 64 iwm-dbexport --settings -q --tool "$S/tool.sh"
before=$(st_val "$T/tool.sh" C_System_Tools_AutoArchive_Path)

exits "restore on the Linux target" 0 iwm-restore settings --tool "$T/tool.sh" "$TMP/bundle"
is "a log path is the target's" "$(st_val "$T/tool.sh" C_System_Logging_General_ArchiveTo)" "$T/logs/archive/"
is "a backup file path is the target's" "$(st_val "$T/tool.sh" C_System_Tools_AutoBackup_BackupTo)" "$T/backup/server.zip"
is "the archive path stays the target's own (preserved)" "$(st_val "$T/tool.sh" C_System_Tools_AutoArchive_Path)" "$before"
ok "no backslash left in a restored variable" sh -c '
	for n in $(sqlite3 "$1" "SELECT name FROM sysvar WHERE value LIKE '"'C:%'"'"); do
		"$2" get system "$n" | grep -q "\\\\" && { echo "$n"; exit 1; }
	done; exit 0' - "$TMP/bundle/settings.db" "$T/tool.sh"
is "webmail.dat: target paths, php.exe is php" "$(cat "$T/config/webmail.dat")" \
    "<webmail><php>$T/php/php</php><root>$T/html/webmail/</root></webmail>"
is "immodules.dat: target paths, .dll is .so" "$(cat "$T/config/immodules.dat")" \
    "$(printf 'im=%s\nsip=voip.so' "$T/modules/im.so")"
ok "other files byte for byte (CRLF kept)" cmp "$S/config/dom1.example/list1.txt" "$T/config/dom1.example/list1.txt"
st_objects "$S/tool.sh" >"$TMP/obj.src"
st_objects "$T/tool.sh" >"$TMP/obj.tgt"
is "domains, accounts, remote accounts equal" "$(comm -23 "$TMP/obj.src" "$TMP/obj.tgt" | wc -l | tr -d ' ')" 0
exits "--verify: exit 0" 0 iwm-restore settings --verify --tool "$T/tool.sh" "$TMP/bundle"
exits "a rerun: exit 0" 0 iwm-restore settings -q --tool "$T/tool.sh" "$TMP/bundle"
is "... the paths were not mapped twice" "$(st_val "$T/tool.sh" C_System_Logging_General_ArchiveTo)" "$T/logs/archive/"
done_testing
