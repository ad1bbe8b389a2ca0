#!/bin/sh
# iwm-deps: each check planted and found with its severity, absent and
# not reported; active against inactive; the three path-check outcomes;
# CSV quoting; exit statuses; malformed XML; a clean server.
. "$(dirname "$0")/../lib.sh"

n=0
mk() {
	# mk [--plant KIND]...: a small simulated server; sets $srv
	n=$((n + 1))
	srv=$TMP/s$n
	iwsim create "$srv" --domains 2 --users 2 --folders 0 --messages 1 "$@" >/dev/null
}
audit() {
	iwm-deps --tool "$srv/tool.sh" --format tsv "$@" >"$TMP/out" 2>"$TMP/err"
}
has() {
	# has SEVERITY CATEGORY OBJECT-PATTERN: a finding line exists
	grep -q "^$1	$2	$3" "$TMP/out"
}
hasnt() {
	! grep -q "^[a-z]*	$1	" "$TMP/out"
}
count() {
	grep -c "^$1	$2	" "$TMP/out"
}

mk
audit
is "a clean server: exit 0" "$?" 0
ok "... nothing above info" sh -c '! grep -q "^error\|^warning" "$1"' - "$TMP/out"
ok "... preserved settings are listed as info" has info preserved C_GW_ConnectionString
ok "... no content filter, rule, task, FTP or executable finding" sh -c \
    '! grep -Eq "	(content-filter|rule|task|av-filter|ftp|executable|mailing-list|directory-sync|path)	" "$1"' - "$TMP/out"

for act in copy respond execute headerfooter extract append database; do
	mk --plant "filter:$act" --plant "filter:$act:off"
	audit
	ok "content filter '$act' active: warning" has warning content-filter "content filter"
	ok "content filter '$act' inactive: info" sh -c 'grep -q "^info	content-filter	.*inactive" "$1"' - "$TMP/out"
	is "content filter '$act': one of each" "$(count warning content-filter) $(count info content-filter)" "1 1"
done
ok "harmless filters (reject, mark spam, delete, accept) are not reported" sh -c \
    '! grep -q "Reject executable\|Mark bulk\|Trusted partners" "$1"' - "$TMP/out"

for level in global domain user; do
	mk --plant "rule:$level:execute" --plant "rule:$level:copy:off"
	audit
	ok "$level rule that executes, active: warning" has warning rule "$level rule 'Run application'"
	ok "$level rule that copies, inactive: info" has info rule "$level rule 'Copy to folder'"
done
ok "a user rule names its account" grep -q "of user1@dom1.example" "$TMP/out"
mk --remotes 1
"$srv/tool.sh" set remoteaccount ra1 RA_RulesContentXML \
    '<RULES><RULE><TITLE>Fetch and run</TITLE><ACTIVE>1</ACTIVE><ACTIONS><ITEM><ACTIONTYPE>12</ACTIONTYPE><VALUE>/usr/bin/x</VALUE></ITEM></ACTIONS></RULE></RULES>'
audit
ok "a remote account's rule that executes: warning naming it" has warning rule "remote account rule 'Fetch and run' of ra1"

for level in global domain user; do
	mk --plant "ftp:$level"
	audit
	is "FTP site at $level level: a warning" "$(count warning ftp)" 1
done
mk --plant task --plant task:off
audit
is "scheduled tasks, active or not: warnings" "$(count warning task)" 2
mk --plant avfilter --plant avfilter:off
audit
is "external AV filters, active or not: warnings" "$(count warning av-filter)" 2
mk --plant dblist
audit
ok "mailing list fed from a database: warning" has warning mailing-list dblist1@dom1.example
ok "ordinary mailing lists are not reported" sh -c '! grep -q "	list1@" "$1"' - "$TMP/out"
mk --plant executable
audit
ok "executable account: warning" has warning executable exec1@dom1.example
mk --plant adsync:1
audit
ok "one directory-synced domain: info" has info directory-sync dom1.example
exits "... exit 0" 0 iwm-deps --tool "$srv/tool.sh"
mk --plant adsync:2
audit
is "two directory-synced domains: an error, exit 2" "$?" 2
ok "... naming both" has error directory-sync "dom1.example, dom2.example"
mk --plant voip-localnet
audit
ok "VoIP local network changed: warning" has warning voip C_System_Services_SIP_LocalNet
for s in syslog backup-dirs monitor-disks; do
	mk --plant "$s"
	audit
	is "$s set: one warning" "$(grep -c '^warning' "$TMP/out")" 1
done

for setting in voip-calls voip-record tts log-archive backup; do
	mk --plant "path:$setting:relative"
	audit
	ok "$setting, relative path: fine (info)" sh -c 'grep -q "^info	path	.*relative path" "$1" && ! grep -q "^[ew][a-z]*	path	" "$1"' - "$TMP/out"
	mk --plant "path:$setting:inside"
	audit
	ok "$setting, absolute inside the install dir: warning" sh -c 'grep -q "^warning	path	.*inside the install" "$1"' - "$TMP/out"
	mk --plant "path:$setting:outside"
	audit
	ok "$setting, absolute outside the install dir: error" sh -c 'grep -q "^error	path	.*outside the install" "$1"' - "$TMP/out"
done

mk --plant malformed-content-xml --plant executable
audit
is "malformed content.xml: the audit goes on (exit 1, warnings)" "$?" 1
ok "... a finding names the file and what is wrong" sh -c \
    'grep -q "^warning	content-filter	.*content.xml	not well-formed XML (line [0-9]*: " "$1"' - "$TMP/out"
ok "... the other checks still ran" has warning executable exec1@dom1.example
mk --plant malformed-rule:user
audit
ok "malformed user rule XML: a finding naming the account" has warning rule "user rules of user1@dom1.example"

mk --plant all
audit
is "everything planted: exit 2" "$?" 2
ok "errors come first, then warnings, then info" sh -c '
	cut -f1 "$1" | uniq | tr "\n" " " | grep -qx "error warning info "' - "$TMP/out"
audit --min-severity warning
ok "--min-severity warning hides info" sh -c '! grep -q "^info" "$1" && grep -q "^warning" "$1"' - "$TMP/out"
audit --ignore directory-sync --ignore path
is "--ignore removes categories (and their effect on the exit)" "$?" 1
ok "... and they are not listed" sh -c '! grep -q "	directory-sync	\|	path	" "$1"' - "$TMP/out"
iwm-deps --tool "$srv/tool.sh" --csv "$TMP/deps.csv" >/dev/null
ok "--csv writes a CSV file with a header" sh -c 'head -n 1 "$1" | grep -q "^Severity,Category,Object,Message"' - "$TMP/deps.csv"
ok "CSV quoting: commas and quotes" sh -c \
    'grep -q "^error,directory-sync,\"dom1.example, dom2.example\",2 domains" "$1"' - "$TMP/deps.csv"
"$srv/tool.sh" set account user1@dom1.example u_ftp_usersettings "$(printf 'line one\nline "two", three')" || exit 1
"$srv/tool.sh" set system C_System_Tools_Backup_Dirs "$(printf 'a,"b"\nc')"
iwm-deps --tool "$srv/tool.sh" --format csv >"$TMP/q.csv"
ok "CSV quoting: a newline, quotes and a comma inside a value" grep -q '"C_System_Tools_Backup_Dirs is set (a,""b"" c)' "$TMP/q.csv"
ok "TSV output keeps one finding a line" sh -c '
	iwm-deps --tool "$1/tool.sh" --format tsv | awk -F "\t" "NF != 4 { exit 1 }"' - "$srv"
ok "the table ends with counts" sh -c \
    'iwm-deps --tool "$1/tool.sh" --format table | tail -n 1 | grep -Eq "^[0-9]+ errors?, [0-9]+ warnings?, [0-9]+ info$"' - "$srv"
ok "a password in a value is masked" sh -c '
	"$1/tool.sh" set system C_System_Logging_Syslog_Server "host;user=u;pwd=Secret99" &&
	iwm-deps --tool "$1/tool.sh" | grep -q "pwd=\*\*\*" &&
	! iwm-deps --tool "$1/tool.sh" | grep -q Secret99' - "$srv"

exits "a missing tool: exit 69" 69 iwm-deps --tool "$TMP/none"
printf 'bogus-kind observed x\n' >"$TMP/bad.conf"
exits "a bad data file: exit 65" 65 iwm-deps --tool "$srv/tool.sh" --data "$TMP/bad.conf"
ok "... naming FILE:LINE" sh -c 'iwm-deps --tool "$1" --data "$2" 2>&1 | grep -q "bad.conf:1: unknown kind"' - "$srv/tool.sh" "$TMP/bad.conf"
sed 's/C_System_Logging_Syslog_Server/C_No_Such_Variable/' "$TOP/lib/data/deps.conf" >"$TMP/stale.conf"
iwm-deps --tool "$srv/tool.sh" --data "$TMP/stale.conf" --format tsv >"$TMP/out"
ok "a variable unknown to the tool: a finding, the audit goes on" sh -c \
    'grep -q "^warning	audit	C_No_Such_Variable	" "$1" && grep -q "	executable	" "$1"' - "$TMP/out"
# A real tool refuses an export or get that names a variable it does not
# know: a wrapper that does so for the names given in $REFUSE.
cat >"$TMP/strict-tool.sh" <<EOF
#!/bin/sh
for v in \$REFUSE; do
	case " \$* " in
	*" \$v "*) echo "unknown variable \$v" >&2; exit 1 ;;
	esac
done
exec "$srv/tool.sh" "\$@"
EOF
chmod +x "$TMP/strict-tool.sh"
sed 's/U_FTP_UserSettings/U_No_Such_FTP/' "$TOP/lib/data/deps.conf" >"$TMP/stale2.conf"
REFUSE=U_No_Such_FTP iwm-deps --tool "$TMP/strict-tool.sh" --data "$TMP/stale2.conf" --format tsv >"$TMP/out"
ok "an account variable the tool refuses: an audit finding" grep -q "^warning	audit	U_No_Such_FTP	the tool does not export this account variable" "$TMP/out"
ok "... the other account checks still ran, once each" sh -c \
    '[ "$(grep -c "	executable	exec1@dom1.example	" "$1")" -eq 1 ] && grep -q "user rule .Run application. of user1@dom1.example" "$1"' - "$TMP/out"
ok "... and no user FTP finding is made up" sh -c '! grep -q "user FTP settings" "$1"' - "$TMP/out"
REFUSE=C_ConfigPath iwm-deps --tool "$TMP/strict-tool.sh" --format tsv >"$TMP/out2"
ok "C_ConfigPath unknown: the config path comes from path.dat" sh -c \
    'grep -q "^warning	audit	C_ConfigPath	" "$1" && grep -q "	content-filter	content filter" "$1"' - "$TMP/out2"
exits "--format bogus: exit 64" 64 iwm-deps --tool "$srv/tool.sh" --format bogus
exits "--help: exit 0" 0 iwm-deps --help
# The disk space check against a target agent (iwm-serve over TLS).
. "$TOP/tests/serve.sh"
mk --messages 20 --size-median 20000
big=$srv
mkdir -p "$TMP/t/mail" "$TMP/t/archive" "$TMP/t/logs"
ok "agent starts" serve_start --root mail="$TMP/t/mail" --root archive="$TMP/t/archive" --root logs="$TMP/t/logs"
deps_t() {
	iwm-deps --tool "$big/tool.sh" --format tsv --target "$URL" \
	    --credentials "$TMP/cred" --fingerprint "$FP" "$@"
}
deps_t >"$TMP/out"
ok "enough space: an info line per root with the sizes" sh -c \
    'grep -q "^info	disk-space	target mail	the source copies [0-9.]* [KM]iB" "$1" && grep -q "^info	disk-space	target logs	" "$1"' - "$TMP/out"
want=$(iwm-scan --tool "$big/tool.sh" | awk -F '\t' '$2 == "f" { s += $3 } END { print s }')
ok "roots on one file system add up to what iwm-scan lists" grep -q \
    "target mail	the source copies .* ($want bytes with archive with logs)" "$TMP/out"
serve_stop
if mkdir -p "$TMP/small" && mount -t tmpfs -o size=256k tmpfs "$TMP/small" 2>/dev/null; then
	# shellcheck disable=SC2034 # run by tests/lib.sh on exit
	T_CLEANUP='serve_stop; umount "$TMP/small"'
	mkdir -p "$TMP/small/mail"
	ok "agent starts on a small file system" serve_start --root mail="$TMP/small/mail" --root archive="$TMP/t/archive" --root logs="$TMP/t/logs"
	# shellcheck disable=SC2034 # serve_start set it; run by lib.sh
	T_CLEANUP='serve_stop; umount "$TMP/small"'
	deps_t >"$TMP/out"
	is "not enough space: exit 2" "$?" 2
	ok "... an error with the numbers" sh -c \
	    'grep -q "^error	disk-space	target mail	the source copies .* bytes.* but the target has .* ([0-9]* bytes) free" "$1"' - "$TMP/out"
	deps_t --ignore disk-space >"$TMP/out"
	ok "--ignore disk-space overrides it" sh -c '! grep -q "disk-space" "$1"' - "$TMP/out"
else
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM # skip cannot mount a small tmpfs here"
fi
exits "a wrong fingerprint: refused (77)" 77 iwm-deps --tool "$big/tool.sh" --target "$URL" \
    --credentials "$TMP/cred" --fingerprint "$(printf '%064d' 0)"

done_testing
