#!/bin/sh
# The databases as a migration moves them: iwm-dbexport reads every
# connection string from the source server's tool, iwm-restore db from
# the target's, across engines both ways (MariaDB source to SQLite
# target, and SQLite source to MariaDB target), then --verify.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

iwsim create "$TMP/my-src" --domains 2 --users 3 --folders 0 --messages 1 >/dev/null
ok "a source server with its databases in MariaDB" \
    iwsim-db mysql "$TMP/my-src" --socket "$SOCK" --port "$PORT" --webcache-rows 500
iwsim create "$TMP/lite" --domains 1 --users 1 --folders 0 --messages 1 >/dev/null

exits "export through the source's tool" 0 iwm-dbexport -q --tool "$TMP/my-src/tool.sh" -o "$TMP/out1"
for db in groupware accounts antispam; do
	ok "... $db exported" test -s "$TMP/out1/$db.db"
done
ok "... the webmail cache from server.xml" test -s "$TMP/out1/webcache.db"
ok "no password of the source in the carrier's names" sh -c '! ls "$1" | grep -q iwmpass' - "$TMP/out1"

# Into a target whose databases are SQLite files (its own connection
# strings); the webmail cache has no SQLite home there, so not that one.
exits "restore into the SQLite target through its tool" 0 \
    iwm-restore db -q --tool "$TMP/lite/tool.sh" --only groupware,accounts,antispam "$TMP/out1"
exits "... --verify: every table matches" 0 \
    iwm-restore db -q --verify --tool "$TMP/lite/tool.sh" --only groupware,accounts,antispam "$TMP/out1"
gw=$("$TMP/lite/tool.sh" get system C_GW_ConnectionString | sed 's/^[^:]*: //; s/;.*//')
n_my=$(my -N -e 'SELECT COUNT(*) FROM iw_groupware.EventOwner')
n_lite=$(sqlite3 "$gw" 'SELECT COUNT(*) FROM EventOwner')
is "groupware rows arrived in the target's own SQLite file" "$n_lite" "$n_my"
ok "... more than none" test "$n_my" -gt 0

# The reverse: the SQLite server's databases into the MariaDB one.  Its
# spam reports use the default file (C_AS_SpamReportsDBConn empty).
ok "no spam reports database: skipped" sh -c \
    'iwm-dbexport --tool "$1" -o "$2" --only spamreports | grep -q "spamreports.*skipped"' - "$TMP/lite/tool.sh" "$TMP/out0"
sqlite3 "$TMP/lite/spam/spamreports.db" \
    'CREATE TABLE reports (id INTEGER PRIMARY KEY, owner TEXT, sent INTEGER);
     INSERT INTO reports (owner, sent) VALUES ("a@dom1.example", 1), ("b@dom1.example", 2);'
exits "export a SQLite source through its tool" 0 iwm-dbexport -q --tool "$TMP/lite/tool.sh" -o "$TMP/out2"
is "the default spam reports file was exported" \
    "$(sqlite3 "$TMP/out2/spamreports.db" 'SELECT COUNT(*) FROM reports' 2>&1)" 2
my -e 'INSERT INTO iw_antispam.Senders (SndOwner, SndEmail) VALUES ("stale@x", "stale@y")' 2>/dev/null
exits "restore into the MariaDB target through its tool" 0 \
    iwm-restore db -q --tool "$TMP/my-src/tool.sh" --only groupware,accounts,antispam "$TMP/out2"
exits "... --verify" 0 iwm-restore db -q --verify --tool "$TMP/my-src/tool.sh" --only groupware,accounts,antispam "$TMP/out2"
is "the target's old rows were replaced (existing tables dropped)" \
    "$(my -N -e 'SELECT COUNT(*) FROM iw_antispam.Senders WHERE SndOwner = "stale@x"')" 0
is "anti-spam rows equal the source's" \
    "$(my -N -e 'SELECT COUNT(*) FROM iw_antispam.Senders')" \
    "$(sqlite3 "$("$TMP/lite/tool.sh" get system C_AS_Challenge_ConnectionString | sed 's/^[^:]*: //; s/;.*//')" 'SELECT COUNT(*) FROM Senders')"
my -e 'DELETE FROM iw_groupware.EventOwner LIMIT 1'
exits "--verify finds a changed table: exit 1" 1 \
    iwm-restore db -q --verify --tool "$TMP/my-src/tool.sh" --only groupware "$TMP/out2"
exits "iwm-dbexport --help: exit 0" 0 iwm-dbexport --help
exits "iwm-restore --help: exit 0" 0 iwm-restore --help
done_testing
