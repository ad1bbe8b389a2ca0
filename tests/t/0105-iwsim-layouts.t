#!/bin/sh
# 0105-iwsim-layouts.t: what else real servers have on disk and in their
# databases: groupware tables with the columns public scripts query
# (M/domainmove.sh, M/iw_export_gw_webclient.sh, M/faorsms.sh), var/ with
# pid and .mon files, provisioned.dat in the storage path, mailbox
# sorting prefixes (<domain>/jo/hn/john/), enc~<hex> folder names and
# SQLite webmail cache.db files inside mailboxes.
. "$(dirname "$0")/../lib.sh"

command -v iwsim >/dev/null 2>&1 || skip_all "tests/iwsim/iwsim is not built"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"

A=$TMP/a
iwsim create "$A" --domains 2 --users 3 --folders 1 --messages 2
gw=$("$A/tool.sh" get system c_gw_connectionstring | perl -pe 's|^c_gw_connectionstring: (.*);(.*);.*;.*;.*;.*$|\1|')
q() { sqlite3 "$gw" "$1"; }

# ---- groupware: M/domainmove.sh's statements ---------------------------------------
email=user2@dom1.example
own=$(q "SELECT OWN_ID FROM EventOwner WHERE OWN_Email = '$email';")
ok "EventOwner(OWN_ID, OWN_Email)" test -n "$own"
grp=$(q "SELECT GRP_ID FROM EventGroup WHERE GRPOWN_ID = (SELECT OWN_ID FROM EventOwner WHERE OWN_Email = '$email');")
ok "EventGroup(GRP_ID, GRPOWN_ID)" test -n "$grp"
is "GrpDailyEventsEmail, GrpReminderEmail" "$(q "SELECT GrpDailyEventsEmail || ' ' || GrpReminderEmail FROM EventGroup WHERE GRP_ID = $grp")" \
	"$email $email"
q "UPDATE EventOwner SET OWN_Email = 'user2@new.example' WHERE OWN_ID = '$own';
   UPDATE EventGroup SET GrpDailyEventsEmail = 'user2@new.example' WHERE GRP_ID = '$grp';
   UPDATE EventGroup SET GrpReminderEmail = 'user2@new.example' WHERE GRP_ID = '$grp'"
is "domainmove.sh's UPDATEs apply" "$(q "SELECT COUNT(*) FROM EventOwner JOIN EventGroup ON GRPOWN_ID = OWN_ID
	WHERE OWN_Email = 'user2@new.example' AND GrpReminderEmail = OWN_Email")" 1
# M/iw_export_gw_webclient.sh getFolders
is "Folders(FDR_ID, FDRGRP_ID, FDRType) of the personal group (GrpTitle '')" \
	"$(q "select FDR_ID, FDRType from folders where FDRGRP_ID in (select grp_id from eventgroup where grpown_id in
	( select OWN_ID from eventowner where OWN_Email = 'user1@dom1.example') and GrpTitle = '') and FDRType <> 'M';" |
	cut -d'|' -f2 | tr '\n' ' ')" "C E T F J "
# M/faorsms.sh: ContactItem left outer join ContactLocation
is "ContactItem(ITMGRP_ID, ItmFolder) and ContactLocation(LCTITM_ID): my card" \
	"$(q "SELECT ContactLocation.LctEmail FROM EventGroup, EventOwner, ContactItem left outer join ContactLocation
	on itm_id = lctitm_id WHERE Own_Email = 'user1@dom2.example' AND ItmFolder = '@@mycard@@'
	AND OWN_ID = GRPOWN_ID AND ITMGRP_ID = GRP_ID limit 1")" "user1@dom2.example"

# ---- var/, provisioned.dat ----------------------------------------------------------
for m in smtp pop3 control im cal; do
	ok "var/$m.pid" test -s "$A/var/$m.pid"
done
is "var/iwbackupstatus.mon (M/iw_backup.sh writes OK or FAIL)" "$(cat "$A/var/iwbackupstatus.mon")" OK
mp=$("$A/tool.sh" get system C_System_Storage_Dir_MailPath | sed 's/^[^:]*: //')
ok "provisioned.dat in the storage path" test -s "${mp}provisioned.dat"

# ---- mailbox sorting prefixes ----------------------------------------------------------
S=$TMP/s
ok "create --sorting" iwsim create "$S" --sorting --domains 1 --users 4 --shared 1 --folders 0 --messages 2
is "C_System_Storage_Mailbox_UseSorting on" "$("$S/tool.sh" get system C_System_Storage_Mailbox_UseSorting | awk '{print $2}')" 1
is "... PrefixLen 2" "$("$S/tool.sh" get system C_System_Storage_Mailbox_PrefixLen | awk '{print $2}')" 2
is "u_mailboxpath stays <domain>/<alias>/" "$("$S/tool.sh" export account user1@dom1.example u_mailboxpath)" \
	"user1@dom1.example,dom1.example/user1/,"
is "u_fullmailboxpath: <domain>/us/er/user1/ (M/domainmove.sh's parse)" \
	"$("$S/tool.sh" export account user1@dom1.example u_fullmailboxpath | awk -F ',' '{print $2}')" \
	"$S/mail/dom1.example/us/er/user1/"
ok "... where the data is" test -d "$S/mail/dom1.example/us/er/user1/inbox"
ok "... and not at <domain>/<alias>/" test ! -e "$S/mail/dom1.example/user1"
is "an absolute mailbox path is not sorted" "$("$S/tool.sh" export account user3@dom1.example u_fullmailboxpath)" \
	"user3@dom1.example,$S/mail/dom1.example/user3/,"
ok "... its data there" test -d "$S/mail/dom1.example/user3/inbox"
is "a shared account points into the sorted mailbox" \
	"$("$S/tool.sh" export account shared1@dom1.example u_fullmailboxpath)" \
	"shared1@dom1.example,$S/mail/dom1.example/us/er/user1/Shared/,"
"$S/tool.sh" create account jo@dom1.example
is "a short alias is padded with _ (assumed)" "$("$S/tool.sh" export account jo@dom1.example u_fullmailboxpath)" \
	"jo@dom1.example,$S/mail/dom1.example/jo/__/jo/,"
"$S/tool.sh" set system C_System_Storage_Mailbox_UseSorting 0
is "sorting off: the plain path again" "$("$S/tool.sh" export account user1@dom1.example u_fullmailboxpath)" \
	"user1@dom1.example,$S/mail/dom1.example/user1/,"
"$S/tool.sh" set system C_System_Storage_Mailbox_UseSorting 1
S2=$TMP/s2
iwsim create "$S2" --sorting --domains 1 --users 4 --shared 1 --folders 0 --messages 2
listing() { (cd "$1/mail" && find . -printf '%P %s %T@\n' | LC_ALL=C sort); }
is "a sorted mail tree is reproducible, directory times included" "$(listing "$S2")" "$(listing "$S")"
W=$TMP/w
iwsim create "$W" --windows --sorting --domains 1 --users 1 --folders 0 --messages 1
is "Windows: sorted full path with backslashes" "$("$W/tool.sh" export account user1@dom1.example u_fullmailboxpath)" \
	'user1@dom1.example,C:\Program Files\IceWarp\mail\dom1.example\us\er\user1\,'

# ---- enc~ folders and webmail cache.db -----------------------------------------------
L=$TMP/l
ok "create --layouts" iwsim create "$L" --layouts --domains 1 --users 2 --folders 0 --messages 3
d=$L/mail/dom1.example/user1
is "a folder named 'Notes.' is enc~<hex>" "$(printf 'Notes.' | od -An -tx1 | tr -d ' \n')" "4e6f7465732e"
ok "... enc~4e6f7465732e holds messages" test "$(find "$d/enc~4e6f7465732e" -name '*.imap' | wc -l)" -eq 3
is "cache.db in the mailbox is SQLite with the cache's tables" "$(sqlite3 "$d/cache.db" \
	"SELECT account_id FROM folder WHERE name = 'INBOX'")" "user1@dom1.example"
ok "without --layouts, none of them" sh -c '! find "$1/mail" -name "enc~*" -o -name cache.db | grep -q .' - "$A"

done_testing
