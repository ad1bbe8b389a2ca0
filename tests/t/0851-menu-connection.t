#!/bin/sh
# iwm menu's Connection screen: no terminal refused; a ticked proxy opens
# the Proxy screen and Back un-ticks it; a certificate that differs from
# the confirmed fingerprint is a warning (as ssh's changed host key) and
# not accepted by default; Exit leaves without writing anything.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
. "$TOP/tests/menu.sh"

# shellcheck disable=SC2119 # no extra simulator options
drv_setup || { echo "Bail out! setup failed"; exit 1; }
exits "without a terminal: exit 64" 64 sh "$TOP/bin/iwm" -c "$TMP/iwm.conf" menu </dev/null
# A fingerprint confirmed before, which the agent's certificate does not have.
zero=$(printf '%064d' 0 | sed 's/../&:/g;s/:$//')
sed -i "s/^FINGERPRINT=.*/FINGERPRINT=$zero/" "$TMP/iwm.conf"
cp "$TMP/iwm.conf" "$TMP/iwm.conf.before"
ok "the menu starts" menu_start
ok "Connection, filled from iwm.conf" shows 'Host/IP:port +127\.0\.0\.1:'
ok "the saved administrator" grep -q 'Administrator  *alice' "$TMP/screen"
keys Down Down Down Down BSpace
typed y
keys Enter
ok "Use proxy server: the Proxy screen" shows 'The proxy server between'
keys Escape
ok "Back: Connection again" shows 'Host/IP:port'
ok "with the proxy un-ticked" grep -qE 'Use proxy server \(y/n\) +n' "$TMP/screen"
keys Enter
ok "a changed certificate is a warning" shows 'certificate has changed'
ok "showing the new fingerprint" grep -qF "$(printf '%s' "$FP" | cut -c1-47)" "$TMP/screen"
keys Enter
ok "refused by default: Connection again" shows 'Host/IP:port'
keys Escape
w=0
while [ ! -s "$TMP/menu.rc" ] && [ "$w" -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
is "Exit leaves the menu with status 0" "$(cat "$TMP/menu.rc" 2>/dev/null)" 0
ok "iwm.conf is unchanged" cmp "$TMP/iwm.conf" "$TMP/iwm.conf.before"
ok "the refusal is logged" sh -c 'grep -q "	menu	certificate .* refused" "$1"/temp/mig*.log' - "$SRC"
done_testing
