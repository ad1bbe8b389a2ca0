#!/bin/sh
# iwm domain: dom3.example moved from a simulated source into a
# simulated target that already hosts other domains (SQLite on both
# sides): plan, prepare, copy, cutover, finish, status; --dry-run at
# every step; reruns; a cutover killed midway; a missing domain; nothing
# of another domain changed on either side.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/domain.sh"

# shellcheck disable=SC2119 # no options: the default servers
dom_setup || { echo "Bail out! setup failed"; exit 1; }
whole "$SRC" >"$TMP/src.before"
whole "$TGT" >"$TMP/tgt.before"

# --- a missing domain, plan ----------------------------------------------
exits "a domain the source does not have: exit 66" 66 \
    iwm_ domain nosuch.example plan
ok "and says so" said "no domain nosuch.example on the source"
exits "a malformed name: exit 64" 64 iwm_ domain 'a/b' plan
ok "plan" iwm_ domain "$D" plan
ok "plan: accounts and remote accounts" said "create the domain, 6 accounts and 1 remote accounts"
ok "plan: the copy with sizes" said "copy: +mail and archive of $D: [0-9]+ files, [0-9.]+ kB"
ok "plan: one absolute mailbox path" said "1 absolute mailbox paths"
ok "plan saved" test -s "$TMP/mig/domain/$D/plan.txt"
exits "a domain the target already has: refused without --merge" 65 \
    iwm_ domain dom1.example prepare
ok "and says so" said "dom1.example already exists on this server: .* --merge"

# --- prepare -------------------------------------------------------------
ok "prepare --dry-run" iwm_ domain "$D" prepare --dry-run
ok "says what it would run" said "would run: tool import account"
fails "the target has no $D after a dry run" "$TGT/tool.sh" export domain "$D"
ok "prepare" iwm_ domain "$D" prepare
ok "the target has $D" "$TGT/tool.sh" export domain "$D"
"$SRC/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.src"
"$TGT/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.tgt"
ok "every account, same type and name" cmp "$TMP/acc.src" "$TMP/acc.tgt"
is "every account blocked on the target" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',2,$')" 0
is "the source's accounts are not blocked yet" \
    "$("$SRC/tool.sh" export account "*@$D" u_accountdisabled | grep -c ',2,$')" 0
is "the remote account exists on the target, disabled" \
    "$("$TGT/tool.sh" export remoteaccount ra9 ra_owner ra_server ra_enabled)" \
    "ra9,user2@$D,pop.example.net,0,"
is "enabled on the source" \
    "$("$SRC/tool.sh" export remoteaccount ra9 ra_enabled)" "ra9,1,"
ok "no source path on the target" sh -c '! "$1/tool.sh" export account "*@*" u_mailboxpath | grep -q "$2"' - "$TGT" "$SRC"
is "the absolute path became the default" \
    "$("$TGT/tool.sh" export account "user3@$D" u_mailboxpath)" "user3@$D,$D/user3/,"
ok "config/$D/ copied" diff -r "$SRC/config/$D" "$TGT/config/$D"
ok "the _hosts entry of $D copied" cmp "$SRC/config/_webmail/_hosts/mail.$D.xml" \
    "$TGT/config/_webmail/_hosts/mail.$D.xml"
ok "prepare again: harmless" iwm_ domain "$D" prepare
ok "still blocked" sh -c '! "$1/tool.sh" export account "*@$2" u_accountdisabled | grep -qv ",2,\$"' - "$TGT" "$D"

# --- copy -----------------------------------------------------------------
ok "copy --dry-run" iwm_ domain "$D" copy --dry-run
ok "nothing copied" test ! -d "$TGT/mail/$D"
ok "copy" iwm_ domain "$D" copy
ok "prints the pass with its duration and size" said "pass 1 \(copy\): [0-9]+ files, [0-9.]+ kB, 0 deleted, 0 failed in [0-9]+ s"
ok "mail of $D equal" same_tree "$SRC/mail/$D" "$TGT/mail/$D"
ok "archive of $D equal" same_tree "$SRC/archive/$D" "$TGT/storage/archive/$D"
# A message arrives, one is deleted: the next pass carries both.
f=$(find "$SRC/mail/$D/user1/inbox" -name '*.imap' | head -n 1)
rm -f "$f"
printf 'From: x@example.org\r\n\r\nnew\r\n' >"$SRC/mail/$D/user1/inbox/20261102000000001.imap"
ok "copy again" iwm_ domain "$D" copy
ok "pass 2: one file, one deleted" said "pass 2 \(copy\): 1 files, .* 1 deleted"
ok "mail of $D equal again" same_tree "$SRC/mail/$D" "$TGT/mail/$D"

# --- cutover ------------------------------------------------------------
ok "cutover --dry-run" iwm_ domain "$D" cutover --dry-run
ok "says which rows would move" said "would move: groupware	EventOwner	3 rows"
is "no groupware of $D on the target after a dry run" \
    "$(gw_of "$TGT" "o.OWN_Email LIKE '%@$D'")" ""
is "the source's accounts still open" \
    "$("$SRC/tool.sh" export account "*@$D" u_accountdisabled | grep -c ',2,$')" 0
# A cutover killed midway, at several points (SIGKILL to the driver and
# every program it runs, in their own process group), then run again.
for delay in 0.2 0.5 0.8 1.1; do
	rm -f "$TMP/pgid"
	# shellcheck disable=SC2016 # expanded by that sh
	setsid sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/pgid" \
	    "${IWM_SH:-sh}" "$TOP/bin/iwm" -c "$TMP/iwm.conf" domain "$D" cutover \
	    >"$TMP/killed.out" 2>&1 &
	kp=$!
	sleep "$delay"
	[ -s "$TMP/pgid" ] && kill -9 -"$(cat "$TMP/pgid")" 2>/dev/null
	wait "$kp"
	echo "# killed after $delay s at: $(tail -n 1 "$TMP/killed.out")"
done
ok "cutover" iwm_ domain "$D" cutover
ok "reports the system content filter naming $D" said "review: content filters"
is "every source account blocked" \
    "$("$SRC/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',2,$')" 0
rows_equal ''
ok "keys collided and were renewed" grep -q "[1-9][0-9]* new keys" "$TMP/last"
ok "cutover again: harmless" iwm_ domain "$D" cutover
gw_of "$TGT" "o.OWN_Email LIKE '%@$D'" >"$TMP/gw.tgt2"
ok "no duplicates after the rerun" cmp "$TMP/gw.src" "$TMP/gw.tgt2"
ok "mail equal after the final sync" same_tree "$SRC/mail/$D" "$TGT/mail/$D"

# --- finish ------------------------------------------------------------
ok "finish --dry-run" iwm_ domain "$D" finish --dry-run
is "target accounts still blocked" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',2,$')" 0
ok "finish" iwm_ domain "$D" finish --forward mail.target.local
is "the source's domain is a backup domain forwarding to the target" \
    "$("$SRC/tool.sh" export domain "$D" d_type d_domainvalue)" "$D,3,mail.target.local,"
is "target accounts unblocked" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',0,$')" 0
is "source accounts stay blocked" \
    "$("$SRC/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',2,$')" 0
is "the remote account enabled on the target" \
    "$("$TGT/tool.sh" export remoteaccount ra9 ra_enabled)" "ra9,1,"
ok "checklist printed" said "MX records of $D"
ok "checklist names the DKIM selector" said "selector sel2026"
ok "checklist saved" test -s "$TMP/mig/domain/$D/checklist.txt"
ok "finish again: harmless" iwm_ domain "$D" finish --forward mail.target.local
ok "status" iwm_ domain "$D" status
ok "status: every step" said "finished +[0-9]{4}-"
ok "status: the passes" said "3 final"
exits "status of a domain never moved: exit 66" 66 iwm_ domain other.example status

# --- nothing else changed ---------------------------------------------
whole "$SRC" >"$TMP/src.after"
whole "$TGT" >"$TMP/tgt.after"
ok "the source's other domains unchanged" cmp "$TMP/src.before" "$TMP/src.after"
diff "$TMP/tgt.before" "$TMP/tgt.after" | head -n 5 | sed 's/^/# /'
ok "the target's other domains unchanged" cmp "$TMP/tgt.before" "$TMP/tgt.after"
ok "the target's other domains were compared" grep -q "admin@target.local" "$TMP/tgt.after"
done_testing
