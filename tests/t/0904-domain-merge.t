#!/bin/sh
# iwm domain --merge: the target already has dom3.example with an account
# of its own (boss@dom3.example: mailbox, groupware, Senders, blocked
# state).  prepare refuses without --merge; with it, the source's accounts
# join the domain and only they are blocked, unblocked, given rows; the
# boss keeps its mail (copies delete nothing), rows and state.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/domain.sh"

# shellcheck disable=SC2119 # no options: the default servers
dom_setup || { echo "Bail out! setup failed"; exit 1; }
"$TGT/tool.sh" create domain "$D"
"$TGT/tool.sh" create account "boss@$D" u_type 0 u_name Boss \
    u_mailboxpath "$D/boss/" u_accountdisabled 1
mkdir -p "$TGT/mail/$D/boss/inbox"
printf 'From: a@example.org\r\n\r\nthe boss\r\n' >"$TGT/mail/$D/boss/inbox/1.imap"
gwf=$("$TGT/tool.sh" get system C_GW_ConnectionString | sed -n 's/^[^:]*: //p')
gwf=${gwf%%;*}
sqlite3 "$gwf" "INSERT INTO EventOwner(OWN_Email) VALUES ('boss@$D');
  INSERT INTO EventGroup(GRPOWN_ID, GrpTitle) SELECT OWN_ID, '' FROM EventOwner WHERE OWN_Email = 'boss@$D';
  INSERT INTO Folders(FDRGRP_ID, FDRType, FdrName) SELECT GRP_ID, 'E', 'Boss calendar' FROM EventGroup
    JOIN EventOwner ON OWN_ID = GRPOWN_ID WHERE OWN_Email = 'boss@$D';"
asf=$("$TGT/tool.sh" get system C_AS_Challenge_ConnectionString | sed -n 's/^[^:]*: //p')
asf=${asf%%;*}
sqlite3 "$asf" "INSERT INTO Senders(SndOwner, SndEmail, SndType) VALUES ('boss@$D', 'vip@partner.example.net', 1)"
boss() {
	"$TGT/tool.sh" export account "boss@$D" u_name u_accountdisabled
	gw_of "$TGT" "o.OWN_Email = 'boss@$D'"
	q "$TGT" "$GW" "SELECT * FROM EventOwner WHERE OWN_Email = 'boss@$D'"
	snd_of "$TGT" "SndOwner = 'boss@$D'"
	cat "$TGT/mail/$D/boss/inbox/1.imap"
}
boss >"$TMP/boss.before"

exits "prepare without --merge: refused" 65 iwm_ domain "$D" prepare
ok "says so" said "already exists on this server"
ok "prepare --merge" iwm_ domain "$D" prepare --merge
"$SRC/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.src"
"$TGT/tool.sh" export account "*@$D" u_type u_name | grep -v "^boss@" |
    LC_ALL=C sort >"$TMP/acc.tgt"
ok "the source's accounts joined the domain" cmp "$TMP/acc.src" "$TMP/acc.tgt"
is "only they are blocked" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -v '^boss@' | grep -vc ',2,$')" 0
ok "prepare again (--merge remembered)" iwm_ domain "$D" prepare
ok "copy" iwm_ domain "$D" copy
ok "says nothing is deleted" said "nothing is deleted on the target"
ok "user1's mail equal" same_tree "$SRC/mail/$D/user1" "$TGT/mail/$D/user1"
ok "cutover" iwm_ domain "$D" cutover
gw_of "$SRC" "o.OWN_Email LIKE '%@$D'" >"$TMP/gw.src"
gw_of "$TGT" "o.OWN_Email LIKE '%@$D' AND o.OWN_Email <> 'boss@$D'" >"$TMP/gw.tgt"
ok "the source's groupware merged" cmp "$TMP/gw.src" "$TMP/gw.tgt"
ok "cutover again" iwm_ domain "$D" cutover
ok "finish" iwm_ domain "$D" finish
is "the source's accounts unblocked" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -v '^boss@' | grep -vc ',0,$')" 0
boss >"$TMP/boss.after"
diff "$TMP/boss.before" "$TMP/boss.after" | sed 's/^/# /'
ok "the boss: state, rows, keys, Senders and mail unchanged" cmp "$TMP/boss.before" "$TMP/boss.after"
ok "the boss was compared" grep -q "Boss calendar" "$TMP/boss.after"
done_testing
