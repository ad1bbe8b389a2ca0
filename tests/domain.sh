# tests/domain.sh: a source and a populated target for `iwm domain`
# (sourced after tests/lib.sh, tests/serve.sh and tests/driver.sh).
#
# dom_setup [SOURCE OPTIONS] -- [TARGET OPTIONS]: $SRC with dom1..dom3
# (dom3.example moves; a remote account ra9 owned by user2@dom3), $TGT a
# pre-configured target that already hosts dom1, dom2 (its own) and
# target.local, an agent on the target, $TMP/iwm.conf.  D=dom3.example.

dom_setup() {
	SRC=$TMP/src
	TGT=$TMP/tgt
	D=dom3.example
	export SRC TGT D
	ds_src='' ds_tgt='' ds_side=src
	for ds_a in "$@"; do
		if [ "$ds_a" = -- ]; then ds_side=tgt; continue; fi
		if [ "$ds_side" = src ]; then
			ds_src="$ds_src $ds_a"
		else
			ds_tgt="$ds_tgt $ds_a"
		fi
	done
	# shellcheck disable=SC2086 # option lists
	iwsim create "$SRC" --seed 7 --domains 3 --users 3 --folders 1 \
	    --messages 3 --archivists 1 $ds_src >/dev/null || return 1
	# shellcheck disable=SC2086
	iwsim create "$TGT" --target --seed 99 --domains 2 --users 4 \
	    --folders 1 --messages 2 $ds_tgt >/dev/null || return 1
	"$SRC/tool.sh" create remoteaccount ra9 ra_owner user2@$D \
	    ra_server pop.example.net ra_username u2 ra_enabled 1 || return 1
	# A system content filter and a DKIM key that name the domain.
	printf '1\r\nsel2026\r\n%s\r\n0\r\nMIIBOgIBAAJBAKj34\r\n' "$D" \
	    >"$SRC/config/$D/domainkey.dat"
	sed -i "s|</CONTENTFILTER>|<FILTER><ACTIVE>1</ACTIVE><TITLE>from $D</TITLE><CONDITION><TYPE>from</TYPE><VALUE>*@$D</VALUE></CONDITION><ACCEPT/></FILTER></CONTENTFILTER>|" \
	    "$SRC/config/content.xml"
	drv_init
}

# q SERVER DB SQL: rows of a query on a server's database (SQLite file
# or MariaDB, from its connection string), tab-separated, sorted.
q() {
	q_conn=$("$1/tool.sh" get system "$2" | sed -n 's/^[^:]*: //p')
	case $q_conn in
	*';;;;7;3') sqlite3 -separator '	' "${q_conn%%;*}" "$3" ;;
	*) my "${q_conn%%;*}" -N -B -e "$3" |
	    sed 's/^NULL	/	/; :a; s/	NULL	/		/; ta; s/	NULL$/	/' ;;
	esac | LC_ALL=C sort
}

GW=C_GW_ConnectionString
AS=C_AS_Challenge_ConnectionString
# The groupware of owners matching LIKE pattern $1, without keys.
gw_rows() {
	cat <<EOSQL
SELECT 'O', o.OWN_Email, g.GrpTitle, g.GrpDailyEventsEmail FROM EventOwner o
  JOIN EventGroup g ON g.GRPOWN_ID = o.OWN_ID WHERE $1;
SELECT 'F', o.OWN_Email, f.FDRType, f.FdrName FROM EventOwner o
  JOIN EventGroup g ON g.GRPOWN_ID = o.OWN_ID
  JOIN Folders f ON f.FDRGRP_ID = g.GRP_ID WHERE $1;
SELECT 'I', o.OWN_Email, COALESCE(f.FdrName, i.ItmFolder), i.ItmClassName,
  i.ItmTitle, i.ItmEmail, COALESCE(l.LctType, ''), COALESCE(l.LctEmail, '') FROM EventOwner o
  JOIN EventGroup g ON g.GRPOWN_ID = o.OWN_ID
  JOIN ContactItem i ON i.ITMGRP_ID = g.GRP_ID
  LEFT JOIN Folders f ON CAST(f.FDR_ID AS CHAR) = i.ItmFolder
  LEFT JOIN ContactLocation l ON l.LCTITM_ID = i.ITM_ID WHERE $1;
EOSQL
}

gw_of() {
	q "$1" "$GW" "$(gw_rows "$2")"
}

snd_of() {
	q "$1" "$AS" "SELECT SndOwner, SndEmail, SndType, SndDate FROM Senders WHERE $2"
}

# whole SERVER: everything but domain $D, to compare before and after:
# files (name, size, mtime, sum), accounts and their variables,
# groupware and Senders rows with their keys.
whole() {
	(cd "$1" && find . -path ./.iwsim -prune -o -path ./logs -prune -o \
	    -path ./temp -prune -o -path "*/$D" -prune -o \
	    -path "*/$D/*" -prune -o -type f ! -name "*$D*" \
	    ! -name content.xml ! -name accounts.db ! -name groupware.db \
	    ! -name antispam.db ! -name 'webcache*' ! -name '*.pid' \
	    -printf '%p %s %T@\n' | LC_ALL=C sort)
	"$1/tool.sh" export account '*@*' u_backup u_accountdisabled |
	    grep -v "@$D," | LC_ALL=C sort
	"$1/tool.sh" export domain '*' d_backup | grep -v "^$D," | LC_ALL=C sort
	q "$1" "$GW" "SELECT * FROM EventOwner WHERE OWN_Email NOT LIKE '%@$D'"
	q "$1" "$GW" "SELECT g.* FROM EventGroup g JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE OWN_Email NOT LIKE '%@$D'"
	q "$1" "$GW" "SELECT f.* FROM Folders f JOIN EventGroup g ON g.GRP_ID = f.FDRGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE OWN_Email NOT LIKE '%@$D'"
	q "$1" "$GW" "SELECT i.* FROM ContactItem i JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE OWN_Email NOT LIKE '%@$D'"
	q "$1" "$GW" "SELECT l.* FROM ContactLocation l JOIN ContactItem i ON i.ITM_ID = l.LCTITM_ID JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE OWN_Email NOT LIKE '%@$D'"
	q "$1" "$AS" "SELECT * FROM Senders WHERE SndOwner NOT LIKE '%@$D'"
}

# rows_equal [PREFIX]: the groupware and Senders rows of $D on the source
# are there and equal on the target (left in $TMP/gw.src, gw.tgt,
# snd.src, snd.tgt); PREFIX starts each description.
rows_equal() {
	re_p=${1:-}
	gw_of "$SRC" "o.OWN_Email LIKE '%@$D'" >"$TMP/gw.src"
	gw_of "$TGT" "o.OWN_Email LIKE '%@$D'" >"$TMP/gw.tgt"
	ok "${re_p}groupware rows of $D present" \
	    test "$(wc -l <"$TMP/gw.src")" -ge 20
	ok "${re_p}every groupware item of $D on the target, equal" \
	    cmp "$TMP/gw.src" "$TMP/gw.tgt"
	snd_of "$SRC" "SndOwner LIKE '%@$D'" >"$TMP/snd.src"
	snd_of "$TGT" "SndOwner LIKE '%@$D'" >"$TMP/snd.tgt"
	ok "${re_p}Senders rows of $D present" test -s "$TMP/snd.src"
	ok "${re_p}every Senders row of $D on the target, equal" \
	    cmp "$TMP/snd.src" "$TMP/snd.tgt"
}
