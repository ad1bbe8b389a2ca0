#!/bin/sh
# What iwm writes on a server belongs to the server's user, as IceWarp
# runs as IWS_PROCESS_USER: the configuration files and folders the
# settings restore writes, the target's saved preserved values, the
# settings bundle on the source, and a SQLite database the restore makes
# all take the owner and group of the folder they are written in.  A test
# user and group are made here and removed at the end.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/settings.sh"

command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
u=iwmo$$
g=iwmp$$
test_ids "$u" "$g"
trap 'test_ids_remove; t_cleanup' EXIT

# not_owned DIR: what below DIR is not USER:GROUP.
not_owned() {
	find "$1" \( ! -user "$u" -o ! -group "$g" \) -printf '%u:%g %p\n'
}

S=$TMP/src
T=$TMP/tgt
ok "a source server" st_source "$S"
ok "a pre-configured target" st_target "$T"
# As installed: everything the server's user's.
chown -R "$u:$g" "$S" "$T"
# A domain the target lacks, so that the restore makes its folder.
mkdir -p "$S/config/newdom.example"
printf 'x@newdom.example\r\n' >"$S/config/newdom.example/list1.txt"
chown -R "$u:$g" "$S/config/newdom.example"

ok "settings backup on the source" iwm-dbexport -q --settings --tool "$S/tool.sh"
is "the bundle and its folders are the server's" \
    "$(not_owned "$S/temp")" ""
ok "settings restore on the target" \
    iwm-restore settings -q --tool "$T/tool.sh" "$S/temp/iw_migration/settings"
ok "the new domain's folder came" test -f "$T/config/newdom.example/list1.txt"
is "every configuration file and folder is the server's" \
    "$(not_owned "$T/config")" ""
ok "the preserved values were saved" test -s "$T/temp/iwm-target/preserved.db"
is "and are the server's" "$(not_owned "$T/temp")" ""

# A database the restore makes, in a folder of the server's.
sqlite3 "$TMP/s.db" 'CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);'
ok "export a database" iwm-dbexport -q --conn "$TMP/s.db;;;;7;3" \
    --out "$TMP/carrier.db" --name groupware
mkdir "$T/newdb"
chown "$u:$g" "$T/newdb"
ok "restore it into a new SQLite file" iwm-restore db -q \
    --conn "$T/newdb/groupware.db;;;;7;3" "$TMP/carrier.db"
is "the rows came" "$(sqlite3 "$T/newdb/groupware.db" 'SELECT a FROM t')" 1
is "the new database is the server's" "$(not_owned "$T/newdb")" ""
done_testing
