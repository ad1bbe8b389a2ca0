#!/bin/sh
# The target's administrator survives the accounts database import: the
# source keeps its databases in MariaDB, the target in SQLite files.
# iwm-restore db warns before it replaces a Users table holding accounts
# the source lacks, and iwm-restore preserved re-creates the
# administrator and its domain afterwards.  The target's connection
# strings stay the target's.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
. "$TOP/tests/settings.sh"
db_start

S=$TMP/src
T=$TMP/tgt
ok "a source server" st_source "$S"
ok "... its databases in MariaDB" iwsim-db mysql "$S" --socket "$SOCK" --port "$PORT" --webcache-rows 10
ok "a pre-configured target (SQLite)" st_target "$T"
adb=$T/config/accounts.db
users() {
	sqlite3 "$adb" "SELECT COUNT(*) FROM Users WHERE U_Alias = 'admin' AND U_Domain = 'target.local'"
}
doms() {
	sqlite3 "$adb" "SELECT COUNT(*) FROM Domains WHERE D_Name = 'target.local'"
}
is "the target's accounts database holds its administrator" "$(users)" 1
conn=$(st_val "$T/tool.sh" C_System_Storage_Accounts_ODBCConnString)
"$T/tool.sh" export account admin@target.local u_backup >"$TMP/admin.before"

exits "settings backup on the source" 0 iwm-dbexport --settings -q --tool "$S/tool.sh"
exits "databases export on the source" 0 iwm-dbexport -q --tool "$S/tool.sh" -o "$TMP/db"
exits "settings restore on the target" 0 \
    iwm-restore settings -q --tool "$T/tool.sh" "$S/temp/iw_migration/settings"
is "the target's accounts connection is still its own" \
    "$(st_val "$T/tool.sh" C_System_Storage_Accounts_ODBCConnString)" "$conn"
ok "... not the source's MariaDB one" sh -c \
    '! "$1" get system C_System_Storage_Accounts_ODBCConnString | grep -q iwmpass' - "$T/tool.sh"

"$TOP/bin/iwm-restore" db -q --tool "$T/tool.sh" --only accounts "$TMP/db" >"$TMP/db.out" 2>"$TMP/db.err"
is "accounts database import: exit 0" $? 0
ok "... warned first that it replaces the target's own accounts" \
    grep -q "warning: the target's accounts database holds 2 accounts the source.s does not (admin@target.local, keep@tonly.example)" "$TMP/db.err"
is "... the administrator is gone from the accounts database" "$(users)" 0
is "... and its domain" "$(doms)" 0
is "... the source's accounts are there" "$(sqlite3 "$adb" "SELECT COUNT(*) FROM Users WHERE U_Domain = 'dom3.example'")" \
    "$("$S/tool.sh" export account "*@dom3.example" u_type | wc -l | tr -d ' ')"

exits "iwm-restore preserved" 0 iwm-restore preserved --tool "$T/tool.sh"
is "... the administrator is back in the accounts database" "$(users)" 1
is "... with its domain" "$(doms)" 1
ok "... as it was (its backup)" sh -c '"$1" export account admin@target.local u_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/admin.before"
is "... U_Admin 1" "$("$T/tool.sh" get account admin@target.local u_admin)" "u_admin: 1"
exits "iwm-restore preserved again: idempotent" 0 iwm-restore preserved -q --tool "$T/tool.sh"
is "... one administrator" "$(users)" 1
exits "settings --verify after all that: exit 0" 0 \
    iwm-restore settings --verify --tool "$T/tool.sh" "$S/temp/iw_migration/settings"

"$TOP/bin/iwm-restore" db -q --tool "$T/tool.sh" --only accounts "$TMP/db" >/dev/null 2>"$TMP/db2.err"
ok "a second import warns again (the administrator is back)" grep -q "admin@target.local" "$TMP/db2.err"
"$TOP/bin/iwm-restore" db -q --tool "$T/tool.sh" --only accounts "$TMP/db" >/dev/null 2>"$TMP/db3.err"
ok "no warning when the target holds nothing the source lacks" test ! -s "$TMP/db3.err"
rm -f "$T/temp/iwm-target/preserved.db"
exits "iwm-restore preserved without saved values: exit 66" 66 iwm-restore preserved --tool "$T/tool.sh"
done_testing
