#!/bin/sh
# Disk full on the target: a root on a small tmpfs.  Writes that do not
# fit are answered 507 and reported, nothing half-written appears under
# a final name, no temporary file is left, and once space is freed a
# rerun converges.  Needs root (mount); skipped otherwise.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

dst=$TMP/dst
mkdir -p "$dst"
mount -t tmpfs -o size=2m tmpfs "$dst" 2>/dev/null ||
    skip_all "cannot mount a tmpfs here"
T_CLEANUP='serve_stop; umount "$dst" 2>/dev/null'
src=$TMP/src
i=0
while [ $i -lt 12 ]; do
	mkdir -p "$src/dom/u$((i % 2))"
	head -c 300000 /dev/urandom >"$src/dom/u$((i % 2))/$i.imap"
	i=$((i + 1))
done
head -c 1500000 /dev/urandom >"$src/dom/big.dat"
ok "agent starts on a 2 MB root" serve_start --root mail="$dst"
T_CLEANUP='serve_stop; umount "$dst" 2>/dev/null'
pass "$src" --failed "$TMP/failed"
rc=$?
ok "the pass reports failures (exit $rc)" test "$rc" -ne 0
ok "the journal or the messages say 507" grep -q 507 "$TMP/push.err" \
    "$TMP/failed" "$TMP/journal"
ok "the failed files are listed" test "$(records "$TMP/failed")" -gt 0
: >"$TMP/partial"
(cd "$dst" && find . -type f ! -name '.iwm-tmp-*' ! -name .iwm-racy -print) |
    while read -r f; do
	cmp -s "$dst/$f" "$src/$f" || echo "$f" >>"$TMP/partial"
done
ok "nothing half-written under a final name" test ! -s "$TMP/partial"
ok "no temporary file left" no_temps "$dst"
mount -o remount,size=20m "$dst"
ok "after space is freed a rerun converges" pass "$src"
ok "byte for byte" diff -r -x .iwm-racy "$src" "$dst"
ok "no temporary file left" no_temps "$dst"
serve_stop
umount "$dst"
# shellcheck disable=SC2034 # read by tests/lib.sh
T_CLEANUP=
done_testing
