#!/bin/sh
# The simulator's own pre-configured target (iwsim create --target) with
# its databases in MariaDB, from a SQLite source: settings restore keeps
# what the target was given, the accounts database import removes the
# target's administrator from what its tool answers, and iwm-restore
# preserved brings it back with its domain.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
. "$TOP/tests/settings.sh"
db_start

S=$TMP/src
T=$TMP/tgt
ok "a SQLite source" st_source "$S"
ok "a target from iwsim --target, databases in MariaDB" \
    iwsim create "$T" --target --mariadb "$SOCK" --mariadb-port "$PORT" --db-prefix iwt_
ok "... its administrator" "$T/tool.sh" get account admin@target.local u_admin
st_pvars "$T/tool.sh" >"$TMP/pvars"
snap() {
	while read -r n; do printf '%s=%s\n' "$n" "$(st_val "$T/tool.sh" "$n")"; done <"$TMP/pvars"
	cat "$T/config/_webmail/server.xml"
}
snap >"$TMP/before"
"$T/tool.sh" export account admin@target.local u_backup >"$TMP/admin.before"

exits "settings backup" 0 iwm-dbexport --settings -q --tool "$S/tool.sh" -o "$TMP/bundle"
exits "settings restore" 0 iwm-restore settings -q --tool "$T/tool.sh" "$TMP/bundle"
snap >"$TMP/after"
ok "every preserved setting is the target's" cmp "$TMP/before" "$TMP/after"
st_rvars "$TMP/bundle/settings.db" >"$TMP/rvars"
# shellcheck disable=SC2046
"$S/tool.sh" get system $(cat "$TMP/rvars") | sed "s|$S/|$T/|g" >"$TMP/rv.src"
# shellcheck disable=SC2046
"$T/tool.sh" get system $(cat "$TMP/rvars") >"$TMP/rv.tgt"
ok "every other exported setting is the source's" cmp "$TMP/rv.src" "$TMP/rv.tgt"
st_objects "$S/tool.sh" >"$TMP/obj.src"
st_objects "$T/tool.sh" >"$TMP/obj.tgt"
is "domains, accounts, remote accounts equal" "$(comm -23 "$TMP/obj.src" "$TMP/obj.tgt" | wc -l | tr -d ' ')" 0
exits "--verify: exit 0" 0 iwm-restore settings --verify --tool "$T/tool.sh" "$TMP/bundle"

exits "databases export on the source" 0 iwm-dbexport -q --tool "$S/tool.sh" -o "$TMP/db"
"$TOP/bin/iwm-restore" db -q --tool "$T/tool.sh" --only accounts "$TMP/db" >/dev/null 2>"$TMP/db.err"
is "accounts database import into MariaDB: exit 0" $? 0
ok "... warned about the administrator first" grep -q "warning: .*admin@target.local" "$TMP/db.err"
fails "... the administrator is gone from what the tool answers" \
    "$T/tool.sh" get account admin@target.local u_admin
exits "iwm-restore preserved" 0 iwm-restore preserved --tool "$T/tool.sh"
is "... the administrator is back" "$("$T/tool.sh" get account admin@target.local u_admin)" "u_admin: 1"
ok "... as it was" sh -c '"$1" export account admin@target.local u_backup | cmp - "$2"' - "$T/tool.sh" "$TMP/admin.before"
ok "... in its domain" "$T/tool.sh" get domain target.local d_description
snap >"$TMP/after2"
ok "the preserved settings still the target's" cmp "$TMP/before" "$TMP/after2"
done_testing
