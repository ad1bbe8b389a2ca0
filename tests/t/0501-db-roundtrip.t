#!/bin/sh
# iwm-dbexport + iwm-restore db: SQLite->SQLite, SQLite->MySQL,
# MySQL->MySQL, MySQL->SQLite, each verified table by table (schema and
# content: NULLs, every byte value, UTF-8, large rows).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

HEX=$(allbytes_hex)
UTF='héllo ☃ 𝄞 日本語 ß'
S=$TMP/src.db

# --- a SQLite source -------------------------------------------------
sqlite3 "$S" "
CREATE TABLE EventOwner(OWN_ID INTEGER PRIMARY KEY, OWN_Email TEXT NOT NULL,
  OWN_Value REAL, OWN_Data BLOB, OWN_Num NUMERIC, OWN_Price DECIMAL(10,2),
  OWN_Note VARCHAR(40) DEFAULT 'none');
CREATE INDEX eo_email ON EventOwner(OWN_Email);
CREATE UNIQUE INDEX eo_note ON EventOwner(OWN_Note, OWN_ID);
CREATE TABLE Tags(TagOwner TEXT, TagName TEXT, Hits INTEGER,
  PRIMARY KEY(TagOwner, TagName));
CREATE TABLE Untyped(a, b);
INSERT INTO EventOwner VALUES(1, '$UTF', 1.5, X'$HEX', 12, '12.50', NULL);
INSERT INTO EventOwner VALUES(2, 'quote''s \\ back
newline	tab', NULL, NULL, NULL, NULL, 'x');
INSERT INTO EventOwner VALUES(3, hex(randomblob(600000)), 0.1,
  randomblob(2000000), 3.25, 7, 'y');
INSERT INTO EventOwner VALUES(4, '', -1e300, X'', -5, '-0.5', '');
INSERT INTO Tags VALUES('a@x', 'work', 3), ('a@x', 'home', NULL),
  ('b@x', '$UTF', 0);
INSERT INTO Untyped VALUES(1, 'one'), (2.5, X'00FF'), (NULL, NULL);
"

ok "export SQLite" iwm-dbexport -q --conn "$S;;;;7;3" --out "$TMP/s.db" \
    --name groupware
is "carrier holds the rows" "$(sqlite3 "$TMP/s.db" \
    'SELECT count(*) FROM EventOwner')" 4
is "carrier keeps every byte" "$(sqlite3 "$TMP/s.db" \
    'SELECT hex(OWN_Data) FROM EventOwner WHERE OWN_ID=1')" "$HEX"

# SQLite -> SQLite
ok "import SQLite->SQLite" iwm-restore db -q --conn "$TMP/t.db;;;;7;3" \
    "$TMP/s.db"
is "SQLite->SQLite: same schema" \
    "$(sqlite3 "$TMP/t.db" 'SELECT type,name,tbl_name,sql FROM sqlite_master
      WHERE name NOT LIKE "sqlite_%" ORDER BY name')" \
    "$(sqlite3 "$S" 'SELECT type,name,tbl_name,sql FROM sqlite_master
      WHERE name NOT LIKE "sqlite_%" ORDER BY name')"
for t in EventOwner Tags Untyped; do
	is "SQLite->SQLite: same rows in $t" "$(sqlite_rows "$TMP/t.db" $t)" \
	    "$(sqlite_rows "$S" $t)"
done
ok "verify SQLite->SQLite" iwm-restore db --verify \
    --conn "$TMP/t.db;;;;7;3" "$TMP/s.db"
is "verify: a line per table" "$(iwm-restore db --verify \
    --conn "$TMP/t.db;;;;7;3" "$TMP/s.db" | cut -f1,2 | tr '\n' ' ')" \
    "groupware.EventOwner	ok groupware.Tags	ok groupware.Untyped	ok "

# SQLite -> MySQL
ok "import SQLite->MySQL" iwm-restore db -q --conn "gw;root;;$SOCK;3;2" \
    "$TMP/s.db"
ok "verify SQLite->MySQL" iwm-restore db --verify \
    --conn "gw;root;;$SOCK;3;2" "$TMP/s.db"
is "SQLite->MySQL: every byte" "$(my -N gw -e \
    'SELECT hex(OWN_Data) FROM EventOwner WHERE OWN_ID=1')" "$HEX"
is "SQLite->MySQL: UTF-8" "$(my -N gw -e \
    'SELECT OWN_Email FROM EventOwner WHERE OWN_ID=1')" "$UTF"
is "SQLite->MySQL: large rows" "$(my -N gw -e \
    'SELECT length(OWN_Email), length(OWN_Data) FROM EventOwner
     WHERE OWN_ID=3')" "1200000	2000000"
is "SQLite->MySQL: NULLs" "$(my -N gw -e \
    'SELECT count(*) FROM EventOwner WHERE OWN_Value IS NULL
     AND OWN_Data IS NULL AND OWN_Num IS NULL')" 1
is "SQLite->MySQL: types mapped" "$(my -N gw -e "SELECT
    group_concat(DATA_TYPE ORDER BY ORDINAL_POSITION) FROM
    information_schema.COLUMNS WHERE TABLE_SCHEMA='gw' AND
    TABLE_NAME='EventOwner'")" \
    "bigint,longtext,double,longblob,longtext,decimal,varchar"
is "SQLite->MySQL: keys" "$(my -N gw -e "SELECT group_concat(DISTINCT
    concat(INDEX_NAME,':',NON_UNIQUE) ORDER BY INDEX_NAME) FROM
    information_schema.STATISTICS WHERE TABLE_SCHEMA='gw' AND
    TABLE_NAME='EventOwner'")" "eo_email:1,eo_note:0,PRIMARY:0"
my gw -e "UPDATE Tags SET Hits=4 WHERE TagName='work'"
exits "verify finds a changed row" 1 iwm-restore db --verify \
    --conn "gw;root;;$SOCK;3;2" "$TMP/s.db"
iwm-restore db --verify --conn "gw;root;;$SOCK;3;2" "$TMP/s.db" \
    >"$TMP/v.out"
is "verify names the table that differs" "$(grep -c 'Tags	differ' \
    "$TMP/v.out")" 1

# --- a MySQL source ------------------------------------------------------
my -e "CREATE DATABASE src"
my src -e "
CREATE TABLE folder (folder_id int(10) unsigned NOT NULL AUTO_INCREMENT,
  account_id varchar(255) NOT NULL, name varchar(255) CHARACTER SET utf8mb4
  COLLATE utf8mb4_bin NOT NULL, uid_validity bigint(20) unsigned DEFAULT NULL,
  sync_update int(11) NOT NULL DEFAULT 0, PRIMARY KEY (folder_id),
  UNIQUE KEY acc_name (account_id(100), name(100)), KEY sync (sync_update))
  ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4;
CREATE TABLE blobs (id bigint NOT NULL PRIMARY KEY, f float, d double,
  dec1 decimal(12,4), dt datetime, ts timestamp NULL DEFAULT NULL,
  e enum('a','b') DEFAULT 'a', bits bit(8), vb varbinary(300), lb longblob,
  lt longtext CHARACTER SET latin1, j text, KEY k_e (e, dt))
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO folder VALUES (1, 'a@x', 'INBOX', 18446744073709551615, 5),
  (2, 'a@x', '$UTF', NULL, 0), (0, 'b@x', 'Zero', 1, 1);
INSERT INTO blobs VALUES (1, 0.5, 1e-300, 12.5, '2024-02-29 23:59:59',
  '2024-03-01 10:00:00', 'b', b'10101010', UNHEX('$HEX'), UNHEX('$HEX'),
  CONVERT(UNHEX('636166E9') USING latin1), '$UTF'),
  (2, NULL, NULL, NULL, '0000-00-00 00:00:00', NULL, NULL, NULL, NULL,
  REPEAT(UNHEX('00FF27'), 700000), REPEAT('l', 1000000), NULL),
  (3, -1.25, 3.141592653589793, -0.0001, NULL, NULL, 'a', b'0', '', '', '',
  '');
"
ok "export MySQL over TCP" iwm-dbexport -q \
    --conn "src;iwm;iwmpass;127.0.0.1:$PORT;3;2" --out "$TMP/m.db" \
    --name webcache
ok "export MySQL over the socket" iwm-dbexport -q \
    --conn "src;root;;$SOCK;3;2" --out "$TMP/m2.db" --name webcache
is "original definitions travel in the file" "$(sqlite3 "$TMP/m.db" \
    "SELECT ddl FROM _iwm_tables WHERE tbl='folder'")" \
    "$(my -N src -e 'SHOW CREATE TABLE folder' | cut -f2 |
      sed 's/\\n/\n/g')"

# MySQL -> MySQL
ok "import MySQL->MySQL" iwm-restore db -q --conn "dst;root;;$SOCK;3;2" \
    "$TMP/m.db"
for t in folder blobs; do
	is "MySQL->MySQL: identical definition of $t" \
	    "$(my -N dst -e "SHOW CREATE TABLE $t")" \
	    "$(my -N src -e "SHOW CREATE TABLE $t")"
done
is "MySQL->MySQL: identical rows" \
    "$(mysqldump --defaults-file="$TMP/my/my.cnf" --skip-dump-date \
      --compact --hex-blob dst)" \
    "$(mysqldump --defaults-file="$TMP/my/my.cnf" --skip-dump-date \
      --compact --hex-blob src)"
ok "verify MySQL->MySQL" iwm-restore db --verify \
    --conn "dst;root;;$SOCK;3;2" "$TMP/m.db"

# MySQL -> SQLite
ok "import MySQL->SQLite" iwm-restore db -q --conn "$TMP/ms.db;;;;7;3" \
    "$TMP/m.db"
ok "verify MySQL->SQLite" iwm-restore db --verify \
    --conn "$TMP/ms.db;;;;7;3" "$TMP/m.db"
is "MySQL->SQLite: every byte" "$(sqlite3 "$TMP/ms.db" \
    'SELECT hex(vb) FROM blobs WHERE id=1')" "$HEX"
is "MySQL->SQLite: UTF-8 and latin1" "$(sqlite3 "$TMP/ms.db" \
    'SELECT j || lt FROM blobs WHERE id=1')" "${UTF}café"
is "MySQL->SQLite: large rows" "$(sqlite3 "$TMP/ms.db" \
    'SELECT length(lb), length(lt) FROM blobs WHERE id=2')" "2100000|1000000"
is "MySQL->SQLite: exact numbers" "$(sqlite3 "$TMP/ms.db" \
    'SELECT uid_validity FROM folder WHERE folder_id=1;
     SELECT dec1 FROM blobs WHERE id=3')" "18446744073709551615
-0.0001"
is "MySQL->SQLite: NULLs" "$(sqlite3 "$TMP/ms.db" \
    'SELECT count(*) FROM blobs WHERE f IS NULL AND ts IS NULL')" 1
is "MySQL->SQLite: key and indexes" "$(sqlite3 "$TMP/ms.db" \
    "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='folder'
     ORDER BY name" | tr '\n' ' ')" "folder_acc_name folder_sync "
# ... and back: SQLite (made from MySQL) -> MySQL
ok "export the SQLite copy" iwm-dbexport -q --conn "$TMP/ms.db;;;;7;3" \
    --out "$TMP/back.db" --name webcache
ok "import it into MySQL" iwm-restore db -q --conn "back;root;;$SOCK;3;2" \
    "$TMP/back.db"
is "MySQL->SQLite->MySQL: same rows" \
    "$(my -N back -e 'SELECT folder_id, account_id, name, uid_validity,
      sync_update FROM folder ORDER BY folder_id')" \
    "$(my -N src -e 'SELECT * FROM folder ORDER BY folder_id')"

# Rows across transactions (100000 a transaction), exactly a multiple and
# one more; a source table named like the export's own row reader.
my -e "CREATE DATABASE many"
my many -e "CREATE TABLE a (id int PRIMARY KEY, v varchar(20));
  INSERT INTO a SELECT seq, concat('v', seq) FROM seq_1_to_200000;
  CREATE TABLE b (id int);
  INSERT INTO b SELECT seq FROM seq_1_to_100001;
  CREATE TABLE iwm_rows (i int, s text);
  INSERT INTO iwm_rows VALUES (1, 'x'), (2, NULL);"
ok "export across transactions" iwm-dbexport -q \
    --conn "many;root;;$SOCK;3;2" --out "$TMP/many.db"
is "every row, in order, counted" "$(sqlite3 "$TMP/many.db" \
    "SELECT count(*), sum(id = rowid), max(v) FROM a;
     SELECT count(*), max(id) FROM b;
     SELECT group_concat(i || ifnull(s, '-')) FROM iwm_rows;
     SELECT group_concat(tbl || ':' || rows) FROM _iwm_tables")" \
    "200000|200000|v99999
100001|100001
1x,2-
a:200000,b:100001,iwm_rows:2"

done_testing
