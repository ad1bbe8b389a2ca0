#!/bin/sh
# 0102-iwsim-target-db.t: `iwsim create --target --mariadb SOCKET` gives a
# target whose databases live in MariaDB (the source's in SQLite): its
# connection strings name the MariaDB databases, which hold the tables.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"
db_start

S=$TMP/src
T=$TMP/tgt
iwsim create "$S" --domains 1 --users 1 --folders 0 --messages 1
ok "create --target --mariadb" iwsim create "$T" --target --mariadb "$SOCK" --mariadb-port "$PORT" --messages 1
exits "--mariadb-port alone: usage" 64 iwsim create "$TMP/x" --target --mariadb-port "$PORT"
val() {
	"$1/tool.sh" get system "$2" | sed 's/^[^:]*: //'
}
for pair in C_GW_ConnectionString:groupware C_AS_Challenge_ConnectionString:antispam \
	C_System_Storage_Accounts_ODBCConnString:accounts \
	C_Accounts_Global_Accounts_DirectoryCacheConnectionString:dircache C_ActiveSync_DBConnection:eas; do
	v=${pair%%:*}
	n=${pair#*:}
	is "$v: MariaDB on the target" "$(val "$T" "$v")" "iwt_$n;iwm;iwmpass;127.0.0.1:$PORT;3;2"
	ok "... SQLite on the source" sh -c 'case $1 in *";;;;7;3") exit 0 ;; esac; exit 1' - "$(val "$S" "$v")"
done
# The 6-field parse of M/iw_onprem_backup.sh: db;user;...
is "the public scripts' parse gives the database name" \
	"$("$T/tool.sh" get system c_gw_connectionstring | perl -pe 's|^c_gw_connectionstring: (.*);(.*);.*;.*;.*;.*$|\1 \2|')" \
	"iwt_groupware iwm"
is "groupware tables in MariaDB" "$(my -N -e 'SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "iwt_groupware" AND table_name IN ("EventOwner", "EventGroup", "Folders", "ContactItem")')" 4
ok "no SQLite groupware file left" test ! -e "$T/calendar/groupware.db"
ok "no SQLite anti-spam file left" test ! -e "$T/spam/antispam.db"
ok "server.xml names the target's MariaDB webmail cache" \
	grep -q "<dbconn>mysql:host=127.0.0.1;port=$PORT;dbname=iwt_webcache</dbconn>" "$T/config/_webmail/server.xml"
is "the administrator account is in the MariaDB accounts table" \
	"$(my -N -e 'SELECT CONCAT(U_Alias, "@", U_Domain) FROM iwt_accounts.Users')" "admin@target.local"

# The reverse: a source in MariaDB (prefix iw_), beside the target's.
ok "a source with its databases in MariaDB" iwsim create "$TMP/ms" --domains 1 --users 1 --folders 0 --messages 1 \
	--mariadb "$SOCK"
is "... its own databases (socket as host without a port)" "$(val "$TMP/ms" C_GW_ConnectionString)" \
	"iw_groupware;iwm;iwmpass;$SOCK;3;2"
is "... its accounts answer through MariaDB" "$("$TMP/ms/tool.sh" export account 'user*@*' u_type)" "user1@dom1.example,0,"
is "... the target's are untouched" "$("$T/tool.sh" export account '*@*' u_admin)" "admin@target.local,1,"

done_testing
