#!/bin/sh
# Database errors: each names the database, exits >= 64, and never shows
# a password.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
db_start

sqlite3 "$TMP/ok.db" "CREATE TABLE t(a); INSERT INTO t VALUES(1);"
err() {
	# err STATUS PATTERN COMMAND...: exits STATUS, stderr matches PATTERN
	e_want=$1
	e_pat=$2
	shift 2
	"$@" >/dev/null 2>"$TMP/err"
	e_got=$?
	if [ "$e_got" -ne "$e_want" ]; then
		echo "exit $e_got, expected $e_want:"
		cat "$TMP/err"
		return 1
	fi
	grep -q -- "$e_pat" "$TMP/err" || { cat "$TMP/err"; return 1; }
	! grep -q 's3cr3t' "$TMP/err"
}

ok "unsupported engine (syntax code)" err 65 \
    "groupware: database engine.*not supported.*convert it to MySQL" \
    iwm-dbexport --conn 'gw;sa;s3cr3t;mssql.example;5;1' \
    --out "$TMP/x.db" --name groupware
ok "unsupported engine (PDO form)" err 65 "eas: database engine mssql" \
    iwm-dbexport --conn 'mssql:host=h;dbname=d' --out "$TMP/x.db" \
    --name eas
ok "unreachable server" err 69 "antispam: cannot connect to mysql iwm@127.0.0.1:1/as" \
    iwm-dbexport --conn 'as;iwm;s3cr3t;127.0.0.1:1;3;2' --out "$TMP/x.db" \
    --name antispam
ok "wrong credentials" err 77 "accounts: cannot connect.*Access denied" \
    iwm-dbexport --conn "mysql;iwm;s3cr3t;127.0.0.1:$PORT;3;2" \
    --out "$TMP/x.db" --name accounts
ok "unknown database" err 69 "dircache: .*Unknown database" \
    iwm-dbexport --conn "nosuch;iwm;iwmpass;127.0.0.1:$PORT;3;2" \
    --out "$TMP/x.db" --name dircache
ok "missing SQLite file" err 69 "groupware: $TMP/none.db: No such file" \
    iwm-dbexport --conn "$TMP/none.db;;;;7;3" --out "$TMP/x.db" \
    --name groupware
echo "not a database at all, just some text to fill a page" >"$TMP/junk.db"
ok "not a SQLite file" err 65 "groupware: .*not a SQLite database" \
    iwm-dbexport --conn "$TMP/junk.db;;;;7;3" --out "$TMP/x.db" \
    --name groupware
ok "nothing left behind on failure" test ! -e "$TMP/x.db" -a \
    ! -e "$TMP/x.db.part"
ok "output directory missing" err 74 "$TMP/no/dir/x.db" \
    iwm-dbexport --conn "$TMP/ok.db;;;;7;3" --out "$TMP/no/dir/x.db"
exits "usage: --conn without --out" 64 iwm-dbexport --conn "$TMP/ok.db;;;;7;3"
exits "usage: unknown --only name" 64 iwm-dbexport --only nosuch -o "$TMP/o"
exits "usage: iwm-restore without a part" 64 iwm-restore
exits "usage: iwm-restore db without a file" 64 iwm-restore db --conn x

# The password may come from a file or the environment, never argv.
printf 'mysql;iwm;iwmpass;127.0.0.1:%s;3;2\n' "$PORT" >"$TMP/conn"
ok "--conn-file" iwm-dbexport -q --conn-file "$TMP/conn" --out "$TMP/m.db"
ok "IWM_DB_PASSWORD fills an empty password" env IWM_DB_PASSWORD=iwmpass \
    iwm-dbexport -q --conn "mysql;iwm;;127.0.0.1:$PORT;3;2" --out "$TMP/m2.db"

# Restore errors.
ok "restore: missing file" err 69 "$TMP/none.db" \
    iwm-restore db --conn "$TMP/t.db;;;;7;3" "$TMP/none.db"
ok "restore: not an export" err 65 "not an iwm database export" \
    iwm-restore db --conn "$TMP/t.db;;;;7;3" "$TMP/ok.db"
iwm-dbexport -q --conn "$TMP/ok.db;;;;7;3" --out "$TMP/c.db" --name groupware \
    >/dev/null
ok "restore: unreachable target" err 69 "groupware: cannot connect" \
    iwm-restore db --conn 'gw;iwm;s3cr3t;127.0.0.1:1;3;2' "$TMP/c.db"
ok "restore: wrong credentials" err 77 "groupware: cannot connect" \
    iwm-restore db --conn "gw;iwm;s3cr3t;127.0.0.1:$PORT;3;2" "$TMP/c.db"
ok "restore: unsupported target engine" err 65 "not supported" \
    iwm-restore db --conn 'gw;sa;s3cr3t;h;5;1' "$TMP/c.db"
my -e 'CREATE DATABASE empty'
exits "verify: missing target table is a difference" 1 iwm-restore db \
    --verify --conn "empty;root;;$SOCK;3;2" "$TMP/c.db"

# Through the tool: one bad database does not stop the others.
if iwsim create "$TMP/sim" >/dev/null 2>&1; then
	"$TMP/sim/tool.sh" set system C_AS_Challenge_ConnectionString \
	    'spam;sa;s3cr3t;mssql;5;1'
	err 65 "antispam: database engine" iwm-dbexport --tool "$TMP/sim/tool.sh" \
	    -o "$TMP/out" >"$TMP/sim.out" 2>&1
	ok "tool: the bad database is named, exit 65" test $? -eq 0
	ok "tool: the others are exported" test -s "$TMP/out/groupware.db" \
	    -a -s "$TMP/out/accounts.db" -a ! -e "$TMP/out/antispam.db"
	ok "tool: no password in any message" sh -c \
	    "! grep -q s3cr3t '$TMP/err' '$TMP/sim.out'"
fi

done_testing
