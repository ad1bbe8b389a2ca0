#!/bin/sh
# iwm-scan's progress line: on a terminal, redrawn at least once a second
# even while its output is blocked; off a terminal, nothing but the data
# and errors.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

command -v script >/dev/null 2>&1 || skip_all "no script(1) for a terminal"

tree=$TMP/tree
d=0
while [ $d -lt 20 ]; do
	mkdir -p "$tree/d$d"
	f=0
	while [ $f -lt 100 ]; do
		printf 'xy' >"$tree/d$d/f$f"
		f=$((f + 1))
	done
	d=$((d + 1))
done

# script(1) runs the scan on a terminal; its output goes to a pipe read
# only after 2.5 s, so the scan blocks with a full pipe meanwhile.  First
# with its standard error sent to a file (off a terminal), then on the
# terminal, recorded in $TMP/typescript.
script -qec "iwm-scan --root data='$tree' 2>'$TMP/tty' | (sleep 2.5; cat >'$TMP/out')" \
    /dev/null >/dev/null 2>&1
script -qec "iwm-scan --root data='$tree' | (sleep 2.5; cat >'$TMP/out2')" \
    "$TMP/typescript" >/dev/null 2>&1
n=$(tr '\r' '\n' <"$TMP/typescript" | grep -c 'entries/s')
ok "on a terminal: the line is redrawn while blocked ($n times in 2.5 s)" \
    test "$n" -ge 3
ok "... saying entries and bytes listed" \
    grep -q 'iwm-scan: 2020 entries, 4.0 kB listed' "$TMP/typescript"
is "... and the data is whole" "$(grep -vc '^#' "$TMP/out2")" 2020
is "off a terminal: no progress on standard error" "$(cat "$TMP/tty")" ""
is "... the data is the same" "$(grep -vc '^#' "$TMP/out")" 2020

# --target: the agent's listing counted as it comes.
ok "agent on the same tree" serve_start --root data="$tree"
script -qec "iwm-scan --target '$URL' --credentials '$TMP/cred' --fingerprint '$FP' | (sleep 2.5; cat >'$TMP/out3')" \
    "$TMP/typescript3" >/dev/null 2>&1
ok "--target on a terminal: the line says entries and bytes listed" \
    grep -q 'iwm-scan: 2020 entries, 4.0 kB listed' "$TMP/typescript3"
is "... and the data is whole" "$(grep -vc '^#' "$TMP/out3")" 2020
iwm-scan --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    >"$TMP/out4" 2>"$TMP/tty4"
is "--target off a terminal: no progress" "$(cat "$TMP/tty4")" ""
done_testing
