#!/bin/sh
# Errors say what happened: a message that prefixes an earlier one is
# not garbled (iwm_seterr formats its arguments before it overwrites
# the last error), and iwm-dbexport refuses a source that is not a
# database (an empty file, /dev/null) instead of exporting 0 tables.
. "$(dirname "$0")/../lib.sh"

plan 11

exits "connection string without a database name: exit 65" 65 \
    iwm-dbexport --conn ';user;;host;3;2' --out "$TMP/a.db"
is "the message names the field once, then the whole cause" \
    "$(cat "$TMP/.out")" \
    "iwm-dbexport: database: connection string has no database name"

exits "sqlite:/dev/null: exit 65" 65 \
    iwm-dbexport --conn sqlite:/dev/null --out "$TMP/b.db"
cp "$TMP/.out" "$TMP/err"
ok "/dev/null: says it is not a regular file" \
    grep -q '/dev/null: not a regular file' "$TMP/err"
ok "/dev/null: no carrier written" test ! -e "$TMP/b.db"

: >"$TMP/empty.db"
exits "an empty file: exit 65" 65 \
    iwm-dbexport --conn "sqlite:$TMP/empty.db" --out "$TMP/c.db"
cp "$TMP/.out" "$TMP/err"
ok "an empty file: says it has no tables" grep -q 'no tables' "$TMP/err"

sqlite3 "$TMP/one.db" 'CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(1);'
ok "a database with a table still exports" \
    iwm-dbexport --conn "sqlite:$TMP/one.db" --out "$TMP/d.db"
ok "its carrier exists" test -s "$TMP/d.db"

# Found by fuzz-conn: host=/... after unix_socket= leaked the first
# socket path (reported by LeakSanitizer in a SAN=1 build).
exits "a connection with two socket paths: exit 69 (no server)" 69 \
    iwm-dbexport --conn 'mysql:unix_socket=/nonexistent/a;host=/nonexistent/b;dbname=x' \
    --out "$TMP/e.db"
cp "$TMP/.out" "$TMP/err"
ok "and nothing leaked" sh -c "! grep -q LeakSanitizer '$TMP/err'"
