#!/bin/sh
# Password guessing does not stall the agent: failed logins are checked
# and delayed off the worker threads, an address that keeps failing is
# held back with a growing back-off (its guesses are not even checked),
# failures are logged without the password, and a request without
# credentials is answered at once (iwm-protocol(7)).  Timings are
# measured on 127.0.0.1 (guessers on 127.0.0.2) and asserted loosely:
# before, 16 guessers raised a client's median answer time from about
# 0.05 s to 3 s with 4 worker threads.
# set -- $(curl ... -w '%{http_code} %{time_total}') splits on purpose.
# shellcheck disable=SC2046
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

plan 13

dst=$TMP/dst
mkdir -p "$dst"
ok "agent starts (4 worker threads)" serve_start --root mail="$dst" \
    --threads 4 --max-per-address 32

# get [CURL ARGS]: status and seconds of one GET /v1/info.
get() {
	curl -sk --max-time 20 -o /dev/null -w '%{http_code} %{time_total}\n' \
	    "$@" "$URL/v1/info"
}

set -- $(get)
is "no credentials: 401" "$1" 401
ok "no credentials: answered at once ($2 s)" \
    awk -v t="$2" 'BEGIN { exit !(t < 0.5) }'
set -- $(get -u alice:wrong-1)
is "wrong password: 401" "$1" 401
ok "wrong password: answered after the delay ($2 s)" \
    awk -v t="$2" 'BEGIN { exit !(t >= 0.9) }'
set -- $(get -u alice:secret-pw)
is "right password: 200" "$1" 200

# 16 guessers on another address, each a series of requests.
pids=
g=0
while [ $g -lt 16 ]; do
	curl -sk --max-time 30 --interface 127.0.0.2 -u "alice:guess-$g" \
	    --rate 20/s -o /dev/null "$URL/v1/info?n=[1-200]" &
	pids="$pids $!"
	g=$((g + 1))
done
sleep 1
: >"$TMP/times"
i=0
while [ $i -lt 9 ]; do
	get -u alice:secret-pw >>"$TMP/times"
	i=$((i + 1))
done
# The guessers' address, once held back for 4 s, cannot log in even
# with the right password; another address can.
i=0
while [ $i -lt 150 ] && ! grep -q '127.0.0.2: .*5 in a row' "$TMP/serve.log"
do
	sleep 0.1
	i=$((i + 1))
done
set -- $(get --interface 127.0.0.2 -u alice:secret-pw)
blocked=$1
set -- $(get --interface 127.0.0.3 -u alice:secret-pw)
other=$1
sleep 2
# shellcheck disable=SC2086 # a list of pids
kill $pids 2>/dev/null
# shellcheck disable=SC2086
wait $pids 2>/dev/null

sed 's/^/# /' "$TMP/times"
is "the client got all its answers during the attack" \
    "$(grep -c '^200 ' "$TMP/times")" 9
med=$(awk '{ print $2 }' "$TMP/times" | sort -n | sed -n 5p)
ok "the client's median answer time stays low ($med s)" \
    awk -v t="$med" 'BEGIN { exit !(t < 1.0) }'
checked=$(grep -c '^iwm-serve: 127.0.0.2: login failed' "$TMP/serve.log")
ok "guesses checked from the guessers' address are few ($checked)" \
    test "$checked" -le 12
ok "the back-off is logged" grep -q '127.0.0.2: login failed.*in a row' \
    "$TMP/serve.log"
ok "no password in the log" sh -c "! grep -q 'guess-\|secret-pw' \
    '$TMP/serve.log'"
is "the held-back address is refused" "$blocked" 401
is "another address logs in" "$other" 200
grep '127.0.0.2' "$TMP/serve.log" | head -n 8 | sed 's/^/# /'
