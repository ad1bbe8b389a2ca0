#!/bin/sh
# iwm-scan over simulated IceWarp servers: each account class lands where
# the seed says, unused directories are skipped, the domain filter and
# its scope, the archive switch, and a Windows source with --path-map.
. "$(dirname "$0")/../lib.sh"

srv=$TMP/srv
iwsim create "$srv" --seed 3 --domains 2 --users 3 --folders 2 \
    --messages 3 --archivists 1 --externs 1 --shared 1 --unused 2 ||
    exit 1
tool=$srv/tool.sh

ok "scan runs" sh -c 'iwm-scan --tool "$1" >"$2"' - "$tool" "$TMP/m"
iwm-scan --tool "$tool" --accounts >"$TMP/acc"
cls() { awk -F '\t' -v c="$1" '$2 == c { print $1 }' "$TMP/acc"; }
arch=$(cls archivist | head -n 1)
ext=$(cls extern | head -n 1)
shared=$(cls shared | head -n 1)
ok "the simulator's archivist is classified archivist" test -n "$arch"
ok "the simulator's extern is classified extern" test -n "$ext"
ok "the simulator's shared mailbox is classified shared" test -n "$shared"
is "every regular user is regular" "$(cls regular | grep -c '^user')" 6

# Regular mailboxes: every file under them listed, under <domain>/<alias>.
ok "regular mailbox: every file listed" sh -c '
	for d in "$1"/mail/dom1.example/user1 "$1"/mail/dom2.example/user3; do
		rel=${d#"$1"/mail/}
		want=$(find "$d" -type f | wc -l)
		got=$(grep -c "	mail	$rel/.*	f	\|^\.	f	.*	mail	$rel/" "$2")
		[ "$want" -gt 0 ] && [ "$want" -eq "$got" ] || { echo "$rel: $got of $want"; exit 1; }
	done' - "$srv" "$TMP/m"

# Extern: its data lands in the default place, read from where it is.
erel=$(awk -F '\t' -v e="$ext" '$1 == e { print $4 }' "$TMP/acc")
edir=$(awk -F '\t' -v e="$ext" '$1 == e { print $5 }' "$TMP/acc")
is "extern lands in <domain>/<alias>/" "$erel" "${ext#*@}/${ext%@*}/"
ok "extern's mailbox is outside the mail directory" sh -c 'case $1 in "$2"/mail/*) exit 1;; esac' - "$edir" "$srv"
ok "extern's files are listed under the default place, SOURCE outside" sh -c '
	n=$(find "$1" -type f | wc -l)
	got=$(grep -c "^\.	f	.*	mail	${2%/}/.*	${1%/}/" "$3")
	[ "$n" -gt 0 ] && [ "$n" -eq "$got" ]' - "$edir" "$erel" "$TMP/m"

# Archivist: nothing under its mailbox is copied with mail.
adir=$(awk -F '\t' -v e="$arch" '$1 == e { print $5 }' "$TMP/acc")
ok "archivist's mailbox lies in the archive" sh -c 'case $1 in "$2"/archive/*) ;; *) exit 1;; esac' - "$adir" "$srv"
ok "archivist's data is not listed in mail" sh -c '! grep "	mail	" "$2" | grep -q "	${1%/}/"' - "$adir" "$TMP/m"

# Shared: inside another mailbox, so listed once, as that mailbox's.
sdir=$(awk -F '\t' -v e="$shared" '$1 == e { print $5 }' "$TMP/acc")
owner=$(awk -F '\t' -v e="$shared" '$1 == e { print $6 }' "$TMP/acc")
ok "shared mailbox has an owner" test "$owner" != "-"
ok "shared mailbox's files are listed exactly once" sh -c '
	n=$(find "$1" -type f | wc -l)
	got=$(grep -c "^\.	f	.*	${1%/}/" "$2")
	[ "$n" -gt 0 ] && [ "$n" -eq "$got" ]' - "$sdir" "$TMP/m"

# Unused directories in the mail directory are not listed.
ok "unused mail directories exist in the simulator" sh -c '
	for d in "$1"/mail/*/*/; do
		a=${d#"$1"/mail/}; a=${a%/}
		grep -q "^[^	]*@${a%%/*}	.*	${a}/	" "$2" || { echo "$a"; found=1; }
	done | grep -q .' - "$srv" "$TMP/acc"
ok "... and none is listed" sh -c '
	grep "	mail	" "$2" | cut -f7 | cut -d/ -f1-2 | sort -u | while read -r a; do
		case $a in */*) ;; *) continue ;; esac
		grep -q "	${a}/	" "$1" || { echo "listed but unused: $a"; exit 1; }
	done' - "$TMP/acc" "$TMP/m"

ok "archive is listed when auto-archive is on" grep -q '	archive	dom1.example/' "$TMP/m"
ok "logs are listed" grep -q '	logs	' "$TMP/m"
ok "scope: per-domain mail and archive, whole logs" grep -qx \
    '#iwm-manifest 1 scope=archive:dom1.example/,archive:dom2.example/,logs,mail:dom1.example/,mail:dom2.example/' "$TMP/m"
ok "the manifest is in order (iwm-diff accepts it)" sh -c 'iwm-diff -a "$1" "$1" >/dev/null' - "$TMP/m"
ok "a complete scan ends with #iwm-end" sh -c '[ "$(tail -n 1 "$1")" = "#iwm-end" ]' - "$TMP/m"

# A mailbox that cannot be read makes the scan incomplete: exit 1, and
# no #iwm-end, so nothing is ever deleted on its word.
brk=$TMP/brk
iwsim create "$brk" --seed 3 --domains 1 --users 2 --externs 1 >/dev/null
mv "$brk/external" "$brk/external.unmounted"
iwm-scan --tool "$brk/tool.sh" >"$TMP/bm" 2>"$TMP/berr"
is "an extern on a missing disk: exit 1" "$?" 1
ok "... with a warning naming the account" grep -q "extern1@dom1.example: mailbox .* does not exist" "$TMP/berr"
ok "... and no #iwm-end" sh -c '! grep -q "^#iwm-end" "$1"' - "$TMP/bm"
ok "... the others are still listed" grep -q "	mail	dom1.example/user1/" "$TMP/bm"
mv "$brk/external.unmounted" "$brk/external"
mv "$brk/archive" "$brk/archive.unmounted"
iwm-scan --tool "$brk/tool.sh" >"$TMP/bm" 2>"$TMP/berr"
is "the archive directory missing while auto-archive is on: exit 1" "$?" 1
ok "... no #iwm-end" sh -c '! grep -q "^#iwm-end" "$1"' - "$TMP/bm"
mv "$brk/archive.unmounted" "$brk/archive"
iwm-scan --tool "$brk/tool.sh" --domain DOM1.Example >"$TMP/bm"
ok "--domain is case-insensitive" grep -q "	archive	dom1.example/" "$TMP/bm"
exits "--help: exit 0" 0 iwm-scan --help

iwm-scan --tool "$tool" --domain dom2.example >"$TMP/d2"
ok "--domain: only that domain" sh -c '! grep -q dom1.example "$1" && grep -q "	mail	dom2.example/" "$1"' - "$TMP/d2"
ok "--domain: no logs unless asked" sh -c '! grep -q "	logs	" "$1"' - "$TMP/d2"
ok "--domain: scope names the domain only" grep -qx \
    '#iwm-manifest 1 scope=archive:dom2.example/,mail:dom2.example/' "$TMP/d2"
iwm-scan --tool "$tool" --roots logs >"$TMP/logs"
ok "--roots logs: logs only" sh -c '! grep -q "	mail	" "$1" && grep -q "	logs	" "$1"' - "$TMP/logs"
exits "--roots with an unknown root is a usage error" 64 iwm-scan --tool "$tool" --roots mail,bogus

# Nothing of another domain can be deleted after a domain-filtered scan.
iwm-diff --delete "$TMP/d2" "$TMP/m" >"$TMP/dd"
ok "a domain scan marks nothing of another domain for deletion" sh -c '! grep "^-" "$1" | grep -q dom1.example' - "$TMP/dd"

srv2=$TMP/noarch
iwsim create "$srv2" --seed 3 --domains 1 --users 2 --archivists 1 --no-archive >/dev/null
iwm-scan --tool "$srv2/tool.sh" >"$TMP/na"
ok "auto-archive off: no archive records and no archive scope" sh -c '! grep -q "archive" "$1"' - "$TMP/na"
ok "auto-archive off: archivists are still archivists, not copied" sh -c \
    'iwm-scan --tool "$1/tool.sh" --accounts | grep -q "^archive1@dom1.example	archivist"' - "$srv2"

# Windows source: paths reported as C:\..., E:\..., mapped with --path-map.
win=$TMP/win
iwsim create "$win" --seed 5 --domains 1 --users 2 --externs 1 --windows >/dev/null
ok "Windows paths without --path-map: a clear error" sh -c \
    'iwm-scan --tool "$1/tool.sh" 2>&1 >/dev/null | grep -q -- "--path-map"' - "$win"
exits "... exit 65" 65 iwm-scan --tool "$win/tool.sh"
mp=$("$win/tool.sh" get system C_System_Storage_Dir_MailPath | sed 's/^[^:]*: //')
inst=${mp%mail\\}
ok "with --path-map the Windows source scans" sh -c \
    'iwm-scan --tool "$1/tool.sh" --path-map "$2=$1/" --path-map "E:\\=$1/drive-e/" >"$3"' - "$win" "$inst" "$TMP/w"
ok "Windows: regular mailboxes listed with local SOURCE paths" grep -q "	mail	dom1.example/user1/.*	$win/mail/dom1.example/user1/" "$TMP/w"
wext=$(iwm-scan --tool "$win/tool.sh" --path-map "$inst=$win/" --path-map "E:\\=$win/drive-e/" --accounts | awk -F '\t' '$2 == "extern" { print $1; exit }')
ok "Windows: the extern on E: lands in the default place" grep -q "	mail	${wext#*@}/${wext%@*}/.*	$win/drive-e/" "$TMP/w"

# Mailbox sorting prefixes: the mailbox of user1 is <domain>/us/er/user1/,
# which only u_fullmailboxpath says (u_mailboxpath stays <domain>/user1/).
sorted=$TMP/sorted
iwsim create "$sorted" --seed 4 --sorting --domains 1 --users 3 --shared 1 --folders 1 --messages 2 >/dev/null
ok "sorting: scan runs" sh -c 'iwm-scan --tool "$1/tool.sh" >"$2"' - "$sorted" "$TMP/sm"
iwm-scan --tool "$sorted/tool.sh" --accounts >"$TMP/sacc"
is "sorting: user1's directory from u_fullmailboxpath" \
	"$(awk -F '\t' '$1 == "user1@dom1.example" { print $2 " " $4 " " $5 }' "$TMP/sacc")" \
	"regular dom1.example/us/er/user1/ $sorted/mail/dom1.example/us/er/user1/"
ok "sorting: every file of the sorted mailbox listed" sh -c '
	d=$1/mail/dom1.example/us/er/user1
	want=$(find "$d" -type f | wc -l)
	got=$(grep -c "	mail	dom1.example/us/er/user1/.*	f	\|^\.	f	.*	mail	dom1.example/us/er/user1/" "$2")
	[ "$want" -gt 0 ] && [ "$want" -eq "$got" ] || { echo "$got of $want"; exit 1; }' - "$sorted" "$TMP/sm"
ok "sorting: nothing listed at the unsorted place" sh -c '! grep -q "	mail	dom1.example/user1/" "$1"' - "$TMP/sm"
is "sorting: an absolute mailbox path is used as it is" \
	"$(awk -F '\t' '$1 == "user3@dom1.example" { print $2 " " $4 }' "$TMP/sacc")" "regular dom1.example/user3/"
is "sorting: the shared mailbox inside the sorted one" \
	"$(awk -F '\t' '$1 == "shared1@dom1.example" { print $2 }' "$TMP/sacc")" shared
ok "sorting: the manifest is complete" sh -c '[ "$(tail -n 1 "$1")" = "#iwm-end" ]' - "$TMP/sm"
mv "$sorted/mail/dom1.example/us/er/user2" "$TMP/user2.away"
ok "sorting: u_mailboxpath alone would not find the data (a test that can fail)" \
	test ! -d "$sorted/mail/dom1.example/user2"
mv "$TMP/user2.away" "$sorted/mail/dom1.example/us/er/user2"

exits "a missing tool: exit 69" 69 iwm-scan --tool "$TMP/nope"
ok "... with a message naming it" sh -c 'iwm-scan --tool "$1/nope" 2>&1 | grep -q "$1/nope"' - "$TMP"
iwm-scan --tool "$tool" --roots mail >"$TMP/mailonly"
IWM_ICEWARP_CONF=$srv/icewarp.conf
export IWM_ICEWARP_CONF
ok "the tool is found through icewarp.conf" sh -c 'iwm-scan --roots mail | cmp -s - "$1"' - "$TMP/mailonly"
unset IWM_ICEWARP_CONF
# --queues: the mail queues listed, in order, outside the scope.
printf 'queued\r\n' >"$srv/mail/_outgoing/retry/q1.dat"
printf 'received\r\n' >"$srv/mail/_incoming/i1.tmp"
iwm-scan --tool "$tool" --roots mail >"$TMP/noq"
iwm-scan --tool "$tool" --roots mail --queues >"$TMP/q"
is "without --queues no queue is listed" \
    "$(grep -c '	mail	_\(incoming\|outgoing\)' "$TMP/noq")" 0
is "with --queues: the queue folders and their files" \
    "$(awk -F '\t' '$7 ~ /^_(incoming|outgoing)/ { print $2, $7 }' "$TMP/q" | tr '\n' ' ')" \
    "d _incoming f _incoming/i1.tmp d _outgoing d _outgoing/retry f _outgoing/retry/q1.dat "
is "the same scope: the target's own queue is never deleted" \
    "$(head -n 1 "$TMP/q")" "$(head -n 1 "$TMP/noq")"
ok "the listing stays in order (iwm-diff reads it)" iwm-diff "$TMP/q" "$TMP/q"
exits "--queues with --domain: exit 64" 64 iwm-scan --tool "$tool" --queues \
    --domain dom1.example

# The account export runs while get system does: each failure is still
# reported in its turn, and an export nobody reads is stopped.
cat >"$TMP/ftool" <<EOF
#!/bin/sh
case "\$FAIL:\$1" in
get:get) echo "no system today" >&2; exit 3 ;;
get:export) exec sleep 29.5 ;;
export:export) echo "no accounts today" >&2; exit 4 ;;
esac
exec "$tool" "\$@"
EOF
chmod +x "$TMP/ftool"
start=$(date +%s)
exits "get system fails: exit 69" 69 env FAIL=get \
    iwm-scan --tool "$TMP/ftool" --roots mail
cp "$TMP/.out" "$TMP/err"
is "... with its message only" "$(cat "$TMP/err")" \
    "iwm-scan: $TMP/ftool get system C_System_Storage_Dir_MailPath ...: exit status 3: no system today"
ok "... without waiting for the export started with it" \
    test $(($(date +%s) - start)) -lt 20
ok "... which is stopped" sh -c '! pgrep -x -f "sleep 29.5"'
exits "the export fails: exit 69" 69 env FAIL=export \
    iwm-scan --tool "$TMP/ftool" --roots mail
cp "$TMP/.out" "$TMP/err"
is "... with its message" "$(cat "$TMP/err")" \
    "iwm-scan: $TMP/ftool export account *@* ...: exit status 4: no accounts today"

# --target runs iwm-scan-target, beside iwm-scan: a local scan does not
# load the HTTPS client's libraries, and needs no iwm-scan-target.
mkdir "$TMP/alone"
cp "$TOP/bin/iwm-scan" "$TMP/alone/"
ok "a local scan without iwm-scan-target beside it" sh -c \
    '"$1" --tool "$2" --roots mail | cmp -s - "$3"' - "$TMP/alone/iwm-scan" \
    "$tool" "$TMP/noq"
exits "--target without iwm-scan-target beside it: exit 69" 69 \
    "$TMP/alone/iwm-scan" --target https://127.0.0.1:9/
cp "$TMP/.out" "$TMP/err"
ok "... naming what is missing" grep -q \
    "alone/iwm-scan-target: No such file.*not installed next to iwm-scan" \
    "$TMP/err"
if command -v ldd >/dev/null 2>&1; then
	fails "iwm-scan does not link libcurl" sh -c \
	    'ldd "$1" | grep -q libcurl' - "$TOP/bin/iwm-scan"
fi
done_testing
