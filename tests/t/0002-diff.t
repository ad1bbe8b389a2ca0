#!/bin/sh
# iwm-diff: one-pass merge of two sorted manifests; scope-limited deletes.
. "$(dirname "$0")/../lib.sh"

T='	'
mk_partial() {
	# mk_partial FILE HEADER-WORDS RECORD...: a manifest without its end
	f=$1
	printf '#iwm-manifest 1%s\n' "${2:+ $2}" >"$f"
	shift 2
	for r in "$@"; do
		printf '%s\n' "$r" >>"$f"
	done
}
mk() {
	# mk FILE HEADER-WORDS RECORD...: a complete manifest
	mk_partial "$@"
	echo '#iwm-end' >>"$1"
}
rec() {
	# rec TYPE SIZE MTIME ROOT PATH
	printf '.%s%s%s%s%s%s%s644%s%s%s%s%s-' "$T" "$1" "$T" "$2" "$T" "$3" "$T" "$T" "$4" "$T" "$5" "$T"
}

mk "$TMP/src" "scope=mail:a.example/" \
    "$(rec d 0 5.0 mail a.example)" \
    "$(rec f 10 100.0 mail a.example/changed-mtime)" \
    "$(rec f 10 100.0 mail a.example/changed-size)" \
    "$(rec f 10 100.0 mail a.example/new)" \
    "$(rec f 10 100.5 mail a.example/nsec-only)" \
    "$(rec f 10 100.0 mail a.example/same)" \
    "$(rec f 10 102.0 mail a.example/window)"
mk "$TMP/tgt" "" \
    "$(rec f 10 100.0 logs not-scanned-root)" \
    "$(rec d 0 5.0 mail a.example)" \
    "$(rec f 10 200.0 mail a.example/changed-mtime)" \
    "$(rec f 11 100.0 mail a.example/changed-size)" \
    "$(rec f 10 100.0 mail a.example/deleted)" \
    "$(rec d 0 1.0 mail a.example/deleted-dir)" \
    "$(rec f 10 100.1 mail a.example/nsec-only)" \
    "$(rec f 10 100.0 mail a.example/same)" \
    "$(rec f 10 100.0 mail a.example/window)" \
    "$(rec f 10 100.0 mail b.example/other-domain)" \
    "$(rec f 10 100.0 mail zz-outside)"

iwm-diff "$TMP/src" "$TMP/tgt" >"$TMP/out"
is "exit 0 by default when they differ and the records are written" "$?" 0
exits "--exit-code: exit 1 when they differ" 1 iwm-diff --exit-code "$TMP/src" "$TMP/tgt"
ok "a pass under set -o pipefail succeeds (dash has no pipefail: bash)" \
    bash -c 'set -o pipefail; iwm-diff - "$2" <"$1" | cat >/dev/null' - "$TMP/src" "$TMP/tgt"
ops() { grep -v '^#' "$1" | cut -f1,7 | tr '\t' ' ' | tr '\n' ';'; }
is "new, changed size, changed mtime (nanoseconds too), window (default 0 s)" "$(ops "$TMP/out")" \
    "~ a.example/changed-mtime;~ a.example/changed-size;+ a.example/new;~ a.example/nsec-only;~ a.example/window;"
ok "the header carries the source's scope" grep -qx '#iwm-manifest 1 scope=mail:a.example/' "$TMP/out"
ok "records carry the source's fields" grep -q "^+${T}f${T}10${T}100.000000000${T}644${T}mail${T}a.example/new${T}-\$" "$TMP/out"

iwm-diff --modify-window 2 "$TMP/src" "$TMP/tgt" >"$TMP/out"
is "--modify-window 2 accepts a 2 s difference" "$(ops "$TMP/out")" \
    "~ a.example/changed-mtime;~ a.example/changed-size;+ a.example/new;"

iwm-diff --delete "$TMP/src" "$TMP/tgt" >"$TMP/out"
is "--delete: only inside the source's scope" "$(ops "$TMP/out")" \
    "~ a.example/changed-mtime;~ a.example/changed-size;+ a.example/new;~ a.example/nsec-only;~ a.example/window;- a.example/deleted;- a.example/deleted-dir;"
ok "--delete: the deletions follow one #iwm-deletions line" sh -c \
    '[ "$(grep -c "^#iwm-deletions\$" "$1")" = 1 ] &&
     sed -n "/^#iwm-deletions\$/,\$p" "$1" | grep -v "^#" | cut -f1 | sort -u | grep -qx -- -' - "$TMP/out"
ok "... and the output is a valid manifest (two sorted runs)" \
    sh -c 'iwm-diff -a "$1" "$1" >/dev/null' - "$TMP/out"
ok "deletions carry no SOURCE" grep -q "^-${T}f${T}10${T}100.000000000${T}644${T}mail${T}a.example/deleted${T}-\$" "$TMP/out"
ok "never another domain" sh -c '! grep -q b.example "$1"' - "$TMP/out"
ok "never a root that was not scanned" sh -c '! grep -q not-scanned-root "$1"' - "$TMP/out"

iwm-diff -a "$TMP/src" "$TMP/tgt" >"$TMP/out"
ok "-a prints unchanged files and directories" sh -c \
    'grep -q "^=	d	0	5.000000000	644	mail	a.example	-" "$1" && grep -q "^=.*a.example/same" "$1"' - "$TMP/out"

mk "$TMP/noscope" "" "$(rec f 10 100.0 mail a.example/same)"
iwm-diff --delete "$TMP/noscope" "$TMP/tgt" >"$TMP/out" 2>"$TMP/err"
ok "no scope declared: nothing is deleted, and it says so" sh -c \
    '! grep -q "^-" "$1" && grep -q "declares no scope" "$2"' - "$TMP/out" "$TMP/err"

mk "$TMP/rootscope" "scope=logs" "$(rec f 1 1.0 logs x)"
iwm-diff --delete "$TMP/rootscope" "$TMP/tgt" >"$TMP/out"
is "a root-filtered source deletes only in its root" "$(ops "$TMP/out")" \
    "+ x;- not-scanned-root;"

mk "$TMP/same" "scope=mail:a.example/" "$(rec f 10 100.0 mail a.example/same)"
mk "$TMP/same2" "" "$(rec f 10 100.0 mail a.example/same)" "$(rec f 1 1.0 mail b.example/x)"
exits "--exit-code: exit 0 when equal (out-of-scope extras do not count)" 0 iwm-diff --exit-code "$TMP/same" "$TMP/same2"
exits "--exit-code: exit 1 when the target has extra files in scope" 1 iwm-diff --exit-code "$TMP/same2" "$TMP/same"

mk "$TMP/unsorted" "" "$(rec f 1 1.0 mail b)" "$(rec f 1 1.0 mail a)"
iwm-diff "$TMP/unsorted" "$TMP/same" >/dev/null 2>"$TMP/err"
is "out-of-order input: exit 65" "$?" 65
ok "... naming FILE:LINE" grep -q "unsorted:3: out of order" "$TMP/err"
iwm-diff "$TMP/same" "$TMP/unsorted" >/dev/null 2>"$TMP/err"
is "out-of-order target: exit 65" "$?" 65
ok "the stdin name is '-'" sh -c 'iwm-diff - "$1" <"$2" 2>&1 >/dev/null | grep -q "^iwm-diff: -:3: out of order"' - "$TMP/same" "$TMP/unsorted"
exits "usage error: one argument" 64 iwm-diff "$TMP/same"
exits "usage error: both standard input" 64 iwm-diff - -
exits "usage error: bad --modify-window" 64 iwm-diff --modify-window x "$TMP/same" "$TMP/same"
exits "missing file: exit 66" 66 iwm-diff "$TMP/nope" "$TMP/same"
ok "a full disk fails the pipeline" sh -c '! iwm-diff -a "$1" "$1" >/dev/full 2>/dev/null' - "$TMP/same"

# An incomplete source (a failed or cut-off scan) never deletes.
mk_partial "$TMP/cut" "scope=mail:a.example/" "$(rec d 0 5.0 mail a.example)" \
    "$(rec f 10 100.0 mail a.example/new)"
iwm-diff --delete "$TMP/cut" "$TMP/tgt" >"$TMP/out" 2>"$TMP/err"
is "incomplete source: additions still listed, no deletions" "$(ops "$TMP/out")" "+ a.example/new;"
ok "... and it says why" grep -q "is incomplete (no #iwm-end line" "$TMP/err"
ok "... and its output is not marked complete" sh -c '! grep -q "^#iwm-end" "$1"' - "$TMP/out"
iwm-diff --delete "$TMP/src" "$TMP/tgt" >"$TMP/out"
ok "complete source: output ends with #iwm-end" sh -c '[ "$(tail -n 1 "$1")" = "#iwm-end" ]' - "$TMP/out"
printf '#iwm-manifest 1\n#iwm-end\n.\tf\t1\t1\t644\tmail\tx\t-\n' >"$TMP/after"
exits "a record after #iwm-end is refused" 65 iwm-diff "$TMP/after" "$TMP/same"
exits "--help: exit 0" 0 iwm-diff --help

# A component-order merge: "a/b" sorts before "a-b" and "a.b".
mk "$TMP/o1" "scope=data" "$(rec d 0 1.0 data a)" "$(rec f 1 1.0 data a/b)" "$(rec f 1 1.0 data a-b)" "$(rec f 1 1.0 data a.b)"
mk "$TMP/o2" "" "$(rec d 0 1.0 data a)" "$(rec f 1 1.0 data a-b)"
is "merge follows component order" "$(iwm-diff "$TMP/o1" "$TMP/o2" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" "+ a/b;+ a.b;"

# What the target stores, from its listing's header: granularity, range,
# modes.  The source's mtime is compared as the target would store it.
mk "$TMP/fs-s" "scope=mail" "$(rec f 1 100.75 mail ns)" \
    "$(rec f 1 101.5 mail odd)" "$(rec f 1 253402300800.5 mail far)"
mk "$TMP/fs-sec" "mtime-res=1000000000" "$(rec f 1 100.0 mail ns)" \
    "$(rec f 1 101.0 mail odd)" "$(rec f 1 253402300800.0 mail far)"
is "whole seconds on a target that stores seconds" \
    "$(iwm-diff "$TMP/fs-s" "$TMP/fs-sec" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" ""
mk "$TMP/fs-fat" "mtime-res=2000000000" "$(rec f 1 100.0 mail ns)" \
    "$(rec f 1 100.0 mail odd)" "$(rec f 1 253402300800.0 mail far)"
is "two seconds on FAT" \
    "$(iwm-diff "$TMP/fs-s" "$TMP/fs-fat" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" ""
mk "$TMP/fs-ns" "mtime-res=1 mtime-max=16299260425" "$(rec f 1 100.75 mail ns)" \
    "$(rec f 1 101.0 mail odd)" "$(rec f 1 16299260425.0 mail far)"
is "nanoseconds, and a clamped mtime taken as such" \
    "$(iwm-diff "$TMP/fs-s" "$TMP/fs-ns" 2>"$TMP/err" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" "~ odd;"
mk "$TMP/m-s" "scope=mail" "$(rec f 1 1.0 mail x)"
sed 's/	644	/	600	/' "$TMP/m-s" >"$TMP/m-t"
is "a mode change is a difference" \
    "$(iwm-diff "$TMP/m-s" "$TMP/m-t" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" "~ x;"
sed 's/^#iwm-manifest 1.*/#iwm-manifest 1 modes=0/' "$TMP/m-t" >"$TMP/m-t0"
is "... not on a target that keeps no modes" \
    "$(iwm-diff "$TMP/m-s" "$TMP/m-t0" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" ""
printf '.\tf\t1\t1.000000000\t644\tmail\tx\t-\tracy\n' >"$TMP/racy-t"
mk "$TMP/racy-t2" "" "$(cat "$TMP/racy-t")"
is "a racy copy is a difference" \
    "$(iwm-diff "$TMP/m-s" "$TMP/racy-t2" | grep -v '^#' | cut -f1,7 | tr '\t\n' ' ;')" "~ x;"
# --delete streams: the creations come out while the source is still
# being written (a scan in progress); only the deletions wait for its end.
mkfifo "$TMP/fifo"
mk "$TMP/stgt" "" "$(rec f 1 1.0 mail a.example/0gone)"
{
	printf '#iwm-manifest 1 scope=mail:a.example/\n'
	rec f 1 1.0 mail a.example/a; echo
	rec f 1 1.0 mail a.example/b; echo
	sleep 3
	rec f 1 1.0 mail a.example/c; echo
	echo '#iwm-end'
} >"$TMP/fifo" &
feeder=$!
iwm-diff --delete "$TMP/fifo" "$TMP/stgt" >"$TMP/sout" &
differ=$!
sleep 1.5
is "--delete: creations are out before the source ends" "$(ops "$TMP/sout")" \
    "+ a.example/a;+ a.example/b;"
wait "$feeder"
wait "$differ"
is "... the deletion follows at the end" "$(ops "$TMP/sout")" \
    "+ a.example/a;+ a.example/b;+ a.example/c;- a.example/0gone;"
done_testing
