#!/bin/sh
# iwm-push's progress line moves inside a large file and inside a batch
# of small ones (bytes sent so far, of the total from the diff, rate,
# ETA), at least once a second; without --progress and off a terminal
# there is none.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
mkdir -p "$src/big" "$src/small" "$dst"
head -c 3145728 /dev/urandom >"$src/big/f"
i=0
while [ $i -lt 200 ]; do
	head -c 10000 /dev/urandom >"$src/small/m$i"
	i=$((i + 1))
done
touch -d '2021-01-01' "$src/big/f" "$src/small"/*
ok "agent starts" serve_start --root mail="$dst"

# lines FILE: the progress lines drawn, one a line.
lines() {
	tr '\r' '\n' <"$1" | grep '^iwm-push: .* files, '
}
# sizes FILE: the distinct byte counts shown before the end.
sizes() {
	lines "$1" | sed -n 's/^iwm-push: [0-9]* files, \([0-9.]* [kMG]*B\) .*/\1/p' |
	    uniq | wc -l | tr -d ' '
}

iwm-scan --root mail="$src" | grep -v "${TAB:-	}small" >"$TMP/big.m"
push --progress --rate 1M "$TMP/big.m" >/dev/null 2>"$TMP/big.err"
n=$(sizes "$TMP/big.err")
ok "one 3 MiB file at 1 MiB/s: the bytes shown move inside it ($n values)" \
    test "$n" -ge 4
ok "... of the total from the diff, with a percentage" \
    grep -q ' of 3.1 MB ([0-9]*%)' "$TMP/big.err"
ok "... and an ETA" grep -q 'ETA [0-9]* s' "$TMP/big.err"
is "... zero files done while the file is in flight" \
    "$(lines "$TMP/big.err" | head -n 2 | grep -c '^iwm-push: 0 files')" 2

find "$dst" -mindepth 1 -delete
iwm-scan --root mail="$src" | grep -v "${TAB:-	}big" >"$TMP/small.m"
push --progress --rate 1M "$TMP/small.m" >/dev/null 2>"$TMP/small.err"
n=$(sizes "$TMP/small.err")
ok "200 small files (batches) at 1 MiB/s: the bytes move ($n values)" \
    test "$n" -ge 3

find "$dst" -mindepth 1 -delete
push --rate 4M "$TMP/small.m" >/dev/null 2>"$TMP/quiet.err"
is "off a terminal, without --progress: nothing on standard error" \
    "$(cat "$TMP/quiet.err")" ""
done_testing
