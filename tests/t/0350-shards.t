#!/bin/sh
# Scale-out by domain (examples/sharded-copy.md): libexec/iwm/shards
# splits a source of 9 domains into 4 balanced shards; the 4 shards,
# run at once (GNU parallel when installed, else background jobs), each
# with its own journal and failed list, copy mail and archive into a
# real iwm-serve over TLS; the target is identical to the one an
# unsharded pass makes, the summary adds up, and a second sharded pass
# sends nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
SHARDS=$TOP/libexec/iwm/shards

srv=$TMP/srv
iwsim create "$srv" --seed 11 --domains 9 --users 3 --folders 2 \
    --messages 4 --archivists 1 --externs 1 --shared 1 >/dev/null || exit 1
tool=$srv/tool.sh
mkdir -p "$TMP/one/mail" "$TMP/one/archive" "$TMP/four/mail" \
    "$TMP/four/archive" "$TMP/run"

# --- the split ----------------------------------------------------------
iwm-scan --tool "$tool" --roots mail,archive >"$TMP/all.m"
ok "split into 4" sh -c '"$1" split 4 "$2" >"$3" 2>"$4"' - "$SHARDS" \
    "$TMP/all.m" "$TMP/shards.tsv" "$TMP/split.err"
is "every domain in exactly one shard" \
    "$(cut -f4 "$TMP/shards.tsv" | sort | uniq -u | tr '\n' ' ')" \
    "$(awk -F '\t' '$6 == "mail" && $2 == "d" && $7 !~ /\// { print $7 }' "$TMP/all.m" | sort -u | tr '\n' ' ')"
is "4 shards, none empty" "$(cut -f1 "$TMP/shards.tsv" | sort -u | tr '\n' ' ')" "1 2 3 4 "
is "split from standard input: the same" \
    "$("$SHARDS" split 4 <"$TMP/all.m" 2>/dev/null)" "$(cat "$TMP/shards.tsv")"
ok "shard totals on standard error" grep -q '^shard 4: [0-9]* domains, [0-9]* bytes$' "$TMP/split.err"
# Longest-processing-time first: no shard above the ideal share by more
# than the largest domain.
ok "balanced: no shard above total/4 + the largest domain" awk -F '\t' '
	{ load[$1] += $2; t += $2; if ($2 > big) big = $2 }
	END { for (s in load) if (load[s] > t / 4 + big) exit 1 }' "$TMP/shards.tsv"
is "the same bytes as the manifest's files" \
    "$(awk -F '\t' '{ t += $2 } END { print t }' "$TMP/shards.tsv")" \
    "$(awk -F '\t' '!/^#/ && $2 == "f" { t += $3 } END { print t }' "$TMP/all.m")"
is "shard 1's options" "$("$SHARDS" domains 1 "$TMP/shards.tsv" | head -n 2 | tr '\n' ' ')" \
    "--domain $(awk -F '\t' '$1 == 1 { print $4; exit }' "$TMP/shards.tsv") "
exits "not a manifest: 65" 65 sh -c '"$1" split 4 </etc/hostname' - "$SHARDS"
exits "N of 0: 64" 64 "$SHARDS" split 0 "$TMP/all.m"

# --- one unsharded pass ---------------------------------------------------
ok "agent for the unsharded target" serve_start \
    --root mail="$TMP/one/mail" --root archive="$TMP/one/archive"
iwm-scan --tool "$tool" --roots mail,archive >"$TMP/src.m"
tscan --roots mail,archive >"$TMP/dst.m"
iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
push --delete "$TMP/diff.m" >"$TMP/journal.one"
is "unsharded pass" "$?" 0
serve_stop

# --- 4 shards at once -------------------------------------------------------
ok "agent for the sharded target" serve_start \
    --root mail="$TMP/four/mail" --root archive="$TMP/four/archive"
# One shard, as examples/sharded-copy.md runs it: its own listing of
# both sides, its own journal and failed list.
cat >"$TMP/shard.sh" <<'EOS'
#!/bin/sh
# shard.sh K: one shard's pass
k=$1
# shellcheck disable=SC2046 # one option or domain a line
set -- $("$SHARDS" domains "$k" "$RUN/shards.tsv")
iwm-scan --tool "$TOOL" --roots mail,archive "$@" >"$RUN/src.$k.m" &&
iwm-scan --target "$URL" --credentials "$CRED" --fingerprint "$FP" \
    --roots mail,archive "$@" >"$RUN/dst.$k.m" || exit 1
iwm-diff --delete "$RUN/src.$k.m" "$RUN/dst.$k.m" >"$RUN/diff.$k.m"
[ $? -le 1 ] || exit 1
iwm-push --target "$URL" --credentials "$CRED" --fingerprint "$FP" \
    --no-progress --delete --failed "$RUN/failed.$k.m" "$RUN/diff.$k.m" \
    >"$RUN/journal.$k.m" 2>"$RUN/push.$k.err"
EOS
cp "$TMP/shards.tsv" "$TMP/run/"
RUN=$TMP/run TOOL=$tool CRED=$TMP/cred
export SHARDS RUN TOOL CRED
run_shards() {
	if parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
		parallel -j 4 --joblog "$RUN/joblog" sh "$TMP/shard.sh" {} \
		    ::: 1 2 3 4
	else
		for k in 1 2 3 4; do
			sh "$TMP/shard.sh" "$k" &
		done
		rs_rc=0
		for k in 1 2 3 4; do
			wait %"$k" || rs_rc=1
		done
		return $rs_rc
	fi
}
ok "4 shards at once" run_shards
ok "one journal and one failed list per shard" sh -c '
	for k in 1 2 3 4; do
		test -s "$1/journal.$k.m" && test -e "$1/failed.$k.m" || exit 1
	done' - "$TMP/run"
ok "the sharded target is identical to the unsharded one (mail)" \
    diff -r "$TMP/one/mail" "$TMP/four/mail"
ok "... (archive)" diff -r "$TMP/one/archive" "$TMP/four/archive"
ok "... mtimes too" same_mtimes "$TMP/one" "$TMP/four"
is "... and hold every file of the source's manifest" \
    "$(find "$TMP/four" -type f | wc -l)" \
    "$(grep -c '^\.	f	' "$TMP/all.m")"
ok "one summary" sh -c '"$1" summary "$2" >"$3"' - "$SHARDS" "$TMP/run" "$TMP/summary"
is "summary: records of the 4 journals, none failed" \
    "$(awk -F '\t' '$1 == "total" { print $2, $4 }' "$TMP/summary")" \
    "$(cat "$TMP"/run/journal.?.m | grep -vc '^#') 0"
is "summary: as many records as the unsharded journal" \
    "$(awk -F '\t' '$1 == "total" { print $2 }' "$TMP/summary")" \
    "$(grep -vc '^#' "$TMP/journal.one")"
is "summary: one line a shard" "$(grep -c '^[1-4]	' "$TMP/summary")" 4

# --- the next sharded pass: nothing to send; a lost journal is told -----
ok "second sharded pass" run_shards
is "second pass: nothing sent" \
    "$("$SHARDS" summary "$TMP/run" | awk -F '\t' '$1 == "total" { print $2, $4 }')" "0 0"
: >"$TMP/run/journal.3.m"
exits "a shard's lost journal: summary exits 1" 1 sh -c \
    '"$1" summary "$2" 2>"$3"' - "$SHARDS" "$TMP/run" "$TMP/sum.err"
ok "... and names it" grep -q 'journal.3.m: incomplete' "$TMP/sum.err"
done_testing
