#!/bin/sh
# A lost target: iwm-push retries with back-off for --retry-for, so an
# agent that comes back (same address) lets the pass finish; one that
# does not ends the pass with one summary line, and --failed lists only
# what really failed, never the records that were merely not sent.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/dom" "$dst"
i=0
while [ $i -lt 300 ]; do
	head -c 4000 /dev/urandom >"$src/dom/m$i"
	i=$((i + 1))
done
head -c 3000000 /dev/urandom >"$src/dom/big"
touch -d '2021-01-01' "$src/dom"/*
iwm-scan --root mail="$src" >"$TMP/src.m"

# restart_same_port: the agent again, on the address it had.
restart_same_port() {
	port=${URL##*:}
	rm -f "$TMP/ready"
	iwm-serve --listen "127.0.0.1:$port" --cert "$TMP/cert/cert.pem" \
	    --key "$TMP/cert/key.pem" --users "$TMP/users" \
	    --ready-file "$TMP/ready" --root mail="$dst" 2>>"$TMP/serve.log" &
	SERVE_PID=$!
	n=0
	while [ ! -s "$TMP/ready" ] && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	[ -s "$TMP/ready" ]
}

# wait_some: until the copy has started on the agent's side.
wait_some() {
	n=0
	while [ -z "$(find "$dst" -type f -print -quit)" ] && [ $n -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
}

# 1. The agent dies and comes back 2 s later: the pass finishes.
ok "agent starts" serve_start --root mail="$dst"
push_bg --rate 2M -j 2 --retry-for 60 --failed "$TMP/failed1.m" "$TMP/src.m" \
    >"$TMP/journal1" 2>"$TMP/err1"
pid=$PUSH_PID
wait_some
serve_kill9
sleep 2
ok "agent back on the same address" restart_same_port
wait "$pid"
is "the pass finishes once the agent is back (exit 0)" "$?" 0
ok "trees identical" diff -r -x .iwm-racy "$src" "$dst"
ok "it said the target stopped answering" grep -q "stopped answering" "$TMP/err1"
ok "... and that it answers again" grep -q "answers again after" "$TMP/err1"
is "--failed lists nothing" "$(records "$TMP/failed1.m")" 0
serve_stop

# 2. The agent dies for good: a summary line after --retry-for, no list.
find "$dst" -mindepth 1 -delete
ok "agent starts again" serve_start --root mail="$dst"
start=$(date +%s)
push_bg --rate 1M -j 2 --retry-for 3s --failed "$TMP/failed2.m" "$TMP/src.m" \
    >"$TMP/journal2" 2>"$TMP/err2"
pid=$PUSH_PID
wait_some
serve_kill9
wait "$pid"
rc=$?
took=$(($(date +%s) - start))
is "gives up with exit 69" "$rc" 69
ok "... after retrying about 3 s (took $took s)" test "$took" -ge 3 -a "$took" -le 20
is "one line says why it gave up" "$(grep -c 'did not answer for' "$TMP/err2")" 1
ok "no line per record" test "$(wc -l <"$TMP/err2")" -le 4
ok "no 'not sent' lines" sh -c '! grep -q "not sent$" "$1"' - "$TMP/err2"
is "--failed lists nothing: nothing failed, it was not sent" \
    "$(records "$TMP/failed2.m")" 0
ok "the journal lists only what arrived" sh -c '
	grep -v "^#" "$1" | cut -f7 | while IFS= read -r p; do
		test -e "$2/$p" || { echo "missing $p"; exit 1; }
	done' - "$TMP/journal2" "$dst"
ok "no partial file left under its name" sh -c '
	cd "$1" && for f in dom/*; do
		[ -e "$f" ] || continue
		cmp -s "$f" "$2/$f" || { echo "differs: $f"; exit 1; }
	done' - "$dst" "$src"

sed 's/^/# /' "$TMP/err2"
exits "--retry-for 5x is a usage error" 64 \
    iwm-push --target https://127.0.0.1:9/ --retry-for 5x /dev/null
done_testing
