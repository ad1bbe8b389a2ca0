#!/bin/sh
# Fault injection, seeded (IWM_FAULT_SEED, default 13) and bounded:
# kill -9 of iwm-push or of iwm-serve at random moments of a copy and
# of a delta.  While the copy runs the target is sampled: a file under
# its final name is always a whole version (the old one or the new
# one), never a partial one.  After the kill no temporary file is left
# (once the agent has swept) and a rerun converges byte for byte.
# Last, a directory is swapped for a symbolic link in the middle of a
# push: nothing is written outside the root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

seed=${IWM_FAULT_SEED:-13}
echo "# seed $seed (IWM_FAULT_SEED)"
src=$TMP/src
dst=$TMP/dst
old=$TMP/old
mkdir -p "$dst" "$old"
i=0
while [ $i -lt 24 ]; do
	mkdir -p "$src/dom/u$((i % 3))/INBOX"
	head -c $((20000 + i * 3000)) /dev/urandom \
	    >"$src/dom/u$((i % 3))/INBOX/$i.imap"
	i=$((i + 1))
done
head -c 3000000 /dev/urandom >"$src/dom/big.dat"
ok "agent starts" serve_start --root mail="$dst"

# rnd N: the next pseudo-random number in [0, N) of the seeded series.
rnd_n=0
rnd() {
	rnd_n=$((rnd_n + 1))
	awk -v s="$seed" -v k="$rnd_n" -v n="$1" 'BEGIN {
		srand(s); for (i = 0; i < k; i++) r = rand(); print int(r * n) }'
}

# sample: every file under a final name in the target is a whole
# version: identical to the source's or to the previous one ($old).
sample() {
	(cd "$dst" && find . -type f ! -name '.iwm-tmp-*' ! -name .iwm-racy -print) |
	    while read -r f; do
		# One read of the file (it may be replaced meanwhile).
		cat "$dst/$f" >"$TMP/snap" 2>/dev/null || continue
		cmp -s "$TMP/snap" "$src/$f" && continue
		[ -f "$old/$f" ] && cmp -s "$TMP/snap" "$old/$f" && continue
		echo "partial: $f"
	done
}

trial=0
while [ $trial -lt 4 ]; do
	trial=$((trial + 1))
	victim="push"
	[ $((trial % 2)) -eq 0 ] && victim="serve"
	kind="copy"
	if [ $trial -gt 2 ]; then
		# A delta: the target holds the previous version of big.dat.
		kind="delta"
		pass "$src" >/dev/null 2>&1
		rm -rf "$old"
		cp -a "$src" "$old"
		printf 'changed %s' "$trial" | dd of="$src/dom/big.dat" bs=1 \
		    seek=$(( $(rnd 2000000) + 1000)) conv=notrunc 2>/dev/null
		touch -d "@$((1700000000 + trial))" "$src/dom/big.dat"
	else
		find "$dst" -mindepth 1 -delete
		rm -rf "$old"
		mkdir -p "$old"
	fi
	iwm-scan --root mail="$src" >"$TMP/src.m"
	tscan --roots mail >"$TMP/dst.m"
	iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
	push_bg --rate 2M -j 2 --retries 0 --retry-for 0 --delete "$TMP/diff.m" \
	    >/dev/null 2>&1
	pid=$PUSH_PID
	delay=$(( $(rnd 12) + 2 ))	# tenths of a second
	: >"$TMP/partial"
	n=0
	while [ $n -lt "$delay" ]; do
		sample >>"$TMP/partial"
		sleep 0.1
		n=$((n + 1))
	done
	if [ $victim = push ]; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		sleep 0.3
	else
		serve_kill9
		wait "$pid" 2>/dev/null
		serve_start --root mail="$dst"
	fi
	sample >>"$TMP/partial"
	ok "trial $trial ($kind, kill -9 $victim at ${delay}00 ms): \
no partial file under a final name" \
	    sh -c '! grep . "$1"' - "$TMP/partial"
	ok "trial $trial: no temporary file left" no_temps "$dst"
	ok "trial $trial: a rerun converges" pass "$src"
	ok "trial $trial: byte for byte" diff -r -x .iwm-racy "$src" "$dst"
done

# A directory swapped for a symbolic link while a push writes in it.
out=$TMP/outside
mkdir -p "$out"
find "$dst" -mindepth 1 -delete
i=0
while [ $i -lt 200 ]; do
	mkdir -p "$src/dom/sw"
	head -c 20000 /dev/urandom >"$src/dom/sw/$i"
	i=$((i + 1))
done
iwm-scan --root mail="$src" >"$TMP/src.m"
push_bg --rate 1M -j 1 --retries 0 --retry-for 0 "$TMP/src.m" >/dev/null 2>&1
pid=$PUSH_PID
n=0
while [ ! -f "$dst/dom/sw/3" ] && [ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
mv "$dst/dom/sw" "$dst/dom/sw.away"
ln -s "$out" "$dst/dom/sw"
wait "$pid"
ok "swapped for a symlink mid-push: nothing outside the root" \
    test -z "$(find "$out" -mindepth 1 -print)"
done_testing
