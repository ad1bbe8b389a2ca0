# tests/db.sh: shared by the database tests (tests/t/05NN-*.t), sourced
# after lib.sh.  db_start runs a private mariadbd in $TMP/my (stopped at
# exit); my runs the mariadb client against it as root.

db_start() {
	if ! [ -x /usr/sbin/mariadbd ] && ! command -v mariadbd >/dev/null 2>&1
	then
		skip_all "mariadbd not installed"
	fi
	command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
	t_on_exit "\"$TOP/scripts/mariadb-test-server\" stop \"$TMP/my\""
	if ! "$TOP/scripts/mariadb-test-server" start "$TMP/my" >/dev/null
	then
		echo "Bail out! cannot start mariadbd"
		sed 's/^/# /' "$TMP/my/log" 2>/dev/null
		exit 1
	fi
	SOCK=$TMP/my/sock
	PORT=$(cat "$TMP/my/port")
	export SOCK PORT
}

my() {
	mariadb --defaults-file="$TMP/my/my.cnf" "$@"
}

# The 256 byte values, as hex.
allbytes_hex() {
	i=0
	while [ $i -lt 256 ]; do
		printf '%02X' $i
		i=$((i + 1))
	done
}

# SQLite table rows in a stable text form (hex for every value).
sqlite_rows() {
	sqlite3 "$1" "SELECT * FROM \"$2\"" -cmd '.mode quote' | sort
}
