#!/bin/sh
# The agent's target actions (iwm-protocol(7), ACTIONS) with a real
# iwm-serve over TLS in --tool mode against a simulated target: the
# whitelist, the admin role, streamed output and "#iwm-exit N", one
# action at a time, a client that goes away, a reduced environment, and
# the program found next to iwm-serve, never on PATH.  restore-db runs
# the real `iwm-restore db` on carriers pushed into the migration root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

iwsim create "$TMP/dst" --domains 1 --users 2 >/dev/null
iwsim create "$TMP/src" --domains 1 --users 2 >/dev/null
# The target's tool, slowed down (0.5 s a call) while $TMP/slow exists;
# a call made by an action (IWM_LINE_BUFFERED set) records its
# environment and standard input.
cat >"$TMP/tool.sh" <<EOF
#!/bin/sh
if [ -n "\${IWM_LINE_BUFFERED:-}" ]; then
	env >"$TMP/child.env"
	readlink /proc/self/fd/0 >"$TMP/child.stdin"
fi
[ -e "$TMP/slow" ] && sleep 0.5
exec "$TMP/dst/tool.sh" "\$@"
EOF
chmod 755 "$TMP/tool.sh"
mig=$TMP/dst/temp/iw_migration

ACTIONS="services-stop services-start services-status restart restore-settings restore-preserved restore-db pathfix"
IWM_TEST_MARKER=agent-only
export IWM_TEST_MARKER
ok "agent starts in --tool mode" serve_start --tool "$TMP/tool.sh"
printf 'boss-pw\n' | iwm-serve --add-user boss --users "$TMP/users" --role admin
printf 'boss:boss-pw\n' >"$TMP/boss"
chmod 600 "$TMP/boss"
serve_stop
ok "... restarted with an admin user" serve_start --tool "$TMP/tool.sh"

action() {
	iwm-push --target "$URL" --credentials "$TMP/boss" --fingerprint "$FP" \
	    --action "$@"
}
# action_bg NAME: iwm-push --action in the background, its pid in BG;
# returns once its first line of output is in $TMP/bg.out.
action_bg() {
	rm -f "$TMP/bg.out"
	iwm-push --target "$URL" --credentials "$TMP/boss" --fingerprint "$FP" \
	    --action "$1" >"$TMP/bg.out" 2>"$TMP/bg.err" &
	BG=$!
	ab_n=0
	while [ ! -s "$TMP/bg.out" ] && [ $ab_n -lt 600 ]; do
		sleep 0.05
		ab_n=$((ab_n + 1))
	done
}
# said TEXT: the output of the last exits/ok had TEXT.
said() {
	grep -q -e "$1" "$TMP/said"
}
keep() {
	cp "$TMP/.out" "$TMP/said"
}
# code PATH [CURL ARGS]: the HTTP status of a raw POST.
code() {
	c_path=$1
	shift
	curl -sk --path-as-is -o /dev/null -w '%{http_code}' -X POST "$@" \
	    "$URL$c_path"
}

# Roles and credentials.
for a in $ACTIONS; do
	is "$a: copy user (no role in the file): 403" \
	    "$(code "/v1/action/$a" -u alice:secret-pw)" 403
	is "$a: no credentials: 401" "$(code "/v1/action/$a")" 401
done
exits "iwm-push --action as a copy user: exit 77" 77 iwm-push --target "$URL" \
    --credentials "$TMP/cred" --fingerprint "$FP" --action restore-db
keep
ok "... says why" said "needs a user with the admin role"
ok "the refusal is logged" grep -q "action restore-db refused: user 'alice'" "$TMP/serve.log"
ok "alice's line has the copy role" grep -q '^alice:.*:copy$' "$TMP/users"
ok "boss's line has the admin role" grep -q '^boss:.*:admin$' "$TMP/users"
is "GET: 405" "$(curl -sk -o /dev/null -w '%{http_code}' -u boss:boss-pw "$URL/v1/action/restore-db")" 405

# Only the whitelist, compared whole.
for p in ../x %2e%2e services-stop/../.. services-stop%2F..%2F.. \
    restore-db/ RESTORE-DB %72estore-db '' restore-db%00 ../../bin/sh; do
	is "name '$p': 404" "$(code "/v1/action/$p" -u boss:boss-pw)" 404
done
exits "iwm-push --action ../x: usage error" 64 action ../x
exits "iwm-push --action unknown: exit 76" 76 action no-such-thing
keep
ok "... the agent said no such action" said "no such action"
ok "nothing was run" sh -c '! grep -q "started" "$1"' - "$TMP/serve.log"

# restore-db: carriers exported on the source, pushed to the migration root.
exits "source databases exported" 0 iwm-dbexport -q --tool "$TMP/src/tool.sh" -o "$TMP/smig/db"
iwm-scan --root migration="$TMP/smig" >"$TMP/smig.m"
tscan --roots migration >"$TMP/dmig.m"
iwm-diff "$TMP/smig.m" "$TMP/dmig.m" >"$TMP/mig.diff"
ok "pushed into the target's migration root" push "$TMP/mig.diff"
ok "... arrived" test -s "$mig/db/accounts.db"
sqlite3 "$TMP/dst/calendar/groupware.db" 'DELETE FROM EventOwner'
exits "restore-db: exit 0" 0 action restore-db
cp "$TMP/.out" "$TMP/db.out"
is "its output: one line per carrier" "$(grep -c "^$mig/db/.*rows$" "$TMP/db.out")" 5
ok "no #iwm-exit line printed" sh -c '! grep -q "#iwm-exit" "$1"' - "$TMP/db.out"
is "groupware rows arrived in the target" \
    "$(sqlite3 "$TMP/dst/calendar/groupware.db" 'SELECT COUNT(*) FROM EventOwner')" \
    "$(sqlite3 "$TMP/src/calendar/groupware.db" 'SELECT COUNT(*) FROM EventOwner')"
ok "the program next to iwm-serve ran" grep -q "action restore-db by boss: started $TOP/bin/iwm-restore" "$TMP/serve.log"
ok "end and exit status logged" grep -q "action restore-db: ended after .*: exit 0" "$TMP/serve.log"
ok "no password in the log" sh -c '! grep -q -e boss-pw -e secret-pw "$1"' - "$TMP/serve.log"
ok "stdin was /dev/null" grep -qx /dev/null "$TMP/child.stdin"
ok "the environment was reduced" sh -c '! grep -q IWM_TEST_MARKER "$1"' - "$TMP/child.env"
ok "... PATH kept" grep -q '^PATH=' "$TMP/child.env"

# The client's exit status is the action's: a bogus carrier makes
# iwm-restore db exit 1, here and when run by hand.
printf 'not a database\n' >"$TMP/smig/db/bogus.db"
iwm-scan --root migration="$TMP/smig" >"$TMP/smig.m"
tscan --roots migration >"$TMP/dmig.m"
iwm-diff "$TMP/smig.m" "$TMP/dmig.m" >"$TMP/mig.diff"
push "$TMP/mig.diff" >/dev/null
iwm-restore db --tool "$TMP/dst/tool.sh" "$mig/db" >/dev/null 2>&1
want=$?
ok "by hand it fails" test "$want" -ne 0
exits "restore-db with a bogus carrier: the same exit ($want)" "$want" action restore-db
keep
ok "... its stderr streamed too" said "bogus.db: not an iwm database export"
rm -f "$TMP/smig/db/bogus.db" "$mig/db/bogus.db"

# A link planted in the migration root is never followed.
mv "$mig/db" "$mig/db.real"
ln -s "$mig/db.real" "$mig/db"
exits "db is a symbolic link: refused, exit 65" 65 action restore-db
keep
ok "... says why" said "not a plain entry"
rm "$mig/db"
mv "$mig/db.real" "$mig/db"

# The proxy is used as for the other requests: through a closed port
# nothing reaches the agent.
n0=$(grep -c 'action .* started' "$TMP/serve.log")
exits "--proxy to a closed port: exit 69" 69 action restore-db --proxy http://127.0.0.1:1
is "... the agent saw nothing" "$(grep -c 'action .* started' "$TMP/serve.log")" "$n0"

# Streaming, busy, and a client that goes away.
touch "$TMP/slow"
action_bg restore-db
bg=$BG
ok "output arrives while the action runs" test -s "$TMP/bg.out"
ok "... the client is still running" kill -0 "$bg"
for a in restore-db services-status; do
	is "$a while restore-db runs: 409" "$(code "/v1/action/$a" -u boss:boss-pw)" 409
done
exits "iwm-push --action while busy: exit 75" 75 action restore-db
keep
ok "... says busy and since when" said "busy: restore-db running since 20"
wait "$bg"
is "the first client got exit 0" "$?" 0
is "... and every line" "$(grep -c "rows$" "$TMP/bg.out")" 5

action_bg restore-db
kill "$BG"
wait "$bg" 2>/dev/null
n=0
while [ "$(grep -c 'action restore-db: ended' "$TMP/serve.log")" -lt 4 ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
ok "a client that went away: the action ran to its end" grep -q "the client went away; the action goes on" "$TMP/serve.log"
is "... exit 0 logged" "$(grep 'action restore-db: ended' "$TMP/serve.log" | tail -n 1 | sed 's/.*: exit //')" 0
ok "... its last lines went to the log" grep -q "action restore-db: $mig/db/groupware.db" "$TMP/serve.log"
rm -f "$TMP/slow"
exits "the next action runs" 0 action restore-db

# Stopping the agent waits for a running action.
serve_stop
serve_start --tool "$TMP/tool.sh"
touch "$TMP/slow"
action_bg restore-db
bg=$BG
kill "$SERVE_PID"
sleep 0.3
ok "SIGTERM: the agent waits for the action" kill -0 "$SERVE_PID"
wait "$bg"
is "... whose client gets it all (exit 0)" "$?" 0
wait "$SERVE_PID"
is "then the agent stops (exit 0)" "$?" 0
SERVE_PID=
rm -f "$TMP/slow"
ok "... and logged why it waited" grep -q "waiting for action restore-db to end" "$TMP/serve.log"

# A stream cut before its "#iwm-exit" line (the agent killed): exit 76.
serve_start --tool "$TMP/tool.sh"
touch "$TMP/slow"
action_bg restore-db
serve_kill9
wait "$BG"
is "the agent killed during an action: the client exits 76" "$?" 76
ok "... saying the stream was cut" grep -q 'the stream ended without "#iwm-exit N"' "$TMP/bg.err"
ok "... after printing what came" test -s "$TMP/bg.out"
rm -f "$TMP/slow"

# Programs are found next to iwm-serve, never on PATH: an agent copied
# alone into a directory finds none, although PATH has them all.
mkdir "$TMP/lonely"
cp "$TOP/bin/iwm-serve" "$TMP/lonely/"
PATH="$TMP/lonely:$PATH" serve_start --tool "$TMP/tool.sh"
for a in $ACTIONS; do
	exits "$a without its program: exit 69" 69 action "$a"
	keep
	ok "... a clear message" said "cannot run $TMP/lonely/iwm-.*No such file.*not installed next to iwm-serve"
done
serve_stop

# The users file: a line without a role is copy; a new password keeps
# the role; a bad role is refused.
sed 's/:admin$//' "$TMP/users" >"$TMP/users.old"
cp "$TMP/users" "$TMP/users.new"
cp "$TMP/users.old" "$TMP/users"
ok "an agent reads a file without roles" serve_start --tool "$TMP/tool.sh"
is "... boss is then a copy user: 403" "$(code /v1/action/restore-db -u boss:boss-pw)" 403
ok "... who still copies files" tscan --roots migration
serve_stop
cp "$TMP/users.new" "$TMP/users"
printf 'boss-pw2\n' | iwm-serve --add-user boss --users "$TMP/users"
ok "a new password keeps the admin role" grep -q '^boss:.*:admin$' "$TMP/users"
printf 'x\n' | iwm-serve --add-user carol --users "$TMP/users" --role root 2>/dev/null
is "--role root: usage error" "$?" 64
sed 's/^alice:\(.*\):copy$/alice:\1:root/' "$TMP/users" >"$TMP/users.bad"
chmod 600 "$TMP/users.bad"
exits "an unknown role in the file: the agent refuses to start" 69 iwm-serve \
    --listen 127.0.0.1:0 --cert "$TMP/cert/cert.pem" --key "$TMP/cert/key.pem" \
    --users "$TMP/users.bad" --tool "$TMP/tool.sh"
keep
ok "... naming the line" said "users.bad:.*role 'root'"

# An agent serving --root directories only has no actions.
ok "an agent with --root only" serve_start --root mail="$TMP/dst/mail"
is "... answers 503 to an admin" "$(code /v1/action/restore-db -u boss:boss-pw2)" 503
curl -sk -X POST -u boss:boss-pw2 "$URL/v1/action/restore-db" >"$TMP/503.out"
ok "... saying actions need --tool" grep -q "actions need an agent started with --tool" "$TMP/503.out"
[ -n "${IWM_TEST_KEEP:-}" ] && cp "$TMP/serve.log" "$IWM_TEST_KEEP"
done_testing
