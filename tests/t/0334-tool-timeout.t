#!/bin/sh
# A tool call that hangs is stopped after IWM_TOOL_TIMEOUT seconds
# (default 300) with an error naming the command, in every program
# that calls the tool; the tool's own children are stopped with it.
. "$(dirname "$0")/../lib.sh"

plan 13

cat >"$TMP/tool.sh" <<EOF2
#!/bin/sh
sleep 1000 &
echo \$! >>"$TMP/children"
wait
EOF2
chmod +x "$TMP/tool.sh"
IWM_TOOL_TIMEOUT=2
export IWM_TOOL_TIMEOUT

# run NAME ARGS...: the program with a hanging tool; seconds in $TMP/secs.
run() {
	r_s=$(date +%s)
	timeout 60 "$@" >/dev/null 2>"$TMP/err"
	r_rc=$?
	echo $(($(date +%s) - r_s)) >"$TMP/secs"
	[ "$r_rc" -ne 0 ] && [ "$r_rc" -ne 124 ]
}

for p in iwm-scan iwm-deps iwm-serve; do
	case $p in
	iwm-serve)
		iwm-serve --make-cert "$TMP/cert" >/dev/null
		printf 'pw\n' | iwm-serve --add-user a --users "$TMP/users"
		set -- iwm-serve --tool "$TMP/tool.sh" --listen 127.0.0.1:0 \
		    --users "$TMP/users" --cert "$TMP/cert/cert.pem" \
		    --key "$TMP/cert/key.pem" ;;
	*)
		set -- "$p" --tool "$TMP/tool.sh" ;;
	esac
	ok "$p fails instead of hanging" run "$@"
	ok "$p: within seconds ($(cat "$TMP/secs") s)" test "$(cat "$TMP/secs")" -le 10
	ok "$p: the message names the command" grep -q \
	    "$TMP/tool.sh get system .*no answer after 2 seconds" "$TMP/err"
done
ok "iwm-dbexport fails instead of hanging" run iwm-dbexport --tool \
    "$TMP/tool.sh" -o "$TMP/out" --only accounts
ok "iwm-dbexport: within seconds ($(cat "$TMP/secs") s)" \
    test "$(cat "$TMP/secs")" -le 10
ok "iwm-dbexport: the message names the command" grep -q \
    "$TMP/tool.sh get system .*no answer after 2 seconds" "$TMP/err"
sleep 0.5
alive=0
while read -r pid; do
	# A zombie (not yet reaped by init) is not running.
	st=$(ps -o stat= -p "$pid" 2>/dev/null)
	case $st in
	'' | Z*) ;;
	*) alive=$((alive + 1)) ;;
	esac
done <"$TMP/children"
is "the tool's children were stopped too" "$alive" 0
