#!/bin/sh
# Directory service sync: --dircreds FILE (mode 0600, KEY=VALUE) puts the
# target's credentials into the synced domain's node of syncad.dat; more
# than one synced domain stops the restore before any change unless
# --ignore-multiple-sync.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/settings.sh"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
command -v xmllint >/dev/null 2>&1 || skip_all "xmllint not installed"

S=$TMP/src
T=$TMP/tgt
ok "a source with one synced domain" st_source "$S" --plant adsync:1
ok "a target" st_target "$T"
exits "backup" 0 iwm-dbexport --settings -q --tool "$S/tool.sh" -o "$TMP/b1"
printf 'server=ldap.target.example\nuser=cn=svc,dc=target\npassword=Tgt-Secret-1\n' >"$TMP/creds"
chmod 644 "$TMP/creds"
exits "credentials readable by others: exit 77" 77 \
    iwm-restore settings --dircreds "$TMP/creds" --tool "$T/tool.sh" "$TMP/b1"
ok "... before any change" test ! -e "$T/temp/iwm-target/preserved.db"
chmod 600 "$TMP/creds"
exits "restore with --dircreds" 0 \
    iwm-restore settings --dircreds "$TMP/creds" --tool "$T/tool.sh" "$TMP/b1"
cp "$TMP/.out" "$TMP/o"
ok "... the password never printed" sh -c '! grep -q Tgt-Secret "$1"' - "$TMP/o"
ok "... says which domain got them" grep -q "^dircreds	dom1.example	the target's credentials" "$TMP/o"
node() {
	xmllint --xpath "string(/DOMAINS/DOMAIN[DOMAIN='$1']/$2)" "$T/config/syncad.dat"
}
is "the synced domain has the target's server" "$(node dom1.example SERVER)" ldap.target.example
is "... user" "$(node dom1.example USERNAME)" "cn=svc,dc=target"
is "... password" "$(node dom1.example PASSWORD)" Tgt-Secret-1
is "... still active" "$(node dom1.example ACTIVE)" 1
is "another domain has none" "$(node dom2.example PASSWORD)" ""
exits "--verify with the same --dircreds: exit 0" 0 \
    iwm-restore settings --verify --dircreds "$TMP/creds" --tool "$T/tool.sh" "$TMP/b1"
exits "--verify without them: syncad.dat differs" 1 \
    iwm-restore settings --verify --tool "$T/tool.sh" "$TMP/b1"
cp "$TMP/.out" "$TMP/o"
ok "... says so" grep -q "^MISMATCH	file	syncad.dat" "$TMP/o"
printf 'colour=blue\n' >"$TMP/bad"
chmod 600 "$TMP/bad"
exits "an unknown key: exit 65" 65 \
    iwm-restore settings --dircreds "$TMP/bad" --tool "$T/tool.sh" "$TMP/b1"
exits "a missing file: exit 66" 66 \
    iwm-restore settings --dircreds "$TMP/none" --tool "$T/tool.sh" "$TMP/b1"

S2=$TMP/src2
T2=$TMP/tgt2
ok "a source with two synced domains" st_source "$S2" --plant adsync:2
ok "a fresh target" st_target "$T2"
exits "backup" 0 iwm-dbexport --settings -q --tool "$S2/tool.sh" -o "$TMP/b2"
exits "restore: two synced domains are an error (65)" 65 \
    iwm-restore settings --dircreds "$TMP/creds" --tool "$T2/tool.sh" "$TMP/b2"
cp "$TMP/.out" "$TMP/o"
ok "... naming them and the way out" grep -q "2 domains synchronize.*dom1.example, dom2.example.*--ignore-multiple-sync" "$TMP/o"
ok "... before any change" test ! -e "$T2/temp/iwm-target/preserved.db"
exits "with --ignore-multiple-sync: restored" 0 \
    iwm-restore settings --ignore-multiple-sync --dircreds "$TMP/creds" --tool "$T2/tool.sh" "$TMP/b2"
ok "... syncad.dat as on the source, no credentials set" cmp "$S2/config/syncad.dat" "$T2/config/syncad.dat"
done_testing
