#!/bin/sh
# iwm-services: stop records every switch then switches all off; a second
# stop keeps the first state; --keep-control leaves control on and web
# off; start restores exactly the recorded set, also on another server;
# status; --dry-run changes nothing; unknown variables are skipped; a
# refused switch is named; bad states are refused before any change.
. "$(dirname "$0")/../lib.sh"

mk() {
	# mk DIR [iwsim options]: a small simulated server
	d=$1
	shift
	iwsim create "$d" --domains 1 --users 1 --folders 0 --messages 1 "$@" >/dev/null
}
status_of() {
	iwm-services --tool "$1/tool.sh" status 2>/dev/null
}
# NAME VARIABLE VALUE of each status line, for comparing with a state
triples() {
	awk -F '\t' '{ print $1 "\t" $3 "\t" $4 }'
}

src=$TMP/src
mk "$src"
st=$src/tool.sh
# A source with its own mix: FTP and proxy on, TeamChat off, WebClient 2.
"$st" set system C_FTPService_Active 1
"$st" set system C_Proxy_Active 1
"$st" set system C_TeamChat_Active 0
"$st" set system C_Webmail_Active 2
status_of "$src" >"$TMP/before"
state=$src/temp/iw_migration/services.state

ok "status: one line per switch, NAME on|off VARIABLE VALUE" sh -c \
    'awk -F "\t" "NF != 4 || (\$2 != \"on\" && \$2 != \"off\") { exit 1 }" "$1" && [ "$(wc -l <"$1")" -ge 20 ]' - "$TMP/before"
ok "status: polarity (_Active 1 on, _Disable 0 on, WebClient 2 on, TeamChat 0 off)" sh -c \
    'grep -q "^smtp	on	C_Mail_SMTP_Active	1\$" "$1" &&
     grep -q "^groupware	on	C_GW_General_Disable	0\$" "$1" &&
     grep -q "^webclient	on	C_Webmail_Active	2\$" "$1" &&
     grep -q "^teamchat	off	C_TeamChat_Active	0\$" "$1" &&
     grep -q "^web	on	C_Mail_Control_DisableWeb	0\$" "$1"' - "$TMP/before"

# Dry run: says what it would do, changes nothing, records nothing.
iwm-services --tool "$st" --dry-run stop >"$TMP/dry" 2>&1
is "stop --dry-run: exit 0" "$?" 0
ok "... says it would switch SMTP off" grep -q "^smtp	off	C_Mail_SMTP_Active	0	(would set; now 1)" "$TMP/dry"
ok "... no state written" test ! -e "$state"
ok "... no switch changed" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$st" "$TMP/before"

# Stop: record, then everything off.
iwm-services --tool "$st" stop >"$TMP/out" 2>&1
is "stop: exit 0" "$?" 0
ok "... the state is at <TempPath>/iw_migration/services.state" test -f "$state"
is "... mode 0600" "$(stat -c %a "$state")" 600
is "... header and end line" "$(head -n 1 "$state") $(tail -n 1 "$state")" "#iwm-services 1 #iwm-end"
grep -v '^#' "$state" | awk -F '\t' '{ print $1 "\t" $2 "\t" $4 }' >"$TMP/recorded"
triples <"$TMP/before" >"$TMP/want"
ok "... it records every switch's value as it was" cmp "$TMP/recorded" "$TMP/want"
ok "... the polarity is recorded too" sh -c 'grep -q "^groupware	C_GW_General_Disable	disable	0\$" "$1" && grep -q "^smtp	C_Mail_SMTP_Active	enable	1\$" "$1"' - "$state"
status_of "$src" >"$TMP/after"
ok "... then every service is off, control and web included" sh -c '! grep -v "	off	" "$1"' - "$TMP/after"
ok "... _Disable switches are set to 1, the others to 0" sh -c \
    'grep -q "^groupware	off	C_GW_General_Disable	1\$" "$1" && grep -q "^web	off	C_Mail_Control_DisableWeb	1\$" "$1" &&
     grep -q "^control	off	C_Mail_Control_Active	0\$" "$1" && grep -q "^webclient	off	C_Webmail_Active	0\$" "$1"' - "$TMP/after"
ok "... the tool still answers with everything off" "$st" get system C_Mail_SMTP_Active

# A second stop keeps the first state.
cp "$state" "$TMP/state1"
"$st" set system C_Mail_SMTP_Active 1
iwm-services --tool "$st" stop >"$TMP/out" 2>&1
is "second stop: exit 0" "$?" 0
ok "... the first state is kept byte for byte" cmp "$state" "$TMP/state1"
ok "... and says so" grep -q "exists: kept" "$TMP/out"
ok "... and switches off what came back on" sh -c 'iwm-services --tool "$1" status 2>/dev/null | grep -q "^smtp	off"' - "$st"

# Start from the default state: exactly what ran before.
iwm-services --tool "$st" -n start >"$TMP/dry" 2>&1
ok "start --dry-run changes nothing" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$st" "$TMP/after"
ok "... but says it would switch WebClient back to 2" grep -q "^webclient	on	C_Webmail_Active	2	(would set; now 0)" "$TMP/dry"
iwm-services --tool "$st" start >"$TMP/out" 2>&1
is "start: exit 0" "$?" 0
ok "... every switch is back to its recorded value" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$st" "$TMP/before"
iwm-services --tool "$st" start >"$TMP/out" 2>&1
ok "... a second start changes nothing and says so" sh -c '! grep -v "(already)" "$1"' - "$TMP/out"

# A target: its own state elsewhere, control kept, then the source's set.
tgt=$TMP/tgt
mk "$tgt" --seed 2
tt=$tgt/tool.sh
"$tt" set system C_Meeting_Active 1
"$tt" set system C_Mail_IMAP_Active 0
"$tt" set system C_IM_General_Disable 1
status_of "$tgt" >"$TMP/tbefore"
tstate=$tgt/temp/iwm-target/services.state
iwm-services --tool "$tt" --state "$tstate" stop --keep-control >"$TMP/out" 2>&1
is "stop --keep-control: exit 0" "$?" 0
ok "... the target's own state is where --state says" test -f "$tstate"
status_of "$tgt" >"$TMP/tafter"
ok "... control stays on, web is off" sh -c 'grep -q "^control	on	C_Mail_Control_Active	1\$" "$1" && grep -q "^web	off	C_Mail_Control_DisableWeb	1\$" "$1"' - "$TMP/tafter"
ok "... everything else is off" sh -c '[ "$(grep -c "	on	" "$1")" -eq 1 ]' - "$TMP/tafter"
ok "... the target's state holds the target's values" sh -c 'grep -q "^meeting	C_Meeting_Active	enable	1\$" "$1"' - "$tstate"
iwm-services --tool "$tt" start --from "$state" >"$TMP/out" 2>&1
is "start --from the source's state on the target: exit 0" "$?" 0
ok "... exactly the source's switches, web back on" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$tt" "$TMP/before"
ok "... the target's own extra service (meeting) stays off" sh -c 'iwm-services --tool "$1" status 2>/dev/null | grep -q "^meeting	off"' - "$tt"

# A variable the server does not know is reported and skipped.
mkdir "$TMP/data"
{
	printf 'smtp\tC_Mail_SMTP_Active\tenable\n'
	printf 'future\tC_IWM_Test_Future_Active\tenable\n'
	printf 'gw\tC_GW_General_Disable\tdisable\n'
} >"$TMP/data/services"
odd=$TMP/odd
mk "$odd" --seed 3
IWM_DATADIR=$TMP/data iwm-services --tool "$odd/tool.sh" status >"$TMP/out" 2>"$TMP/err"
is "an unknown variable: status exit 0" "$?" 0
ok "... names it on standard error" grep -q "C_IWM_Test_Future_Active (future): unknown to this server, skipped" "$TMP/err"
is "... the others are listed" "$(cut -f 1 "$TMP/out" | tr '\n' ' ')" "smtp gw "
IWM_DATADIR=$TMP/data iwm-services --tool "$odd/tool.sh" stop >"$TMP/out" 2>"$TMP/err"
is "... stop: exit 0" "$?" 0
ok "... the state leaves it out, records the others" sh -c \
    '! grep -q Future "$1" && [ "$(grep -vc "^#" "$1")" -eq 2 ]' - "$odd/temp/iw_migration/services.state"
printf 'future\tC_IWM_Test_Future_Active\tenable\t1\n#iwm-end\n' >"$TMP/fut"
{ head -n 1 "$state"; cat "$TMP/fut"; } >"$TMP/fut.state"
exits "start from a state naming a variable this server lacks: exit 0" 0 \
    iwm-services --tool "$odd/tool.sh" start --from "$TMP/fut.state"
cp "$TMP/.out" "$TMP/last"
ok "... reported" grep -q "C_IWM_Test_Future_Active (future): unknown to this server" "$TMP/last"

# A switch the tool refuses: named, the others still switched.
ref=$TMP/ref
mk "$ref" --seed 4
cat >"$TMP/refusing-tool" <<EOF
#!/bin/sh
case "\$*" in
"set system C_Mail_POP_Active"*) echo "tool: set refused (error -1)" >&2; exit 1 ;;
esac
exec "$ref/tool.sh" "\$@"
EOF
chmod +x "$TMP/refusing-tool"
iwm-services --tool "$TMP/refusing-tool" stop >"$TMP/out" 2>"$TMP/err"
is "a refused switch: exit 1" "$?" 1
ok "... the error names the variable" grep -q "C_Mail_POP_Active (pop3): cannot set it to 0" "$TMP/err"
ok "... the others are off" sh -c '! iwm-services --tool "$1/tool.sh" status 2>/dev/null | grep -v "^pop3" | grep -q "	on	"' - "$ref"

# Bad or missing states: refused before anything changes.
bad=$TMP/bad
mk "$bad" --seed 5
status_of "$bad" >"$TMP/bbefore"
exits "start without a recorded state: exit 66" 66 iwm-services --tool "$bad/tool.sh" start
cp "$TMP/.out" "$TMP/last"
ok "... naming the file" grep -q "iw_migration/services.state" "$TMP/last"
head -n 5 "$state" >"$TMP/cut.state"
exits "a state cut short (no #iwm-end): exit 65" 65 iwm-services --tool "$bad/tool.sh" start --from "$TMP/cut.state"
cp "$TMP/.out" "$TMP/last"
ok "... says so" grep -q "cut short" "$TMP/last"
sed '5s/	/ /g' "$state" >"$TMP/bad.state"
exits "a malformed state line: exit 65" 65 iwm-services --tool "$bad/tool.sh" start --from "$TMP/bad.state"
cp "$TMP/.out" "$TMP/last"
ok "... naming FILE:LINE" grep -q "bad.state:5:" "$TMP/last"
ok "... nothing changed" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$bad/tool.sh" "$TMP/bbefore"
mkdir -p "$bad/temp/iw_migration"
cp "$TMP/bad.state" "$bad/temp/iw_migration/services.state"
exits "stop over an existing state that is not one: exit 65" 65 iwm-services --tool "$bad/tool.sh" stop
ok "... nothing switched off" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$bad/tool.sh" "$TMP/bbefore"

: >"$TMP/afile"
exits "a state that cannot be written: exit 74" 74 iwm-services --tool "$bad/tool.sh" --state "$TMP/afile/services.state" stop
rm -f "$bad/temp/iw_migration/services.state"
ok "... nothing switched off" sh -c 'iwm-services --tool "$1" status 2>/dev/null | cmp -s - "$2"' - "$bad/tool.sh" "$TMP/bbefore"

# restart: what it would run, and a Windows server refused clearly.
iwm-services --tool "$st" -n restart >"$TMP/out" 2>&1
is "restart --dry-run: exit 0" "$?" 0
ok "... names <C_InstallPath>/icewarpd.sh --restart all" grep -q "would run $src/icewarpd.sh --restart all" "$TMP/out"
win=$TMP/win
mk "$win" --windows --seed 6
exits "restart on a Windows server: exit 69" 69 iwm-services --tool "$win/tool.sh" restart
cp "$TMP/.out" "$TMP/last"
ok "... saying to restart its services there" grep -q "IceWarpControl" "$TMP/last"

exits "no command: exit 64" 64 iwm-services --tool "$st"
exits "--keep-control with start: exit 64" 64 iwm-services --tool "$st" start --keep-control
exits "a missing tool: exit 69" 69 iwm-services --tool "$TMP/nope" status
done_testing
