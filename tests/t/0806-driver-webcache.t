#!/bin/sh
# The webmail cache in MariaDB on both servers (the guide's MySQL to MySQL
# case): `iwm copy` carries the whole cache (step 2) and the rows added
# since (step 4), `iwm sync` the rows added after that, each imported on
# the target by its restore-db action.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/db.sh"

db_start
DRV_TARGET_OPTS="--mariadb $SOCK"
drv_setup --mariadb "$SOCK" || { echo "Bail out! setup failed"; exit 1; }
rows() { my -N -e "SELECT count(*) FROM $1.item"; }
src_rows=$(rows iw_webcache)
ok "the source's cache is in MariaDB ($src_rows rows)" test "$src_rows" -gt 0
folders() { my -N -e "SELECT account_id, name FROM $1.folder ORDER BY folder_id"; }
ok "the target's cache starts with its own folders" test "$(folders iw_webcache)" != "$(folders iwt_webcache)"
ok "connect" iwm_ connect
ok "deps" iwm_ deps
ok "copy" iwm_ copy
ok "step 2 copied the whole cache" said "whole cache copied \([0-9]+ rows\)"
is "the target's cache has every row" "$(rows iwt_webcache)" "$src_rows"
is "and the source's folders" "$(folders iwt_webcache)" "$(folders iw_webcache)"
ok "the state of the cache is kept" test -s "$TMP/mig/webcache.state"
my iw_webcache -e "INSERT INTO item (folder_id, uid, flags, size, date, subject, from_addr, to_addr, msgid)
    SELECT folder_id, uid + 100000, flags, size, date, concat('new ', subject), from_addr, to_addr, msgid
    FROM item ORDER BY item_id LIMIT 7"
ok "sync" iwm_ sync
# 7 items, and the one-row metadata table, which has no increasing key.
ok "sync carried the 7 new rows" said "webmail cache: 8 rows copied"
is "the target's cache has them" "$(rows iwt_webcache)" "$((src_rows + 7))"
is "the new rows are the source's" \
    "$(my -N -e "SELECT count(*) FROM iwt_webcache.item WHERE subject LIKE 'new %'")" 7
ok "a second sync carries none" iwm_ sync
ok "no new rows (the keyless metadata table only)" said "webmail cache: 1 rows copied"
is "and no duplicate" "$(rows iwt_webcache)" "$((src_rows + 7))"
done_testing
