#!/bin/sh
# iwm domain across engines, both ways: a source in SQLite into a target
# in MariaDB, then a source in MariaDB (with a webmail cache database)
# into a target in SQLite.  Every account, remote account, mail file,
# groupware item and Senders row of dom3.example on the target and
# equal; nothing of the other domains changed; reruns harmless.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/domain.sh"
. "$TOP/tests/db.sh"
db_start

# move NAME: the whole move, checked.
move() {
	whole "$SRC" >"$TMP/src.before"
	whole "$TGT" >"$TMP/tgt.before"
	ok "$1: plan" iwm_ domain "$D" plan
	ok "$1: prepare" iwm_ domain "$D" prepare
	"$SRC/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.src"
	"$TGT/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.tgt"
	ok "$1: every account on the target" cmp "$TMP/acc.src" "$TMP/acc.tgt"
	is "$1: the remote account, disabled" \
	    "$("$TGT/tool.sh" export remoteaccount ra9 ra_owner ra_enabled)" "ra9,user2@$D,0,"
	ok "$1: copy" iwm_ domain "$D" copy
	ok "$1: mail equal" same_tree "$SRC/mail/$D" "$TGT/mail/$D"
	ok "$1: cutover" iwm_ domain "$D" cutover
	rows_equal "$1: "
	ok "$1: cutover again" iwm_ domain "$D" cutover
	gw_of "$TGT" "o.OWN_Email LIKE '%@$D'" >"$TMP/gw.tgt2"
	ok "$1: no duplicates" cmp "$TMP/gw.src" "$TMP/gw.tgt2"
	ok "$1: finish" iwm_ domain "$D" finish
	is "$1: target accounts unblocked" \
	    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',0,$')" 0
	whole "$SRC" >"$TMP/src.after"
	whole "$TGT" >"$TMP/tgt.after"
	diff "$TMP/tgt.before" "$TMP/tgt.after" | head -n 5 | sed 's/^/# /'
	ok "$1: the source's other domains unchanged" cmp "$TMP/src.before" "$TMP/src.after"
	ok "$1: the target's other domains unchanged" cmp "$TMP/tgt.before" "$TMP/tgt.after"
}

dom_setup -- --mariadb "$SOCK" --mariadb-port "$PORT" ||
    { echo "Bail out! setup failed"; exit 1; }
ok "the target's groupware is in MariaDB" \
    sh -c '"$1/tool.sh" get system C_GW_ConnectionString | grep -q "iwt_groupware;"' - "$TGT"
move "SQLite to MariaDB"

# The other way round.
serve_stop
rm -rf "$TMP/src" "$TMP/tgt" "$TMP/mig" "$TMP/iwm.conf" "$TMP/cert" "$TMP/users"
dom_setup --mariadb "$SOCK" --mariadb-port "$PORT" ||
    { echo "Bail out! setup failed"; exit 1; }
wc=$(sed -n 's|.*<dbconn>mysql:.*dbname=\([^<]*\)</dbconn>.*|\1|p' "$SRC/config/_webmail/server.xml")
ok "the source's webmail cache is in MariaDB" test -n "$wc"
move "MariaDB to SQLite"
ok "the webmail cache rows were exported" \
    grep -q "^webcache	folder	[1-9][0-9]* rows" "$TMP/mig/domain/$D/run/rows.out"
ok "and skipped on a target without a cache database" \
    grep -q "no webmail cache database: skipped" "$TMP/mig/domain/$D/run/target-rows.out"

# MariaDB on both sides: the webmail cache rows move too.
serve_stop
rm -rf "$TMP/src" "$TMP/tgt" "$TMP/mig" "$TMP/iwm.conf" "$TMP/cert" "$TMP/users"
dom_setup --mariadb "$SOCK" --mariadb-port "$PORT" --db-prefix iws_ -- \
    --mariadb "$SOCK" --mariadb-port "$PORT" ||
    { echo "Bail out! setup failed"; exit 1; }
wcs=$(sed -n 's|.*<dbconn>mysql:.*dbname=\([^<]*\)</dbconn>.*|\1|p' "$SRC/config/_webmail/server.xml")
wct=$(sed -n 's|.*<dbconn>mysql:.*dbname=\([^<]*\)</dbconn>.*|\1|p' "$TGT/config/_webmail/server.xml")
ok "two webmail cache databases" sh -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]' - "$wcs" "$wct"
wc_rows() {
	my "$1" -N -B -e "SELECT f.account_id, f.name, f.uid_validity, i.uid, i.flags, i.subject, i.msgid
	    FROM folder f LEFT JOIN item i ON i.folder_id = f.folder_id WHERE $2" | LC_ALL=C sort
}
wc_rows "$wct" "f.account_id NOT LIKE '%@$D'" >"$TMP/wc.other.before"
move "MariaDB to MariaDB"
wc_rows "$wcs" "f.account_id LIKE '%@$D'" >"$TMP/wc.src"
wc_rows "$wct" "f.account_id LIKE '%@$D'" >"$TMP/wc.tgt"
ok "webmail cache rows of $D present" test "$(wc -l <"$TMP/wc.src")" -ge 9
ok "every webmail cache row of $D on the target, equal" cmp "$TMP/wc.src" "$TMP/wc.tgt"
my "$wct" -N -B -e "SELECT path FROM folder WHERE account_id LIKE '%@$D'" >"$TMP/wc.paths"
ok "cache folder paths present" grep -q "/$D/" "$TMP/wc.paths"
ok "no source path in the target's cache rows" sh -c '! grep -qF "$1/" "$2"' - "$SRC" "$TMP/wc.paths"
ok "they name the target's mailboxes" sh -c '! grep -vqF "$1/mail/$2/" "$3"' - "$TGT" "$D" "$TMP/wc.paths"
wc_rows "$wct" "f.account_id NOT LIKE '%@$D'" >"$TMP/wc.other.after"
ok "the target's other cache rows unchanged" cmp "$TMP/wc.other.before" "$TMP/wc.other.after"
done_testing
