#!/bin/sh
# What the agent does with what it finds or is sent: no setuid/setgid
# file is ever created; a FIFO in a root neither hangs a request nor
# keeps SIGTERM from stopping the agent; an oversized body or batch
# line gets 413 (not a dropped connection) and iwm-push fits its
# batches to the agent's --max-body; a root removed and made again is
# reopened (and a root gone is named as such); a file whose directory
# is renamed away in the middle of a batch lands at its path.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

plan 31

dst=$TMP/dst
mkdir -p "$dst"
ok "agent starts (--max-body 100K)" serve_start --root mail="$dst" \
    --max-body 100K
T=$(printf '\t')

# req METHOD PATH [CURL ARGS]: status, the answer in $TMP/body.
req() {
	r_m=$1
	r_p=$2
	shift 2
	curl -sk --max-time 10 -u alice:secret-pw -X "$r_m" -o "$TMP/body" \
	    -w '%{http_code}' "$@" "$URL$r_p"
}
mode_of() {
	stat -c %a "$1"
}

# setuid / setgid
is "PUT with mode 6777: 200" "$(req PUT /v1/file/mail/suid -H 'X-Iwm-Size: 2' \
    -H 'X-Iwm-Mtime: 1700000000.000000000' -H 'X-Iwm-Mode: 6777' --data-binary ab)" 200
ok "the answer says the bits were removed" grep -q 'setuid/setgid bits removed' \
    "$TMP/body"
is "the file is 0777, without setuid/setgid" "$(mode_of "$dst/suid")" 777
printf '+\tf\t1\t1700000000.000000000\t4755\tmail\tb/suid2\t-\nx' >"$TMP/batch"
is "a batch record with mode 4755: 200" "$(req POST /v1/batch \
    --data-binary @"$TMP/batch")" 200
ok "its result says the bits were removed" grep -q "^200${T}setuid" "$TMP/body"
is "the file is 0755" "$(mode_of "$dst/b/suid2")" 755
ok "the agent logs it" grep -q 'mail/suid: setuid/setgid bits removed' \
    "$TMP/serve.log"

# FIFOs
mkfifo "$dst/fifo"
is "signature of a FIFO: 409" "$(req GET /v1/sig/mail/fifo)" 409
is "delta against a FIFO: 409" "$(req POST /v1/delta/mail/fifo \
    -H 'X-Iwm-Size: 1' -H 'X-Iwm-Mtime: 1.000000000' -H 'X-Iwm-Mode: 644' \
    -H 'X-Iwm-Base-Size: 0' -H 'X-Iwm-Base-Mtime: 1.000000000' --data-binary x)" 409
ok "the listing still completes" sh -c "curl -sk --max-time 10 \
    -u alice:secret-pw '$URL/v1/list' | grep -q '^#iwm-end'"
kill "$SERVE_PID"
n=0
while kill -0 "$SERVE_PID" 2>/dev/null && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
if kill -0 "$SERVE_PID" 2>/dev/null; then
	stopped=no
	serve_kill9
else
	stopped=yes
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
fi
is "SIGTERM stops the agent" "$stopped" yes
rm -f "$dst/fifo"
ok "agent restarts" serve_start --root mail="$dst" --max-body 100K

# 413
ok "/v1/info advertises max-body" sh -c "curl -sk -u alice:secret-pw \
    '$URL/v1/info' | grep -q '^max-body${T}102400\$'"
yes '#comment' | head -c 200000 >"$TMP/big"
is "a body over --max-body with Content-Length: 413" \
    "$(req POST /v1/batch --data-binary @"$TMP/big")" 413
is "a chunked body over --max-body: 413" "$(req POST /v1/batch -T - \
    <"$TMP/big")" 413
ok "the answer names the limit" grep -q 'max-body 102400' "$TMP/body"
{ printf '+\tf\t1\t1.000000000\t644\tmail\t'; head -c 70000 /dev/zero | tr '\0' a
    printf '\t-\nx'; } >"$TMP/longline"
is "a batch record line over 64 KiB: 413" "$(req POST /v1/batch -T - \
    <"$TMP/longline")" 413
mkdir -p "$TMP/src/many"
i=0
while [ $i -lt 40 ]; do
	head -c 9000 /dev/urandom >"$TMP/src/many/f$i"
	i=$((i + 1))
done
head -c 80000 /dev/urandom >"$TMP/src/many/big"
ok "iwm-push fits its batches to the agent's --max-body" pass "$TMP/src"
ok "every file arrived" diff -r -x .iwm-racy "$TMP/src/many" "$dst/many"

# A root removed and made again; a root removed.
rm -rf "$dst"
mkdir "$dst"
echo new >"$TMP/src/after"
ok "a push after the root was made again" pass "$TMP/src"
ok "the file is in the new directory" cmp "$TMP/src/after" "$dst/after"
ok "the agent logs the reopening" grep -q 'root mail: .* made again: reopened' \
    "$TMP/serve.log"
rm -rf "$dst"
is "with the root's directory gone: 503" "$(req PUT /v1/file/mail/x \
    -H 'X-Iwm-Size: 1' -H 'X-Iwm-Mtime: 1.000000000' -H 'X-Iwm-Mode: 644' \
    --data-binary x)" 503
ok "saying so" grep -q "root mail: its directory $dst was removed" "$TMP/body"
mkdir "$dst"

# A directory renamed away between two records of one batch, with
# files written without a name (the default) and under temporary names.
renamed_away() {
	rm -rf "$dst/d" "$dst/e" "$TMP/feed"
	mkfifo "$TMP/feed"
	curl -sk --max-time 20 -u alice:secret-pw -X POST -T - \
	    -o "$TMP/bres" "$URL/v1/batch" <"$TMP/feed" &
	cpid=$!
	exec 3>"$TMP/feed"
	printf '+\tf\t1\t1.000000000\t644\tmail\td/a\t-\na' >&3
	n=0
	while [ ! -f "$dst/d/a" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	mv "$dst/d" "$dst/e"
	printf '+\tf\t1\t1.000000000\t644\tmail\td/b\t-\nb' >&3
	exec 3>&-
	wait "$cpid"
}
renamed_away
ok "the second file is at its path" test -f "$dst/d/b"
ok "not in the directory renamed away" test ! -e "$dst/e/b"
serve_stop
ok "agent starts with --temp-names" serve_start --root mail="$dst" \
    --max-body 100K --temp-names
renamed_away
ok "with temporary names: the second file is at its path" test -f "$dst/d/b"
ok "nor in the directory renamed away" test ! -e "$dst/e/b"
is "no temporary name left there" "$(temp_names "$dst/e")" 0
