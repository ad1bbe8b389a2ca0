#!/bin/sh
# Every program: --help prints its usage on standard output and exits 0,
# a bad option exits 64, and its man page is there and lint-clean;
# --version prints "PROG VERSION", the Makefile's VERSION.
. "$(dirname "$0")/../lib.sh"

version=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")

for src in "$TOP"/bin/iwm-*.c; do
	prog=$(basename "$src" .c)
	ok "$prog --help: usage on stdout, exit 0" sh -c \
	    '"$1" --help 2>/dev/null | grep -q "^usage: "' - "$prog"
	exits "$prog --no-such-option: exit 64" 64 "$prog" --no-such-option
	is "$prog --version" "$("$prog" --version 2>&1)" "$prog $version"
	ok "$prog has a man page" test -f "$TOP/man/man1/$prog.1"
	# Every long option of the man page's lists has its line in --help.
	missing=$(grep -o '^\.It Fl -[a-z-]*' "$TOP/man/man1/$prog.1" |
	    sed 's/.*Fl /-/' | sort -u | while IFS= read -r o; do
		"$prog" --help 2>/dev/null |
		    grep -qE -- "^ +(-[a-zA-Z], )?$o( |,|\$)" ||
		    printf ' %s' "$o"
	done)
	is "$prog --help describes every option of $prog(1)" "$missing" ""
	if command -v mandoc >/dev/null 2>&1; then
		ok "$prog(1) is lint-clean" sh -c \
		    '[ -z "$(mandoc -Tlint -Wwarning "$1" 2>&1)" ]' - "$TOP/man/man1/$prog.1"
	fi
done
is "iwm --version" "$("$TOP/bin/iwm" --version 2>&1)" "iwm $version"
done_testing
