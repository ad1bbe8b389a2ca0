#!/bin/sh
# kill -9 of iwm-push, and of iwm-serve, in the middle of a copy: after
# a restart the same pass converges to an identical tree and no
# unfinished file remains, under its name or a temporary one.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$dst"
i=0
while [ $i -lt 40 ]; do
	mkdir -p "$src/dom/u$((i % 4))/INBOX"
	head -c 65536 /dev/urandom >"$src/dom/u$((i % 4))/INBOX/$i.imap"
	i=$((i + 1))
done
head -c 6291456 /dev/urandom >"$src/dom/big.dat"
ok "agent starts" serve_start --root mail="$dst"

# A slow push (1 MiB/s), killed after a second.
iwm-scan --root mail="$src" >"$TMP/src.m"
push_bg --rate 1M -j 2 "$TMP/src.m" >/dev/null 2>&1
pid=$PUSH_PID
n=0
while [ -z "$(find "$dst" -type f ! -name '.iwm-tmp-*' -print)" ] &&
    [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
sleep 0.2
kill -9 "$pid"
wait "$pid" 2>/dev/null
sleep 0.3
ok "push killed mid-copy: something was copied" test -n "$(find "$dst" -type f -print)"
ok "push killed: the agent removed its temp files" no_temps "$dst"
ok "re-run converges" pass "$src"
ok "identical" diff -r -x .iwm-racy "$src" "$dst"
ok "mtimes identical" same_mtimes "$src" "$dst"

# Now kill the agent during a large upload: nothing of it is left, and
# nothing needs sweeping, since an upload has no name before it is whole.
find "$dst" -mindepth 1 -delete	# the agent holds the root open
# agent_killed DST: kill -9 the agent once an upload is under way.
agent_killed() {
	push_bg --rate 1M -j 1 --retries 0 --retry-for 0 "$TMP/src.m" \
	    >/dev/null 2>"$TMP/err"
	pid=$PUSH_PID
	wait_upload "$1"
	ak_up=$?
	sleep 0.2
	serve_kill9
	wait "$pid"
	rc=$?
	test "$ak_up" -eq 0
}
ok "the agent is killed during an upload" agent_killed "$dst"
ok "push fails when the agent dies (exit $rc)" test "$rc" -ge 64
is "no temporary name was made" "$(temp_names "$dst")" 0
# every_file_whole: each file on the target is its source's, whole.
every_file_whole() {
	find "$dst" -type f ! -name .iwm-racy | while IFS= read -r f; do
		cmp -s "$f" "$src/${f#"$dst"/}" || exit 1
	done
}
ok "no unfinished file under its name" every_file_whole
ok "agent restarts" serve_start --root mail="$dst"
ok "re-run converges" pass "$src"
ok "identical" diff -r -x .iwm-racy "$src" "$dst"

# The same with temporary names (--temp-names, as on NFS): the restart
# sweeps what the killed agent left.
find "$dst" -mindepth 1 -delete
serve_stop
ok "agent starts with --temp-names" serve_start --root mail="$dst" --temp-names
ok "the agent is killed during an upload" agent_killed "$dst"
ok "the agent died with an upload under a temp name" \
    test "$(temp_names "$dst")" -gt 0
ok "agent restarts" serve_start --root mail="$dst"
ok "restart swept the temp files" no_temps "$dst"
ok "the sweep is logged" grep -q "removed 1 unfinished upload" "$TMP/serve.log"
ok "re-run converges" pass "$src"
ok "identical" diff -r -x .iwm-racy "$src" "$dst"
ok "mtimes identical" same_mtimes "$src" "$dst"
ok "no temp files" no_temps "$dst"
done_testing
