#!/bin/sh
# 0104-iwsim-accounts-db.t: accounts kept in a database (storage mode 2):
# the tool reads and writes domains and accounts through the accounts
# database its connection string names, SQLite file or MariaDB, so a
# change to the Users table (M/domainmove.sh's UPDATE) or an import of
# another server's accounts database (iwm-restore db) changes what the
# tool answers, as on a real server.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"
db_start

S=$TMP/s
iwsim create "$S" --domains 2 --users 3 --folders 0 --messages 1 --no-mailboxes
adb=$("$S/tool.sh" get system c_system_storage_accounts_odbcconnstring |
	perl -pe 's|^c_system_storage_accounts_odbcconnstring: (.*);(.*);.*;.*;.*;.*$|\1|')
is "storage mode 2 (M/iwcfgexport.sh's parse)" \
	"$("$S/tool.sh" get system C_System_Storage_Accounts_StorageMode | awk '{print $2}')" 2
is "the accounts database is the SQLite file the connection string names" "$adb" "$S/config/accounts.db"
is "Users rows = the tool's accounts" "$(sqlite3 "$adb" 'SELECT COUNT(*) FROM Users')" \
	"$("$S/tool.sh" export account '*@*' | wc -l | tr -d ' ')"

# ---- SQLite: M/domainmove.sh's statements -----------------------------------------
ok "tool.sh create domain (domainmove.sh)" "$S/tool.sh" create domain moved.example
uid=$(sqlite3 "$adb" "SELECT U_ID FROM Users WHERE U_Mailbox = 'user1' AND U_Domain = 'dom1.example';")
ok "U_ID of user1@dom1.example" test -n "$uid"
sqlite3 "$adb" "UPDATE Users SET U_Domain = 'moved.example' WHERE U_ID = $uid;
	UPDATE Aliases SET A_Domain = 'moved.example' WHERE A_UserID = $uid"
is "UPDATE Users SET U_Domain: the account moved" \
	"$("$S/tool.sh" export account user1@moved.example u_name | awk -F ',' '{print $2}')" "user1 dom1.example"
exits "... and is gone from its old domain" 1 "$S/tool.sh" export account user1@dom1.example u_name
newmpath=$("$S/tool.sh" export account user1@moved.example u_mailboxpath | awk -F ',' '{print $2}' |
	sed -r "s|dom1.example|moved.example|")
ok "set account u_mailboxpath (domainmove.sh)" "$S/tool.sh" set account user1@moved.example u_mailboxpath "$newmpath"
is "... written to the Users row" "$(sqlite3 "$adb" "SELECT U_MailBoxPath FROM Users WHERE U_ID = $uid")" \
	"moved.example/user1/"
is "... and u_fullmailboxpath follows" "$("$S/tool.sh" export account user1@moved.example u_fullmailboxpath)" \
	"user1@moved.example,$S/mail/moved.example/user1/,"
sqlite3 "$adb" "UPDATE Users SET U_Name = 'Renamed in SQL', U_AccountDisabled = 2 WHERE U_Mailbox = 'user2' AND U_Domain = 'dom1.example'"
is "UPDATE Users SET U_Name, U_AccountDisabled: get answers them" \
	"$("$S/tool.sh" get account user2@dom1.example u_name u_accountdisabled)" "u_name: Renamed in SQL
u_accountdisabled: 2"
sqlite3 "$adb" "INSERT INTO Domains(D_ID, D_Name, D_Type, D_Description) VALUES(99, 'sql.example', 0, 'From SQL')"
is "a domain inserted in SQL exists for the tool" "$("$S/tool.sh" export domain sql.example d_description)" \
	"sql.example,From SQL,"
ok "... and takes accounts" "$S/tool.sh" create account new@sql.example u_name "New" u_activesync 1
is "... stored in Users and UserProperties" \
	"$(sqlite3 "$adb" "SELECT U_Name || ',' || UP_Value FROM Users JOIN UserProperties ON UP_UserID = U_ID
		WHERE U_Domain = 'sql.example' AND UP_Name = 'u_activesync'")" "New,1"
sqlite3 "$adb" "DELETE FROM Users WHERE U_Domain = 'dom2.example' AND U_Mailbox = 'user3'"
exits "DELETE FROM Users: the account is gone" 1 "$S/tool.sh" get account user3@dom2.example u_type

# ---- an accounts database replaced by another server's ----------------------------
O=$TMP/o
iwsim create "$O" --domains 1 --users 1 --folders 0 --messages 1 --no-mailboxes --seed 9
"$O/tool.sh" create domain other.example
"$O/tool.sh" create account only@other.example u_name "Only on O"
cp "$O/config/accounts.db" "$adb"
is "after the file is replaced, the tool answers the other server's accounts" \
	"$("$S/tool.sh" export account '*@other.example' u_name)" "only@other.example,Only on O,"
exits "... the replaced ones are gone" 1 "$S/tool.sh" export domain sql.example
ok "system variables answer without the accounts database" sh -c 'rm -f "$1" && "$2/tool.sh" get system C_InstallPath' - \
	"$adb" "$S"
exits "accounts do not" 1 "$S/tool.sh" export account '*@*' u_type

# ---- iwm-restore db replaces a target's accounts: its admin account is gone ----------
T=$TMP/t
iwsim create "$T" --target --no-mailboxes
exits "iwm-dbexport of the source's accounts" 0 iwm-dbexport -q --tool "$O/tool.sh" -o "$TMP/carrier" --only accounts
exits "iwm-restore db of them into the target" 0 iwm-restore db -q --tool "$T/tool.sh" --only accounts "$TMP/carrier"
is "the target's tool answers the imported accounts" "$("$T/tool.sh" export account '*@other.example' u_name)" \
	"only@other.example,Only on O,"
exits "the target's admin account went with its Users table (what iwm-restore preserved repairs)" 1 \
	"$T/tool.sh" export account admin@target.local u_admin

# ---- MariaDB -------------------------------------------------------------------------
M=$TMP/m
ok "a target with its accounts in MariaDB" iwsim create "$M" --target --no-mailboxes --mariadb "$SOCK" \
	--mariadb-port "$PORT" --db-prefix m_
ok "no SQLite accounts file" test ! -e "$M/config/accounts.db"
is "the admin account read from MariaDB" "$("$M/tool.sh" export account '*@*' u_admin u_name)" \
	"admin@target.local,1,Target administrator,"
my -e "UPDATE m_accounts.Users SET U_Name = 'Changed in MariaDB' WHERE U_Mailbox = 'admin'"
is "UPDATE Users in MariaDB shows in the tool" "$("$M/tool.sh" get account admin@target.local u_name)" \
	"u_name: Changed in MariaDB"
ok "create domain and account through the tool" sh -c '"$1/tool.sh" create domain maria.example &&
	"$1/tool.sh" create account bob@maria.example u_name Bob u_rulescontentxml "<RULES/>"' - "$M"
is "... rows in MariaDB" "$(my -N -e "SELECT CONCAT(U_Mailbox, '@', U_Domain, ' ', U_Name) FROM m_accounts.Users WHERE U_Domain = 'maria.example'")" \
	"bob@maria.example Bob"
is "... other variables in UserProperties" "$(my -N -e "SELECT UP_Value FROM m_accounts.UserProperties
	JOIN m_accounts.Users ON U_ID = UP_UserID WHERE U_Mailbox = 'bob' AND UP_Name = 'u_rulescontentxml'")" "<RULES/>"
ok "delete domain through the tool" "$M/tool.sh" delete domain maria.example
is "... its accounts left MariaDB" "$(my -N -e "SELECT COUNT(*) FROM m_accounts.Users WHERE U_Domain = 'maria.example'")" 0
my -e "INSERT INTO m_accounts.Domains(D_ID, D_Name, D_Type) VALUES(50, 'frommaria.example', 0)"
is "a domain inserted in MariaDB" "$("$M/tool.sh" export domain '*' | tr '\n' ' ')" "frommaria.example, target.local, "
ok "a round trip through u_backup on a MariaDB server" sh -c '
	b=$("$1/tool.sh" export account admin@target.local u_backup | cut -d, -f2) &&
	"$1/tool.sh" delete account admin@target.local &&
	"$1/tool.sh" create account admin@target.local u_backup "$b" &&
	test "$("$1/tool.sh" export account admin@target.local u_backup | cut -d, -f2)" = "$b"' - "$M"
my -e "DROP TABLE m_accounts.UserProperties"
exits "a broken accounts database: account commands fail" 1 "$M/tool.sh" export account '*@*' u_type
ok "... system variables still answer" "$M/tool.sh" get system C_Version

done_testing
