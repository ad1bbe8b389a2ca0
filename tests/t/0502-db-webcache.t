#!/bin/sh
# Webmail cache: a full export, then two incremental ones (--since),
# each delta applied twice, into MariaDB and into SQLite: no duplicates.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

my -e "CREATE DATABASE wc"
my wc -e "
CREATE TABLE folder (folder_id int(11) NOT NULL AUTO_INCREMENT,
  account_id varchar(255) NOT NULL, name varchar(255) NOT NULL,
  uid_validity bigint(20) DEFAULT NULL, sync_update int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (folder_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE item (item_id bigint(20) NOT NULL AUTO_INCREMENT,
  folder_id int(11) NOT NULL, uid int(11) NOT NULL, flags int(11) NOT NULL,
  subject varchar(255), PRIMARY KEY (item_id), KEY fu (folder_id, uid))
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE metadata (name varchar(64) NOT NULL PRIMARY KEY, value text)
  ENGINE=InnoDB;
INSERT INTO folder (account_id, name, uid_validity, sync_update) VALUES
  ('a@x', 'INBOX', 1, 1), ('a@x', 'Sent', 2, 1), ('b@x', 'INBOX', 3, 1);
INSERT INTO item (folder_id, uid, flags, subject)
  SELECT 1 + seq % 3, seq, seq % 8, concat('subject ', seq) FROM seq_1_to_500;
INSERT INTO metadata VALUES ('version', '1');"
C="wc;iwm;iwmpass;127.0.0.1:$PORT;3;2"
ST=$TMP/webcache.state
T="wct;root;;$SOCK;3;2"
L="$TMP/wc-target.db;;;;7;3"

dump() {
	mysqldump --defaults-file="$TMP/my/my.cnf" --compact --skip-dump-date \
	    --no-create-info --order-by-primary "$1" folder item metadata
}

ok "full export with a new state" iwm-dbexport -q --conn "$C" \
    --out "$TMP/full.db" --name webcache --since "$ST"
is "state records the high-water marks" "$(grep -v '^#' "$ST")" \
    "folder	folder_id	3
item	item_id	500"
is "full export is marked full" "$(sqlite3 "$TMP/full.db" \
    "SELECT value FROM _iwm_meta WHERE key='kind'")" full
ok "import the full copy (MariaDB)" iwm-restore db -q --conn "$T" \
    "$TMP/full.db"
ok "import the full copy (SQLite)" iwm-restore db -q --conn "$L" \
    "$TMP/full.db"

# Changes on the source between passes.
my wc -e "INSERT INTO item (folder_id, uid, flags, subject)
  SELECT 1, 500 + seq, 0, concat('new ', seq) FROM seq_1_to_40;
  INSERT INTO folder (account_id, name) VALUES ('c@x', 'INBOX');
  UPDATE metadata SET value='2'"
ok "delta 1" iwm-dbexport -q --conn "$C" --out "$TMP/d1.db" \
    --name webcache --since "$ST"
is "delta 1 holds only the new rows" "$(sqlite3 "$TMP/d1.db" \
    'SELECT count(*) FROM item; SELECT count(*) FROM folder;
     SELECT mode FROM _iwm_tables ORDER BY tbl' | tr '\n' ' ')" \
    "40 1 delta delta replace "
for i in 1 2; do
	ok "apply delta 1 to MariaDB (time $i)" iwm-restore db -q \
	    --conn "$T" "$TMP/d1.db"
	ok "apply delta 1 to SQLite (time $i)" iwm-restore db -q \
	    --conn "$L" "$TMP/d1.db"
done
is "MariaDB: no duplicates after delta 1" "$(my -N wct -e \
    'SELECT count(*), count(DISTINCT item_id) FROM item')" "540	540"
is "SQLite: no duplicates after delta 1" "$(sqlite3 "$TMP/wc-target.db" \
    'SELECT count(*), count(DISTINCT item_id) FROM item')" "540|540"
ok "verify delta 1 (MariaDB)" iwm-restore db --verify --conn "$T" \
    "$TMP/d1.db"

my wc -e "INSERT INTO item (folder_id, uid, flags, subject)
  SELECT 2, 600 + seq, 1, concat('newer ', seq) FROM seq_1_to_25"
ok "delta 2" iwm-dbexport -q --conn "$C" --out "$TMP/d2.db" \
    --name webcache --since "$ST"
is "delta 2 holds only the newer rows" "$(sqlite3 "$TMP/d2.db" \
    'SELECT count(*) FROM item; SELECT count(*) FROM folder')" "25
0"
for i in 1 2; do
	ok "apply delta 2 to MariaDB (time $i)" iwm-restore db -q \
	    --conn "$T" "$TMP/d2.db"
	ok "apply delta 2 to SQLite (time $i)" iwm-restore db -q \
	    --conn "$L" "$TMP/d2.db"
done
is "MariaDB: same rows as the source" "$(dump wct)" "$(dump wc)"
is "SQLite: same item count" "$(sqlite3 "$TMP/wc-target.db" \
    'SELECT count(*), count(DISTINCT item_id) FROM item')" "565|565"
ok "verify delta 2 (SQLite)" iwm-restore db --verify --conn "$L" \
    "$TMP/d2.db"
ok "verify delta 2 (MariaDB)" iwm-restore db --verify --conn "$T" \
    "$TMP/d2.db"
ok "a third pass with no change" iwm-dbexport -q --conn "$C" \
    --out "$TMP/d3.db" --name webcache --since "$ST"
is "... carries no item" "$(sqlite3 "$TMP/d3.db" \
    'SELECT count(*) FROM item')" 0
# A damaged state is refused and left alone.
echo "item	item_id	x" >"$TMP/bad.state"
exits "bad state file: exit 65" 65 iwm-dbexport -q --conn "$C" \
    --out "$TMP/d4.db" --name webcache --since "$TMP/bad.state"

done_testing
