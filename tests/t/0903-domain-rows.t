#!/bin/sh
# iwm-dbexport --domain and iwm-restore db --merge on their own: awkward
# values (quotes, backslashes, UTF-8, binary, NULL) and every linked
# table (FolderRights, ItemAttr, Tags, Tickets) into SQLite and MariaDB
# targets whose own rows use the same keys; --dry-run changes nothing;
# a merge killed midway and rerun converges; other owners' rows keep
# their keys and values; a wrong domain or carrier is a clear error.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/db.sh"
. "$TOP/tests/domain.sh"
db_start

S=$TMP/src
iwsim create "$S" --seed 5 --domains 3 --users 4 --folders 0 --messages 1 \
    --no-mailboxes >/dev/null
GWF=$S/calendar/groupware.db
# Extra rows hanging from dom3's owners, with awkward values.
sqlite3 "$GWF" "
INSERT INTO FolderRights(FRTFDR_ID, FrtEmail, FrtRights)
  SELECT f.FDR_ID, 'user1@dom1.example', 'lr' FROM Folders f
  JOIN EventGroup g ON g.GRP_ID = f.FDRGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID
  WHERE o.OWN_Email LIKE '%@dom3.example';
INSERT INTO ItemAttr(ATRITM_ID, AtrName, AtrValue)
  SELECT i.ITM_ID, 'note', 'it''s a \\\\path\\n with \"quotes\" – ünïcödé' FROM ContactItem i
  JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID
  WHERE o.OWN_Email LIKE '%@dom3.example';
INSERT INTO ItemAttr(ATRITM_ID, AtrName, AtrValue)
  SELECT i.ITM_ID, 'bin', X'00FF27225C0A' FROM ContactItem i
  JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID
  WHERE o.OWN_Email LIKE '%@dom3.example';
INSERT INTO ItemAttr(ATRITM_ID, AtrName, AtrValue)
  SELECT i.ITM_ID, 'null', NULL FROM ContactItem i
  JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID
  WHERE o.OWN_Email LIKE '%@dom3.example';
INSERT INTO Tags(TAGOWN_ID, TagName) SELECT OWN_ID, 'red' FROM EventOwner;
INSERT INTO Tickets(TCKOWN_ID, TckValue) SELECT OWN_ID, 'tck-' || OWN_ID FROM EventOwner;"
sqlite3 "$S/spam/antispam.db" "INSERT INTO Senders(SndOwner, SndEmail, SndType, SndDate)
  VALUES ('dom3.example', 'domain-wide@bulk.example.org', 2, '2026-10-03'),
  ('USER1@DOM3.EXAMPLE', 'upper@partner.example.net', 1, NULL),
  ('user1@xdom3.example', 'not-ours@bulk.example.org', 2, NULL)"

exits "a domain the source does not have: exit 66" 66 \
    iwm-dbexport --domain nosuch.example --tool "$S/tool.sh" -o "$TMP/x"
exits "a pattern is not a domain: exit 64" 64 \
    iwm-dbexport --domain '*' --tool "$S/tool.sh" -o "$TMP/x"
ok "export the rows of dom3.example" \
    iwm-dbexport --domain dom3.example --tool "$S/tool.sh" -o "$TMP/c"
ok "one carrier" test -f "$TMP/c/rows.db"
is "Senders of the domain and its accounts, any case, not xdom3" \
    "$(sqlite3 "$TMP/c/rows.db" 'SELECT SndOwner FROM "antispam.Senders" ORDER BY 1' | tr '\n' ' ')" \
    "USER1@DOM3.EXAMPLE dom3.example user1@dom3.example user1@dom3.example user2@dom3.example user2@dom3.example "
is "only dom3's owners" \
    "$(sqlite3 "$TMP/c/rows.db" 'SELECT COUNT(*) FROM "groupware.EventOwner" WHERE OWN_Email NOT LIKE "%@dom3.example"')" 0
is "their tags and tickets only" \
    "$(sqlite3 "$TMP/c/rows.db" 'SELECT COUNT(*) FROM "groupware.Tags"') $(sqlite3 "$TMP/c/rows.db" 'SELECT COUNT(*) FROM "groupware.Tickets"')" "4 4"
exits "merge into a server without the domain: exit 66" 66 \
    iwm-restore db --merge --tool "$S/tool.sh" "$TMP/nothing.db"
printf 'junk' >"$TMP/junk.db"
exits "a file that is no carrier: exit 65" 65 \
    iwm-restore db --merge --tool "$S/tool.sh" "$TMP/junk.db"

# attrs SERVER PATTERN: the item attributes of owners LIKE PATTERN, keyless.
attrs() {
	q "$1" "$GW" "SELECT o.OWN_Email, i.ItmTitle, a.AtrName, HEX(a.AtrValue), a.AtrValue IS NULL FROM ItemAttr a
	  JOIN ContactItem i ON i.ITM_ID = a.ATRITM_ID JOIN EventGroup g ON g.GRP_ID = i.ITMGRP_ID
	  JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE o.OWN_Email LIKE '$2'"
	q "$1" "$GW" "SELECT o.OWN_Email, f.FdrName, r.FrtEmail, r.FrtRights FROM FolderRights r
	  JOIN Folders f ON f.FDR_ID = r.FRTFDR_ID JOIN EventGroup g ON g.GRP_ID = f.FDRGRP_ID
	  JOIN EventOwner o ON o.OWN_ID = g.GRPOWN_ID WHERE o.OWN_Email LIKE '$2'"
	q "$1" "$GW" "SELECT o.OWN_Email, t.TagName FROM Tags t JOIN EventOwner o ON o.OWN_ID = t.TAGOWN_ID WHERE o.OWN_Email LIKE '$2'"
	q "$1" "$GW" "SELECT o.OWN_Email, t.TckValue FROM Tickets t JOIN EventOwner o ON o.OWN_ID = t.TCKOWN_ID WHERE o.OWN_Email LIKE '$2'"
}
keyed() {
	{
	for t in EventOwner EventGroup Folders FolderRights ContactItem ContactLocation ItemAttr Tags Tickets; do
		q "$1" "$GW" "SELECT * FROM $t" | sed "s/^/$t /"
	done
	q "$1" "$AS" "SELECT * FROM Senders" | sed "s/^/Senders /"
	} | LC_ALL=C sort
}

for kind in sqlite mariadb; do
	T=$TMP/t-$kind
	if [ $kind = sqlite ]; then
		iwsim create "$T" --target --seed 11 --domains 2 --users 6 \
		    --folders 0 --messages 1 --no-mailboxes >/dev/null
	else
		iwsim create "$T" --target --seed 11 --domains 2 --users 6 \
		    --folders 0 --messages 1 --no-mailboxes --mariadb "$SOCK" \
		    --mariadb-port "$PORT" >/dev/null
	fi
	"$T/tool.sh" create domain dom3.example
	keyed "$T" >"$TMP/keyed.before"
	ok "$kind: --dry-run" iwm-restore db --merge -n --tool "$T/tool.sh" "$TMP/c"
	keyed "$T" >"$TMP/keyed.dry"
	ok "$kind: --dry-run changed nothing" cmp "$TMP/keyed.before" "$TMP/keyed.dry"
	iwm-restore db --merge --tool "$T/tool.sh" "$TMP/c" >"$TMP/merge.out" 2>&1
	is "$kind: merge" "$?" 0
	ok "$kind: the target's keys collided: fresh keys" grep -q "EventOwner	4 rows	[1-9]" "$TMP/merge.out"
	gw_of "$S" "o.OWN_Email LIKE '%@dom3.example'" >"$TMP/a"
	gw_of "$T" "o.OWN_Email LIKE '%@dom3.example'" >"$TMP/b"
	ok "$kind: groupware equal" cmp "$TMP/a" "$TMP/b"
	# A binary value in a TEXT column (SQLite's loose typing) cannot
	# survive a MariaDB text column: only compared into SQLite.
	attrs "$S" "%@dom3.example" >"$TMP/a"
	attrs "$T" "%@dom3.example" >"$TMP/b"
	if [ $kind = mariadb ]; then
		grep -v "	bin	" "$TMP/a" >"$TMP/a.t"; mv "$TMP/a.t" "$TMP/a"
		grep -v "	bin	" "$TMP/b" >"$TMP/b.t"; mv "$TMP/b.t" "$TMP/b"
	fi
	ok "$kind: attributes (quotes, backslashes, UTF-8, binary, NULL), rights, tags, tickets equal" cmp "$TMP/a" "$TMP/b"
	ok "$kind: the values were there" grep -q "	note	" "$TMP/a"
	diff "$TMP/a" "$TMP/b" | head -5 | sed 's/^/# /' 
	snd_of "$S" "LOWER(SndOwner) = 'dom3.example' OR LOWER(SndOwner) LIKE '%@dom3.example'" >"$TMP/a"
	snd_of "$T" "LOWER(SndOwner) = 'dom3.example' OR LOWER(SndOwner) LIKE '%@dom3.example'" >"$TMP/b"
	ok "$kind: Senders equal" cmp "$TMP/a" "$TMP/b"
	keyed "$T" | grep -vi "dom3.example" >"$TMP/k1"
	grep -vi "dom3.example" "$TMP/keyed.before" >"$TMP/k0"
	# Rows of other owners: same keys, same values (the domain's own
	# rows without an address are told apart by their keys below).
	for t in EventOwner EventGroup Senders; do
		grep "^$t " "$TMP/k0" >"$TMP/k0.$t"; grep "^$t " "$TMP/k1" >"$TMP/k1.$t"
		diff "$TMP/k0.$t" "$TMP/k1.$t" | head -5 | sed 's/^/# /'
	done
	ok "$kind: the other owners' rows unchanged, keys included" sh -c '
	    for t in EventOwner EventGroup Senders; do
		grep "^$t " "$1" >"$1.$t"; grep "^$t " "$2" >"$2.$t"
		cmp -s "$1.$t" "$2.$t" || exit 1
	    done' - "$TMP/k0" "$TMP/k1"
	ok "$kind: nothing of theirs removed" sh -c '[ "$(LC_ALL=C comm -23 "$1" "$2" | wc -l)" -eq 0 ]' - \
	    "$TMP/keyed.before" "$(keyed "$T" >"$TMP/keyed.after"; echo "$TMP/keyed.after")"
	ok "$kind: merge again" iwm-restore db --merge --tool "$T/tool.sh" "$TMP/c"
	keyed "$T" >"$TMP/keyed.again"
	ok "$kind: the rerun changed nothing" cmp "$TMP/keyed.after" "$TMP/keyed.again"
done

# A merge killed midway, on a bigger domain, then run again.
B=$TMP/big
iwsim create "$B" --seed 6 --domains 1 --users 3000 --folders 0 --messages 1 \
    --no-mailboxes >/dev/null
iwm-dbexport -q --domain dom1.example --tool "$B/tool.sh" -o "$TMP/bc"
T=$TMP/t-sqlite
"$T/tool.sh" create domain dom1x.example >/dev/null
cp "$TMP/bc/rows.db" "$TMP/bc/rows.orig"
keyed "$T" >"$TMP/k.before"
iwm-restore db --merge --tool "$T/tool.sh" "$TMP/bc" >/dev/null 2>&1 &
kp=$!
sleep 0.3
kill -9 "$kp" 2>/dev/null
wait "$kp" 2>/dev/null
ok "merge after a kill -9" iwm-restore db --merge --tool "$T/tool.sh" "$TMP/bc"
is "every owner of the big domain once" \
    "$(q "$T" "$GW" "SELECT COUNT(*), COUNT(DISTINCT OWN_Email) FROM EventOwner WHERE OWN_Email LIKE '%@dom1.example'")" \
    "$(q "$B" "$GW" "SELECT COUNT(*), COUNT(DISTINCT OWN_Email) FROM EventOwner")"
ok "the target's own rows still there" sh -c '[ "$(LC_ALL=C comm -23 "$1" "$2" | grep -vc "@dom1.example")" -eq 0 ]' - \
    "$TMP/k.before" "$(keyed "$T" >"$TMP/k.after"; echo "$TMP/k.after")"
done_testing
