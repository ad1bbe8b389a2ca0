#!/bin/sh
# A Windows-style source (paths C:\Program Files\IceWarp\..., an extern on
# E:\) whose disks are mounted on this Linux host, through PATH_MAP: the
# driver's logs land in the mapped folders, and the first phase copies
# every mailbox (the extern to its default place) to a Linux target, and
# finalize exports the SQLite databases named by Windows paths through
# iwm-dbexport --path-map.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"

drv_setup --windows || { echo "Bail out! setup failed"; exit 1; }
exits "without PATH_MAP the Windows paths cannot be used" 69 iwm_ copy
printf 'PATH_MAP=C:\\Program Files\\IceWarp\\=%s/\nPATH_MAP="E:\\=%s/drive-e/"\n' \
    "$SRC" "$SRC" >>"$TMP/iwm.conf"
ok "connect" iwm_ connect
ok "deps reads the mapped config" iwm_ deps
ok "copy" iwm_ copy
ok "the log is in the mapped log folder" test -s "$SRC/logs/migration/mig$(date +%Y%d%m).log"
ok "and in the mapped temp folder" test -s "$SRC/temp/mig$(date +%Y%d%m).log"
ok "a mailbox copied" same_tree "$SRC/mail/dom1.example/user1" "$TGT/mail/dom1.example/user1"
ext=$(find "$SRC/drive-e" -mindepth 2 -maxdepth 2 -type d | head -n 1)
ok "the extern on E:\\ landed in its default place" \
    same_tree "$ext" "$TGT/mail/dom1.example/$(basename "$ext")"
printf 'From: a@b\r\n\r\nnew\r\n' >"$ext/inbox/209901010000000001.imap"
ok "sync" iwm_ sync
ok "the new message in the extern is copied" \
    test -f "$TGT/mail/dom1.example/$(basename "$ext")/inbox/209901010000000001.imap"
ok "verify" iwm_ verify

# The second phase: the databases are SQLite files named by Windows paths.
mkdir -p "$TMP/nomap"
iwm-dbexport -q --tool "$SRC/tool.sh" --only accounts -o "$TMP/nomap" \
    2>"$TMP/nomap.err"
is "iwm-dbexport without --path-map: the Windows file is unavailable" "$?" 69
ok "and it says to map it" grep -q -- "accounts: .*Windows path: map it .*--path-map" "$TMP/nomap.err"
ok "iwm-dbexport --path-map reads them" \
    iwm-dbexport -q --tool "$SRC/tool.sh" --only accounts -o "$TMP/mapped" \
    --path-map "C:\\Program Files\\IceWarp\\=$SRC/"
ok "the accounts carrier" test -s "$TMP/mapped/accounts.db"
ok "finalize" iwm_ finalize
ok "the carriers in the mapped temp folder" test -s "$SRC/temp/iw_migration/db/accounts.db"
ok "verify after finalize: tables and accounts equal" iwm_ verify
ok "verify compared tables" said "tables equal, 0 differ"
ok "the source's accounts are on the target" sh -c \
    '"$1/tool.sh" export account "*@dom1.example" u_type | sort >"$3/a.s";
     "$2/tool.sh" export account "*@dom1.example" u_type | sort >"$3/a.t"; cmp "$3/a.s" "$3/a.t"' \
    - "$SRC" "$TGT" "$TMP"
done_testing
