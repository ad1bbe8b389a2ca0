#!/bin/sh
# A restore killed (SIGKILL) at five points, each on a fresh target, then
# run again: it converges (--verify exit 0) and the target's preserved
# values survive, right after the kill and after the rerun.  The kill
# comes from a wrapper tool that runs the real one, then kills its
# caller at its Nth call.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/settings.sh"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"

S=$TMP/src
ok "a source server" st_source "$S"
exits "backup" 0 iwm-dbexport --settings -q --tool "$S/tool.sh" -o "$TMP/bundle"

# wrapper TARGET: counts calls in TARGET/.calls, kills its caller at the
# call number in TARGET/.killat (0: never).
wrapper() {
	cat >"$1/killer.sh" <<EOF2
#!/bin/sh
n=\$(cat "$1/.calls" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >"$1/.calls"
"$1/tool.sh" "\$@"
rc=\$?
[ "\$n" -eq "\$(cat "$1/.killat")" ] && kill -9 "\$PPID"
exit "\$rc"
EOF2
	chmod +x "$1/killer.sh"
}

snapshot() {
	while read -r n; do printf '%s=%s\n' "$n" "$(st_val "$1/tool.sh" "$n")"; done <"$TMP/pvars"
	"$1/tool.sh" export account admin@target.local u_backup
	"$1/tool.sh" export domain target.local d_backup
	cat "$1/config/_webmail/server.xml"
}

# How many tool calls a whole restore makes.
ok "a target to count the calls on" st_target "$TMP/count"
wrapper "$TMP/count"
echo 0 >"$TMP/count/.killat"
exits "a whole restore through the wrapper" 0 iwm-restore settings -q --tool "$TMP/count/killer.sh" "$TMP/bundle"
K=$(cat "$TMP/count/.calls")
ok "... makes enough calls to kill it in five places ($K)" test "$K" -ge 10
st_pvars "$TMP/count/tool.sh" >"$TMP/pvars"

for at in 1 3 $((K / 3)) $((2 * K / 3)) $((K - 1)); do
	T=$TMP/t$at
	st_target "$T" || echo "Bail out! cannot make a target"
	wrapper "$T"
	echo "$at" >"$T/.killat"
	snapshot "$T" >"$TMP/before"
	iwm-restore settings -q --tool "$T/killer.sh" "$TMP/bundle" >/dev/null 2>&1
	is "killed at call $at of $K: by SIGKILL" $? 137
	snapshot "$T" >"$TMP/killed"
	ok "... the preserved values intact right after the kill" cmp "$TMP/before" "$TMP/killed"
	exits "... rerun: exit 0" 0 iwm-restore settings -q --tool "$T/tool.sh" "$TMP/bundle"
	snapshot "$T" >"$TMP/after"
	ok "... the preserved values are the target's" cmp "$TMP/before" "$TMP/after"
	exits "... --verify: converged" 0 iwm-restore settings --verify --tool "$T/tool.sh" "$TMP/bundle"
done
find "$TMP"/t*/temp/iwm-target -type f ! -name preserved.db >"$TMP/left"
ok "after the reruns no temporary or import file is left" test ! -s "$TMP/left"
done_testing
