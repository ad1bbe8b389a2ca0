#!/bin/sh
# iwm-services against the simulator's modules and events log: stop and
# start only switch services (modules keep running, icewarpd.sh is never
# called), --keep-control on a pre-configured target, restart runs
# icewarpd.sh --restart all and waits for the tool; a failing script and
# a server that does not answer are clear errors.
. "$(dirname "$0")/../lib.sh"

src=$TMP/src
iwsim create "$src" --domains 1 --users 1 --folders 0 --messages 1 >/dev/null
ev=$src/.iwsim/events.log
: >"$ev"

iwm-services --tool "$src/tool.sh" stop >"$TMP/out" 2>&1
is "stop: exit 0" "$?" 0
ok "... switches services only: no module is stopped" sh -c '! grep -v "^set " "$1"' - "$ev"
ok "... every module still has its pid file" sh -c 'for m in smtp pop3 control im cal; do [ -f "$1/var/$m.pid" ] || exit 1; done' - "$src"
ok "... control and web off on a source" sh -c 'grep -qx "set C_Mail_Control_Active 0" "$1" && grep -qx "set C_Mail_Control_DisableWeb 1" "$1"' - "$ev"
is "... one set per switch that was on" "$(grep -c '^set ' "$ev")" "$(grep -c '	(was ' "$TMP/out")"

# A pre-configured target: its own state, control kept, then the source's.
tgt=$TMP/tgt
iwsim create "$tgt" --target --no-mailboxes >/dev/null
tev=$tgt/.iwsim/events.log
: >"$tev"
tstate=$tgt/temp/iwm-target/services.state
iwm-services --tool "$tgt/tool.sh" --state "$tstate" stop --keep-control >"$TMP/out" 2>&1
is "target stop --keep-control: exit 0" "$?" 0
ok "... control is never switched off" sh -c '! grep -q "^set C_Mail_Control_Active 0" "$1"' - "$tev"
ok "... web is" grep -qx "set C_Mail_Control_DisableWeb 1" "$tev"
ok "... no module touched" sh -c '! grep -v "^set " "$1"' - "$tev"
iwm-services --tool "$tgt/tool.sh" start --from "$src/temp/iw_migration/services.state" >"$TMP/out" 2>&1
is "target start --from the source's state: exit 0" "$?" 0
iwm-services --tool "$tgt/tool.sh" status >"$TMP/tstatus" 2>/dev/null
awk -F '\t' '!/^#/ { print $1 "\t" $2 "\t" $4 }' "$src/temp/iw_migration/services.state" >"$TMP/want"
awk -F '\t' '{ print $1 "\t" $3 "\t" $4 }' "$TMP/tstatus" >"$TMP/got"
ok "... the target runs exactly what the source ran" cmp "$TMP/want" "$TMP/got"
ok "... web back on" grep -qx "web	on	C_Mail_Control_DisableWeb	0" "$TMP/tstatus"

# restart
: >"$tev"
iwm-services --tool "$tgt/tool.sh" restart >"$TMP/out" 2>&1
is "restart: exit 0" "$?" 0
is "... icewarpd.sh --restart all, nothing else" "$(cat "$tev")" "restart all"
ok "... waits until the tool answers" grep -q "the server answers again" "$TMP/out"
ok "... the modules run" sh -c 'for m in smtp pop3 control im cal; do [ -f "$1/var/$m.pid" ] || exit 1; done' - "$tgt"

# A server whose tool stops answering after the restart.
cat >"$TMP/mute-tool" <<EOF
#!/bin/sh
[ "\$*" = "get system C_Version" ] && { echo "tool: cannot connect (error -1)" >&2; exit 1; }
exec "$tgt/tool.sh" "\$@"
EOF
chmod +x "$TMP/mute-tool"
start=$(date +%s)
iwm-services --tool "$TMP/mute-tool" --wait 2 restart >"$TMP/out" 2>&1
is "a server that does not answer after restart: exit 69" "$?" 69
ok "... after about --wait seconds" sh -c '[ $(($(date +%s) - $1)) -le 6 ]' - "$start"
ok "... saying what it waited for" grep -q "did not answer 'get system C_Version' within 2 s" "$TMP/out"

chmod a-x "$tgt/icewarpd.sh"
iwm-services --tool "$tgt/tool.sh" restart >"$TMP/out" 2>&1
is "icewarpd.sh not executable: exit 69" "$?" 69
ok "... naming it" grep -q "$tgt/icewarpd.sh" "$TMP/out"
chmod a+x "$tgt/icewarpd.sh"
done_testing
