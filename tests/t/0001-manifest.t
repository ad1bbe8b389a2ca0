#!/bin/sh
# Manifest v1: hostile names survive a scan/read/write round trip, and
# every kind of malformed line is rejected with FILE:LINE.
. "$(dirname "$0")/../lib.sh"

src=$TMP/src
mkdir -p "$src"
# Hostile names: spaces, tab, newline, CR, backslashes, leading dashes,
# UTF-8, invalid UTF-8, a 255-byte name, a deep tree, empty files/dirs.
mkdir -p "$src/with space" "$src/-leading-dash" "$src/empty dir"
printf 'x' >"$src/with space/a file"
printf 'x' >"$src/tab	name"
printf 'x' >"$src/new
line"
printf 'x' >"$src/cr$(printf '\r')name"
printf 'x' >"$src/back\\slash\\\\"
printf 'x' >"$src/-rf"
printf 'x' >"$src/--"
printf 'x' >"$src/héllo wörld ✉"
printf 'x' >"$src/$(printf 'bad\377\376utf8')"
: >"$src/empty file"
long=$(printf '%0255d' 0 | tr 0 L)
printf 'x' >"$src/$long"
deep=$src
i=0
while [ $i -lt 40 ]; do
	deep=$deep/d$i
	i=$((i + 1))
done
mkdir -p "$deep"
printf 'deep' >"$deep/leaf"
mkdir -p "$src/a/b" "$src/a.b" "$src/a-b"
printf 'x' >"$src/a/b/c"

ok "scan of hostile names" sh -c 'iwm-scan --root data="$1" >"$2"' - "$src" "$TMP/m1"
n=$(grep -vc '^#' "$TMP/m1")
is "every entry listed once" "$n" "$(find "$src" -mindepth 1 -printf x | wc -c)"
ok "round trip through the reader and writer" sh -c \
    'iwm-diff -a "$1" "$1" | sed "s/^=/./" | diff - "$1"' - "$TMP/m1"
ok "escapes: tab, newline and CR never appear raw in a PATH" sh -c \
    'grep -q "tab\\\\tname" "$1" && grep -q "new\\\\nline" "$1" && grep -q "cr\\\\rname" "$1" && grep -q "back\\\\\\\\slash" "$1"' - "$TMP/m1"
ok "sizes, modes and mtimes match stat" sh -c '
	grep -v "^#" "$1" | awk -F "\t" "\$2==\"f\" && \$7 !~ /\\\\/ {print \$3, \$4, \$5, \$8}" |
	while read -r size mtime mode path; do
		s=$(stat -c "%s %.9Y %a" "$path")
		[ "$s" = "$size $mtime $mode" ] || { echo "$path: $s vs $size $mtime $mode"; exit 1; }
	done' - "$TMP/m1"
ok "order: a, a/b, a/b/c, a-b, a.b" sh -c \
    'grep -v "^#" "$1" | cut -f7 | grep -E "^a(\$|/|-b|\\.b)" | tr "\n" " " | grep -qx "a a/b a/b/c a-b a.b "' - "$TMP/m1"
ok "a 255-byte name is kept" grep -q "$long" "$TMP/m1"
ok "the deep leaf is listed" grep -q "d39/leaf" "$TMP/m1"
ok "the empty directory and empty file are listed" sh -c \
    'grep -q "	d	.*	empty dir	" "$1" && grep -q "	f	0	.*	empty file	" "$1"' - "$TMP/m1"

# Malformed input: each line below must be refused naming FILE:LINE.
bad() {
	T_NUM=$((T_NUM + 1))
	printf '#iwm-manifest 1\n.\td\t0\t1.000000000\t755\tdata\ta\t-\n%s\n' "$2" >"$TMP/bad"
	if iwm-diff "$TMP/bad" "$TMP/m1" >/dev/null 2>"$TMP/err"; then
		echo "not ok $T_NUM - rejects $1 (accepted)"
		T_FAILED=$((T_FAILED + 1))
	elif [ $? -ne 65 ] || ! grep -q "$TMP/bad:3: " "$TMP/err"; then
		echo "not ok $T_NUM - rejects $1 (wrong status or message)"
		sed 's/^/# /' "$TMP/err"
		T_FAILED=$((T_FAILED + 1))
	else
		echo "ok $T_NUM - rejects $1"
	fi
}
T='	'
bad "too few fields" ".${T}f${T}1${T}1.0${T}644${T}data${T}b"
bad "too many fields" ".${T}f${T}1${T}1.0${T}644${T}data${T}b${T}-${T}n${T}x"
bad "an unknown OP" "?${T}f${T}1${T}1.0${T}644${T}data${T}b${T}-"
bad "an unknown TYPE" ".${T}x${T}1${T}1.0${T}644${T}data${T}b${T}-"
bad "a negative SIZE" ".${T}f${T}-1${T}1.0${T}644${T}data${T}b${T}-"
bad "a SIZE with letters" ".${T}f${T}12k${T}1.0${T}644${T}data${T}b${T}-"
bad "a bad MTIME" ".${T}f${T}1${T}1.x${T}644${T}data${T}b${T}-"
bad "an MTIME with 10 decimals" ".${T}f${T}1${T}1.0123456789${T}644${T}data${T}b${T}-"
bad "a non-octal MODE" ".${T}f${T}1${T}1.0${T}648${T}data${T}b${T}-"
bad "a MODE over 7777" ".${T}f${T}1${T}1.0${T}17777${T}data${T}b${T}-"
bad "an upper-case ROOT" ".${T}f${T}1${T}1.0${T}644${T}Data${T}b${T}-"
bad "an absolute PATH" ".${T}f${T}1${T}1.0${T}644${T}data${T}/etc/passwd${T}-"
bad "a .. component" ".${T}f${T}1${T}1.0${T}644${T}data${T}a/../../x${T}-"
bad "a . component" ".${T}f${T}1${T}1.0${T}644${T}data${T}a/./x${T}-"
bad "an empty component" ".${T}f${T}1${T}1.0${T}644${T}data${T}a//x${T}-"
bad "a trailing slash" ".${T}f${T}1${T}1.0${T}644${T}data${T}a/${T}-"
bad "an empty PATH" ".${T}f${T}1${T}1.0${T}644${T}data${T}${T}-"
bad "a bad escape" ".${T}f${T}1${T}1.0${T}644${T}data${T}a\\x${T}-"
bad "a relative SOURCE" ".${T}f${T}1${T}1.0${T}644${T}data${T}b${T}rel/path"
bad "an empty line" ""
bad "a record out of order" ".${T}f${T}1${T}1.0${T}644${T}data${T}A${T}-"
bad "a duplicate record" ".${T}d${T}0${T}1.0${T}755${T}data${T}a${T}-"
bad "a child sorted before its parent's sibling" ".${T}f${T}1${T}1.0${T}644${T}aaa${T}z${T}-"

printf 'not a manifest\n' >"$TMP/nohdr"
exits "a file without the header is refused" 65 iwm-diff "$TMP/nohdr" "$TMP/m1"
: >"$TMP/empty"
exits "an empty file is refused" 65 iwm-diff "$TMP/empty" "$TMP/m1"
printf '#iwm-manifest 1 scope=Bad\n' >"$TMP/badscope"
exits "a bad scope is refused" 65 iwm-diff "$TMP/badscope" "$TMP/m1"
printf '#iwm-manifest 1\n# a comment\n.\tf\t1\t1\t644\tdata\tb\t-\n' >"$TMP/ok"
exits "comments and whole-second MTIMEs are accepted" 1 iwm-diff --exit-code "$TMP/ok" "$TMP/m1"
done_testing
