#!/bin/sh
# iwm domain with the target reachable only through its agent (no
# TARGET_TOOL): the target's half of prepare, cutover and finish runs as
# the actions domain-prepare, domain-rows and domain-finish.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/domain.sh"

# shellcheck disable=SC2119 # no options: the default servers
dom_setup || { echo "Bail out! setup failed"; exit 1; }
# The same migration, configured without the target's tool.
iwm_ init --force --target "$URL" --credentials "$TMP/cred" \
    --fingerprint "$FP" --tool "$SRC/tool.sh" --migration-dir "$TMP/mig" \
    >/dev/null
ok "no TARGET_TOOL in the configuration" sh -c '! grep -q "^TARGET_TOOL=." "$1"' - "$TMP/iwm.conf"

ok "plan" iwm_ domain "$D" plan
ok "prepare through the agent" iwm_ domain "$D" prepare
ok "the agent ran domain-prepare" grep -q "action domain-prepare by alice: started" "$TMP/serve.log"
"$SRC/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.src"
"$TGT/tool.sh" export account "*@$D" u_type u_name | LC_ALL=C sort >"$TMP/acc.tgt"
ok "every account on the target, same type and name" cmp "$TMP/acc.src" "$TMP/acc.tgt"
is "every account blocked on the target" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',2,$')" 0
ok "copy" iwm_ domain "$D" copy
ok "mail of $D equal" same_tree "$SRC/mail/$D" "$TGT/mail/$D"
ok "cutover through the agent" iwm_ domain "$D" cutover
ok "the agent ran domain-rows" grep -q "action domain-rows by alice: started" "$TMP/serve.log"
rows_equal ''
ok "finish through the agent" iwm_ domain "$D" finish --forward mail.target.local
ok "the agent ran domain-finish" grep -q "action domain-finish by alice: started" "$TMP/serve.log"
is "target accounts unblocked" \
    "$("$TGT/tool.sh" export account "*@$D" u_accountdisabled | grep -vc ',0,$')" 0
is "the remote account enabled on the target" \
    "$("$TGT/tool.sh" export remoteaccount ra9 ra_enabled)" "ra9,1,"
ok "the target's own domains untouched" "$TGT/tool.sh" export domain dom1.example
done_testing
