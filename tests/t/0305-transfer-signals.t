#!/bin/sh
# Pause (SIGTSTP) and cancel (SIGINT) take effect at once: the transfer
# in flight is dropped, its unfinished file dropped by the agent, and sent
# again on resume (SIGCONT); --rate 1M keeps a 4 MiB copy from finishing
# in under 3 seconds.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/d" "$dst"
for n in 1 2 3; do
	head -c 2097152 /dev/urandom >"$src/d/f$n"
done
# Written a while ago (a copy of a file written just now is racily clean).
touch -d '2021-01-01' "$src/d/f1" "$src/d/f2" "$src/d/f3"
ok "agent starts" serve_start --root mail="$dst"
iwm-scan --root mail="$src" >"$TMP/src.m"
nfiles() {
	find "$dst" -type f ! -name '.iwm-tmp-*' | wc -l | tr -d ' '
}

# Pause and resume: 2 MiB files one at a time at 1 MiB/s (2 s each).
push_bg --rate 1M -j 1 "$TMP/src.m" >"$TMP/journal" 2>"$TMP/err"
pid=$PUSH_PID
wait_upload "$dst"
kill -TSTP "$pid"
wait_stopped "$pid"
is "stopped" "$(proc_state "$pid")" T
n1=$(nfiles)
is "without finishing the file in flight" "$n1" 0
sleep 0.6
is "nothing moves while paused" "$(nfiles)" "$n1"
ok "no upload in progress while paused" no_temps "$dst"
kill -CONT "$pid"
wait "$pid"
is "resumed and finished (exit 0)" "$?" 0
ok "all copied" diff -r -x .iwm-racy "$src" "$dst"
ok "pause and resume reported" sh -c 'grep -q paused "$1" && grep -q resumed "$1"' - "$TMP/err"
is "each file journalled once" "$(grep -c '	f	' "$TMP/journal")" 3

# Cancel at once, the file in flight dropped.
find "$dst" -mindepth 1 -delete
push_bg --rate 1M -j 1 "$TMP/src.m" >"$TMP/journal" 2>"$TMP/err"
pid=$PUSH_PID
wait_upload "$dst"
kill -INT "$pid"
wait "$pid"
is "cancel: exit 75" "$?" 75
is "the file in flight was not finished" "$(nfiles)" 0
is "nor journalled" "$(grep -c "d/f1" "$TMP/journal")" 0
ok "cancel reported, with what was not sent" \
    grep -q 'cancelled (1 record(s) in flight not sent)' "$TMP/err"
sleep 0.3
ok "no temp file left by the aborted upload" no_temps "$dst"

# A second signal changes nothing.
push_bg --rate 1M -j 1 "$TMP/src.m" >"$TMP/journal" 2>"$TMP/err"
pid=$PUSH_PID
wait_upload "$dst"
kill -INT "$pid"
kill -INT "$pid"
wait "$pid"
is "second signal: exit 75" "$?" 75
sleep 0.3
ok "no temp file left" no_temps "$dst"

# A cancel while paused.
push_bg --rate 1M -j 1 "$TMP/src.m" >"$TMP/journal" 2>"$TMP/err"
pid=$PUSH_PID
wait_upload "$dst"
kill -TSTP "$pid"
wait_stopped "$pid"
kill -TERM "$pid"
kill -CONT "$pid"
wait "$pid"
is "cancel while paused: exit 75" "$?" 75
ok "reported as cancelled" grep -q cancelled "$TMP/err"

# --rate.
find "$dst" -mindepth 1 -delete
head -c 4194304 /dev/urandom >"$src/d/f1"
iwm-scan --root mail="$src" | grep -v -e 'f2	' -e 'f3	' >"$TMP/one.m"
start=$(date +%s.%N)
ok "rate-limited copy" push --rate 1M "$TMP/one.m"
el=$(echo "$(date +%s.%N) - $start" | bc)
ok "4 MiB at 1 MiB/s took $el s (>= 3)" test "$(echo "$el >= 3" | bc)" -eq 1
ok "and arrived intact" cmp "$src/d/f1" "$dst/d/f1"
done_testing
