#!/bin/sh
# iwm-pathfix: a plan on a source with archivists, externs, shared
# mailboxes and absolute paths (Linux and Windows), applied on a second
# server that carries the source's paths (as a restore leaves them):
# each class fixed in the target's own paths and style, the directory
# cache refreshed, idempotent, --dry-run, an unknown account, malformed
# plans refused before any change.
. "$(dirname "$0")/../lib.sh"

mk() {
	# mk DIR [iwsim options]: a server with two of each account class
	d=$1
	shift
	iwsim create "$d" --domains 2 --users 4 --archivists 2 --externs 2 \
	    --shared 2 "$@" >/dev/null
}
src=$TMP/src
mk "$src" --folders 0 --messages 1
plan=$TMP/out/plan

# Put the source's mailbox paths on the target (what restoring the
# source's accounts leaves there).
carry() {
	# carry SRC TGT
	"$1/tool.sh" export account '*@*' u_mailboxpath | while IFS=, read -r e p _; do
		"$2/tool.sh" set account "$e" u_mailboxpath "$p" || exit 1
	done
}
path_of() {
	# path_of DIR EMAIL [VAR]: the account's variable on that server
	"$1/tool.sh" get account "$2" "${3:-u_mailboxpath}" | sed 's/^[^:]*: //'
}
# u_directorycache_refreshnow is write-only: a simulator that logs its
# sets in .iwsim/events.log is read there, an older one stores it.
refreshes() {
	if [ -f "$1/.iwsim/events.log" ]; then
		grep -i 'u_directorycache_refreshnow' "$1/.iwsim/events.log"
	else
		"$1/tool.sh" export account '*@*' u_directorycache_refreshnow
	fi
}
refreshed() {
	# refreshed DIR EMAIL: a refresh of EMAIL's directory cache was asked
	if [ -f "$1/.iwsim/events.log" ]; then
		grep -qi "^set $2 u_directorycache_refreshnow 1\$" "$1/.iwsim/events.log"
	else
		[ "$(path_of "$1" "$2" u_directorycache_refreshnow)" = 1 ]
	fi
}
snapshot() {
	"$1/tool.sh" export account '*@*' u_mailboxpath
	refreshes "$1"
}

exits "--plan on the source: exit 0" 0 iwm-pathfix --plan --tool "$src/tool.sh" -o "$plan"
ok "... the plan is written, mode 0600" sh -c '[ "$(stat -c %a "$1")" = 600 ]' - "$plan"
is "... header and end line" "$(head -n 1 "$plan") $(tail -n 1 "$plan")" "#iwm-pathfix 1 #iwm-end"
ok "... every record: EMAIL CLASS ROOT PATH, PATH relative ending in /" sh -c \
    'sed "1d;\$d" "$1" | awk -F "\t" "NF != 4 || \$4 !~ /\\/\$/ || \$4 ~ /^\\// { exit 1 }"' - "$plan"
ok "... archivists: to their folder in the archive" sh -c \
    'grep -qx "archive1@dom1.example	archivist	archive	dom1.example/" "$1" &&
     grep -qx "archive2@dom2.example	archivist	archive	dom2.example/user1/" "$1"' - "$plan"
ok "... externs: to the default place in the mail root" sh -c \
    'grep -qx "extern1@dom1.example	extern	mail	dom1.example/extern1/" "$1" &&
     grep -qx "extern2@dom2.example	extern	mail	dom2.example/extern2/" "$1"' - "$plan"
ok "... shared: into the other account's folder" grep -qx "shared1@dom1.example	shared	mail	dom1.example/user1/Shared/" "$plan"
ok "... absolute paths inside the mail dir: made relative to the root" grep -qx "user3@dom1.example	absolute	mail	dom1.example/user3/" "$plan"
ok "... regular accounts with relative paths are not listed" sh -c '! grep -q "^user1@" "$1"' - "$plan"
is "... eight records" "$(sed '1d;$d' "$plan" | wc -l | tr -d ' ')" 8
ok "... no source path leaks into it" sh -c '! grep -q "$1" "$2"' - "$src" "$plan"
ok "--plan without -o writes the same to standard output" sh -c \
    'iwm-pathfix --plan --tool "$1/tool.sh" | cmp -s - "$2"' - "$src" "$plan"

tgt=$TMP/tgt
mk "$tgt" --seed 2 --no-mailboxes
ok "the target carries the source's paths" carry "$src" "$tgt"
snapshot "$tgt" >"$TMP/t0"

iwm-pathfix --apply "$plan" --tool "$tgt/tool.sh" --dry-run >"$TMP/out.dry" 2>&1
is "--apply --dry-run: exit 0" "$?" 0
ok "... says what it would set" grep -q "^extern1@dom1.example	extern	would set	$tgt/mail/dom1.example/extern1/	(now $src/external/extern1/)" "$TMP/out.dry"
snapshot "$tgt" >"$TMP/t0b"
ok "... changes nothing" cmp "$TMP/t0" "$TMP/t0b"

iwm-pathfix --apply "$plan" --tool "$tgt/tool.sh" >"$TMP/out.apply" 2>&1
is "--apply: exit 0" "$?" 0
refreshes "$tgt" >"$TMP/t0c"
is "archivist (domain archive) points into the target's archive" "$(path_of "$tgt" archive1@dom1.example)" "$tgt/archive/dom1.example/"
is "archivist (user archive) too" "$(path_of "$tgt" archive2@dom2.example)" "$tgt/archive/dom2.example/user1/"
is "extern: the default place in the target's mail dir" "$(path_of "$tgt" extern1@dom1.example)" "$tgt/mail/dom1.example/extern1/"
is "absolute: the target's mail dir" "$(path_of "$tgt" user3@dom2.example)" "$tgt/mail/dom2.example/user3/"
is "shared (a relative path, already right there): left alone" "$(path_of "$tgt" shared1@dom1.example)" "dom1.example/user1/Shared/"
ok "... and said so" grep -q "^shared1@dom1.example	shared	unchanged	$tgt/mail/dom1.example/user1/Shared/" "$TMP/out.apply"
ok "each fixed account's directory cache refreshed" refreshed "$tgt" extern2@dom2.example
ok "... not the accounts left alone" sh -c '! grep -qi "^shared1@dom1.example,1,\$\|^set shared1@dom1.example u_directorycache_refreshnow" "$1"' - "$TMP/t0c"
is "regular accounts untouched" "$(path_of "$tgt" user1@dom1.example)" "$(path_of "$src" user1@dom1.example)"
ok "no source path is left on the target" sh -c '! "$1/tool.sh" export account "*@*" u_mailboxpath | grep -q "$2"' - "$tgt" "$src"

# Idempotent: a second run changes nothing (no set, so no refresh either).
"$tgt/tool.sh" set account '*@*' u_directorycache_refreshnow 0
snapshot "$tgt" >"$TMP/t1"
iwm-pathfix --apply "$plan" --tool "$tgt/tool.sh" >"$TMP/out.again" 2>&1
is "a second --apply: exit 0" "$?" 0
ok "... every account already right, and said so" sh -c '[ "$(grep -c "	unchanged	" "$1")" -eq 8 ]' - "$TMP/out.again"
snapshot "$tgt" >"$TMP/t1b"
ok "... nothing set" cmp "$TMP/t1" "$TMP/t1b"

# An account the target does not have: reported, exit 1, others fixed.
"$tgt/tool.sh" set account extern1@dom1.example u_mailboxpath "$src/external/extern1/"
{ sed '$d' "$plan"; printf 'ghost@dom1.example\textern\tmail\tdom1.example/ghost/\n#iwm-end\n'; } >"$TMP/plan.ghost"
iwm-pathfix --apply "$TMP/plan.ghost" --tool "$tgt/tool.sh" >"$TMP/out.ghost" 2>"$TMP/err.ghost"
is "an unknown account: exit 1" "$?" 1
ok "... named" grep -q "ghost@dom1.example: no such account on this server" "$TMP/err.ghost"
is "... the others are still fixed" "$(path_of "$tgt" extern1@dom1.example)" "$tgt/mail/dom1.example/extern1/"

# Malformed plans: FILE:LINE, nothing changed.
"$tgt/tool.sh" set account extern1@dom1.example u_mailboxpath "$src/external/extern1/"
snapshot "$tgt" >"$TMP/t2"
bad() {
	# bad NAME LINE-NUMBER REPLACEMENT: the plan with that line replaced
	awk -v n="$2" -v r="$3" 'NR == n { print r; next } { print }' "$plan" >"$TMP/$1"
}
bad plan.fields 3 "extern1@dom1.example	extern	mail"
bad plan.class 3 "extern1@dom1.example	nomad	mail	dom1.example/extern1/"
bad plan.root 3 "extern1@dom1.example	extern	spool	dom1.example/extern1/"
bad plan.abs 3 "extern1@dom1.example	extern	mail	/etc/"
bad plan.dots 3 "extern1@dom1.example	extern	mail	dom1.example/../../etc/"
bad plan.email 3 "nobody	extern	mail	dom1.example/extern1/"
bad plan.header 1 "#iwm-pathfix 2"
sed '$d' "$plan" >"$TMP/plan.cut"
for p in fields class root abs dots email; do
	exits "a malformed plan line ($p): exit 65" 65 iwm-pathfix --apply "$TMP/plan.$p" --tool "$tgt/tool.sh"
	cp "$TMP/.out" "$TMP/last"
	ok "... names FILE:LINE" grep -q "plan.$p:3: " "$TMP/last"
done
exits "a wrong header: exit 65" 65 iwm-pathfix --apply "$TMP/plan.header" --tool "$tgt/tool.sh"
exits "a plan cut short (no #iwm-end): exit 65" 65 iwm-pathfix --apply "$TMP/plan.cut" --tool "$tgt/tool.sh"
exits "a missing plan: exit 66" 66 iwm-pathfix --apply "$TMP/nope" --tool "$tgt/tool.sh"
snapshot "$tgt" >"$TMP/t2b"
ok "... and none of them changed anything" cmp "$TMP/t2" "$TMP/t2b"

# A pre-configured target keeps its archive elsewhere: its own path wins.
pre=$TMP/pre
mk "$pre" --target --seed 5 --no-mailboxes
carry "$src" "$pre"
exits "apply on a pre-configured target: exit 0" 0 iwm-pathfix --apply "$plan" --tool "$pre/tool.sh"
is "... the archivist in the target's own archive path" "$(path_of "$pre" archive1@dom1.example)" "$pre/storage/archive/dom1.example/"
is "... the target's administrator untouched" "$(path_of "$pre" admin@target.local)" "target.local/admin/"

# Windows source (read through --path-map) to a Linux target: the plan
# needs no target OS.
win=$TMP/win
mk "$win" --windows --folders 0 --messages 1
inst="C:\\Program Files\\IceWarp\\"
exits "--plan on a Windows source without --path-map: exit 65" 65 iwm-pathfix --plan --tool "$win/tool.sh"
exits "--plan on a Windows source with --path-map: exit 0" 0 iwm-pathfix --plan --tool "$win/tool.sh" \
    --path-map "$inst=$win/" --path-map 'E:\='"$win/drive-e/" -o "$TMP/plan.win"
ok "... the same records as a Linux source's" sh -c 'cmp -s "$1" "$2"' - "$plan" "$TMP/plan.win"
ok "... no Windows path in it" sh -c '! grep -q "C:\|E:\|\\\\" "$1"' - "$TMP/plan.win"
lin=$TMP/lin
mk "$lin" --seed 3 --no-mailboxes
carry "$win" "$lin"
exits "... applied on a Linux target: exit 0" 0 iwm-pathfix --apply "$TMP/plan.win" --tool "$lin/tool.sh"
is "... the extern now in the Linux mail dir" "$(path_of "$lin" extern1@dom1.example)" "$lin/mail/dom1.example/extern1/"
is "... the archivist in the Linux archive" "$(path_of "$lin" archive1@dom1.example)" "$lin/archive/dom1.example/"

# Linux source to a Windows target: backslashes, the target's own paths.
wt=$TMP/wt
mk "$wt" --windows --seed 4 --no-mailboxes
carry "$src" "$wt"
exits "a Linux source's plan on a Windows target: exit 0" 0 iwm-pathfix --apply "$plan" --tool "$wt/tool.sh"
is "... the extern in the Windows style" "$(path_of "$wt" extern1@dom1.example)" "C:\\Program Files\\IceWarp\\mail\\dom1.example\\extern1\\"
is "... the archivist in the Windows archive" "$(path_of "$wt" archive2@dom2.example)" "C:\\Program Files\\IceWarp\\archive\\dom2.example\\user1\\"
exits "... a second run: exit 0" 0 iwm-pathfix --apply "$plan" --tool "$wt/tool.sh"
cp "$TMP/.out" "$TMP/last"
ok "... nothing to do" sh -c '[ "$(grep -c "	unchanged	" "$1")" -eq 8 ]' - "$TMP/last"

exits "neither --plan nor --apply: exit 64" 64 iwm-pathfix --tool "$src/tool.sh"
exits "--plan with --dry-run: exit 64" 64 iwm-pathfix --plan --dry-run --tool "$src/tool.sh"
exits "a missing tool: exit 69" 69 iwm-pathfix --plan --tool "$TMP/nope"
done_testing
