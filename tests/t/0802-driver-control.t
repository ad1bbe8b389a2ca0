#!/bin/sh
# Acting on a running copy: iwm speed (a running copy slows down and speeds
# up), pause and resume, cancel and rerun (no partial file left, the rerun
# completes), under dash.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
command -v dash >/dev/null 2>&1 || skip_all "dash not installed"
IWM_SH=dash
export IWM_SH

# shellcheck disable=SC2119 # no extra simulator options
drv_setup || { echo "Bail out! setup failed"; exit 1; }
iwm_ connect >/dev/null
iwm_ deps >/dev/null
ok "copy (under dash)" iwm_ copy
U=$SRC/mail/dom1.example/user1

# big N SIZE_MB PREFIX: N files of SIZE_MB MiB in user1's inbox.
big() {
	b_i=0
	while [ "$b_i" -lt "$1" ]; do
		head -c $(($2 * 1048576)) /dev/urandom >"$U/inbox/$3$b_i.imap"
		b_i=$((b_i + 1))
	done
}
# A pass of 32 MiB measures the full speed.
big 4 8 m
ok "sync measures the full speed" iwm_ sync
full=$(sed -n 's/^full_rate=//p' "$TMP/mig/state")
ok "full speed recorded ($full bytes/s)" test "${full:-0}" -gt 0

# bg_sync: iwm sync in the background (pid in BG), its push running.
bg_sync() {
	dash "$TOP/bin/iwm" -c "$TMP/iwm.conf" sync >"$TMP/bg.out" 2>&1 &
	BG=$!
	w=0
	while [ ! -s "$TMP/mig/run/push.pid" ] && [ "$w" -lt 200 ]; do
		sleep 0.05
		w=$((w + 1))
	done
	PUSH=$(cat "$TMP/mig/run/push.pid" 2>/dev/null)
}
# A percentage giving about 2 MB/s.
pct=$((2000000 * 100 / full))
[ "$pct" -ge 1 ] || pct=1
[ "$pct" -le 50 ] || pct=50

# --- speed ----------------------------------------------------------------
big 10 2 s
ok "speed $pct%" iwm_ speed "$pct"
ok "speed says the rate" said "speed $pct% of"
t0=$(date +%s)
bg_sync
sleep 2
n_slow=$(find "$TGT/mail/dom1.example/user1/inbox" -name 's*.imap' | wc -l)
ok "at $pct% the copy is slow ($n_slow of 10 files after 2 s)" test "$n_slow" -lt 8
ok "speed 100 while it runs" iwm_ speed 100
wait "$BG"
st=$?
t1=$(date +%s)
is "the sync finished" "$st" 0
ok "and at full speed soon after ($((t1 - t0)) s for 20 MiB)" test $((t1 - t0)) -lt 9

# --- pause and resume --------------------------------------------------------
big 12 2 p
iwm_ speed "$pct" >/dev/null
bg_sync
sleep 1
ok "pause" iwm_ pause
# The push drops the requests in flight and stops.
wait_stopped "$PUSH"
is "the transfer is stopped" "$(proc_state "$PUSH")" T
iwm_ status >/dev/null
ok "status says paused" said "running .*paused"
n1=$(find "$TGT/mail/dom1.example/user1/inbox" -name 'p*.imap' | wc -l)
sleep 1.5
n2=$(find "$TGT/mail/dom1.example/user1/inbox" -name 'p*.imap' | wc -l)
is "nothing moves while paused" "$n2" "$n1"
ok "not everything was copied before the pause ($n1 of 12)" test "$n1" -lt 12
ok "resume" iwm_ resume
iwm_ speed 100 >/dev/null
wait "$BG"
is "the paused sync finishes after resume" "$?" 0
ok "every file is there" same_tree "$U" "$TGT/mail/dom1.example/user1"

# --- cancel and rerun ----------------------------------------------------------
big 12 2 c
iwm_ speed "$pct" >/dev/null
bg_sync
sleep 1
ok "cancel" iwm_ cancel
wait "$BG"
is "the cancelled sync exits 75" "$?" 75
ok "and says how to go on" grep -q "run the same command again" "$TMP/bg.out"
ok "no partial file on the target" no_temps "$TGT/mail"
n1=$(find "$TGT/mail/dom1.example/user1/inbox" -name 'c*.imap' | wc -l)
ok "the copy stopped early ($n1 of 12)" test "$n1" -lt 12
iwm_ status >/dev/null
ok "status shows the cancelled pass" said "cancelled"
iwm_ speed 100 >/dev/null
ok "the rerun completes" iwm_ sync
ok "the target equals the source" iwm_ verify
done_testing
