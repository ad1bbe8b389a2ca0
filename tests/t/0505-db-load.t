#!/bin/sh
# iwm-restore db into MariaDB: the LOAD DATA encoding (escapes, NULL
# against empty and "\N" text, every byte), the atomic replace (a failed
# import leaves the old table as it was, no side table), rows the server
# rejects, and the INSERT fallback when the server refuses LOAD DATA LOCAL.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

HEX=$(allbytes_hex)
S=$TMP/esc.db
C="ld;root;;$SOCK;3;2"

sqlite3 "$S" "
CREATE TABLE Esc(id INTEGER PRIMARY KEY, t TEXT, b BLOB);
CREATE INDEX esc_t ON Esc(t);
INSERT INTO Esc VALUES (1, 'tab	in', X'$HEX');
INSERT INTO Esc VALUES (2, 'new
line' || char(13) || 'cr', X'5C4E');
INSERT INTO Esc VALUES (3, '\\N', X'00');
INSERT INTO Esc VALUES (4, 'N', X'');
INSERT INTO Esc VALUES (5, 'NULL', NULL);
INSERT INTO Esc VALUES (6, '', X'5C');
INSERT INTO Esc VALUES (7, NULL, X'0A09');
INSERT INTO Esc VALUES (8, 'ends with \\', randomblob(100000));
INSERT INTO Esc VALUES (9, 'é ☃ 𝄞', X'E25C6EC0');
"
ok "export" iwm-dbexport -q --conn "$S;;;;7;3" --out "$TMP/esc-c.db" \
    --name groupware
ok "import into MariaDB" iwm-restore db -q --conn "$C" "$TMP/esc-c.db"
ok "verify" iwm-restore db --verify --conn "$C" "$TMP/esc-c.db"
is "text and NULLs as they were" "$(my -N ld -e \
    "SELECT id, CASE WHEN t IS NULL THEN '-' ELSE hex(t) END,
     CASE WHEN b IS NULL THEN '-' ELSE hex(b) END FROM Esc
     WHERE id < 8 ORDER BY id")" "$(sqlite3 -separator '	' "$S" \
    "SELECT id, CASE WHEN t IS NULL THEN '-' ELSE hex(t) END,
     CASE WHEN b IS NULL THEN '-' ELSE hex(b) END FROM Esc
     WHERE id < 8 ORDER BY id")"
is "every byte, random bytes, UTF-8" "$(my -N ld -e \
    "SELECT hex(t), md5(b) FROM Esc WHERE id >= 8 ORDER BY id")" \
    "$(for i in 8 9; do
	printf '%s\t%s\n' "$(sqlite3 "$S" "SELECT hex(t) FROM Esc
	    WHERE id=$i")" "$(sqlite3 "$S" "SELECT writefile('$TMP/b$i',
	    b) FROM Esc WHERE id=$i" >/dev/null; md5sum <"$TMP/b$i" |
	    cut -d' ' -f1)"
    done)"
is "the key came back after the rows" "$(my -N ld -e "SELECT INDEX_NAME
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='ld' AND
    TABLE_NAME='Esc' ORDER BY INDEX_NAME" | tr '\n' ' ')" "esc_t PRIMARY "

# --- a failed import leaves the old table -------------------------------
# 'x' and 'X' differ in SQLite, not under MariaDB's utf8mb4_general_ci:
# the unique key, added after the rows, fails.
sqlite3 "$TMP/dup.db" "
CREATE TABLE Esc(id INTEGER PRIMARY KEY, t TEXT, b BLOB);
CREATE UNIQUE INDEX esc_t ON Esc(t);
INSERT INTO Esc VALUES (1, 'x', NULL), (2, 'X', NULL);"
ok "export a table MariaDB cannot key" iwm-dbexport -q \
    --conn "$TMP/dup.db;;;;7;3" --out "$TMP/dup-c.db" --name groupware
exits "its import fails" 65 iwm-restore db -q --conn "$C" "$TMP/dup-c.db"
is "the old table is whole" "$(my -N ld -e 'SELECT count(*) FROM Esc')" 9
ok "... and still verifies" iwm-restore db --verify -q --conn "$C" \
    "$TMP/esc-c.db"
is "no side table left" "$(my -N ld -e "SHOW TABLES LIKE '\\_iwm%'")" ""

# A key the server folds: LOAD DATA LOCAL would skip the second row.
sqlite3 "$TMP/pk.db" "
CREATE TABLE Esc(k TEXT PRIMARY KEY, v INTEGER);
INSERT INTO Esc VALUES ('k', 1), ('K', 2);"
ok "export a key MariaDB folds" iwm-dbexport -q \
    --conn "$TMP/pk.db;;;;7;3" --out "$TMP/pk-c.db" --name groupware
iwm-restore db -q --conn "$C" "$TMP/pk-c.db" 2>"$TMP/pk.err"
is "... exit 65" "$?" 65
is "... naming the table" "$(grep -c 'Esc: 1 rows rejected' "$TMP/pk.err")" 1
is "the old table is still whole" "$(my -N ld -e 'SELECT count(*) FROM Esc')" 9

# --- a server that refuses LOAD DATA LOCAL: INSERTs --------------------
if IWM_TEST_LOCAL_INFILE=0 "$TOP/scripts/mariadb-test-server" start \
    "$TMP/my2" >/dev/null; then
	t_on_exit "\"$TOP/scripts/mariadb-test-server\" stop \"$TMP/my2\""
	C2="ld;root;;$TMP/my2/sock;3;2"
	is "the second server refuses it" "$(mariadb \
	    --defaults-file="$TMP/my2/my.cnf" -N -e 'SELECT @@local_infile')" 0
	ok "import without LOAD DATA" iwm-restore db -q --conn "$C2" \
	    "$TMP/esc-c.db"
	ok "verify it" iwm-restore db --verify -q --conn "$C2" \
	    "$TMP/esc-c.db"
else
	ok "second mariadbd (local_infile=0) starts" false
fi

done_testing
