#!/bin/sh
# Cross-platform: path separators in the columns of lib/data/path-columns
# are converted when source and target platforms differ.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

S=$TMP/gw.db
sqlite3 "$S" "
CREATE TABLE Folders(FDR_ID INTEGER PRIMARY KEY, FDR_Path TEXT, FDR_Name TEXT);
INSERT INTO Folders VALUES(1, 'C:\\Program Files\\IceWarp\\mail\\dom\\u1\\', 'a\\b');
INSERT INTO Folders VALUES(2, NULL, NULL);
INSERT INTO Folders VALUES(3, 'relative\\inbox', 'x');"

ok "export from a Windows source" iwm-dbexport -q --platform windows \
    --conn "$S;;;;7;3" --out "$TMP/w.db" --name groupware
is "the carrier keeps the source's paths" "$(sqlite3 "$TMP/w.db" \
    'SELECT FDR_Path FROM Folders WHERE FDR_ID=3')" 'relative\inbox'
ok "import on Linux (SQLite)" iwm-restore db -q --conn "$TMP/l.db;;;;7;3" \
    "$TMP/w.db"
is "path column converted" "$(sqlite3 "$TMP/l.db" \
    'SELECT FDR_Path FROM Folders ORDER BY FDR_ID')" \
    'C:/Program Files/IceWarp/mail/dom/u1/

relative/inbox'
is "other columns untouched" "$(sqlite3 "$TMP/l.db" \
    'SELECT FDR_Name FROM Folders WHERE FDR_ID=1')" 'a\b'
ok "verify applies the same conversion" iwm-restore db --verify \
    --conn "$TMP/l.db;;;;7;3" "$TMP/w.db"
ok "import on Linux (MariaDB)" iwm-restore db -q --conn "gw;root;;$SOCK;3;2" \
    "$TMP/w.db"
is "MariaDB: path column converted" "$(my -N gw -e \
    'SELECT FDR_Path FROM Folders WHERE FDR_ID=3')" 'relative/inbox'
ok "verify (MariaDB)" iwm-restore db --verify --conn "gw;root;;$SOCK;3;2" \
    "$TMP/w.db"
exits "verify without conversion sees the difference" 1 iwm-restore db \
    --verify --platform windows --conn "gw;root;;$SOCK;3;2" "$TMP/w.db"

# The reverse: Linux source, Windows target.
ok "export from Linux" iwm-dbexport -q --conn "$TMP/l.db;;;;7;3" \
    --out "$TMP/u.db" --name groupware
ok "import for Windows" iwm-restore db -q --platform windows \
    --conn "$TMP/w2.db;;;;7;3" "$TMP/u.db"
is "separators back to '\\'" "$(sqlite3 "$TMP/w2.db" \
    'SELECT FDR_Path FROM Folders WHERE FDR_ID=3')" 'relative\inbox'

# Same platform: nothing converted.
ok "Windows to Windows" iwm-restore db -q --platform windows \
    --conn "$TMP/ww.db;;;;7;3" "$TMP/w.db"
is "... keeps the paths" "$(sqlite3 "$TMP/ww.db" \
    'SELECT FDR_Path FROM Folders WHERE FDR_ID=3')" 'relative\inbox'

# The column list is data: an administrator can extend it.
mkdir "$TMP/data"
printf '# test\n*\tFolders\tFDR_Name\n' >"$TMP/data/path-columns"
ok "import with a custom column list" env IWM_DATADIR="$TMP/data" \
    iwm-restore db -q --conn "$TMP/c.db;;;;7;3" "$TMP/w.db"
# shellcheck disable=SC1003 # a literal backslash before the quote
is "... converts that column only" "$(sqlite3 "$TMP/c.db" \
    'SELECT FDR_Name, FDR_Path FROM Folders WHERE FDR_ID=1')" \
    'a/b|C:\Program Files\IceWarp\mail\dom\u1\'
printf 'onlytwo fields\n' >"$TMP/data/path-columns"
fails "a malformed column list is an error" env IWM_DATADIR="$TMP/data" \
    iwm-restore db -q --conn "$TMP/c2.db;;;;7;3" "$TMP/w.db"

done_testing
