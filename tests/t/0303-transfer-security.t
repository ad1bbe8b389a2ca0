#!/bin/sh
# The agent refuses bad credentials and a client refuses a certificate
# that does not match its pin; nothing is written either way.  Path
# attacks (.., percent-encoded dots, absolute paths, NUL, a symlink in
# the target root pointing outside) are refused and touch nothing
# outside the root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

src=$TMP/src
dst=$TMP/dst
out=$TMP/outside
mkdir -p "$src/d" "$dst" "$out"
printf 'mail' >"$src/d/m.imap"
printf 'precious' >"$out/victim"
ln -s "$out" "$dst/evil"
ln -s "$out/victim" "$dst/victimlink"
ok "agent starts" serve_start --root mail="$dst"
iwm-scan --root mail="$src" >"$TMP/src.m"

# Credentials.
printf 'alice:wrong\n' >"$TMP/badpw"
printf 'mallory:secret-pw\n' >"$TMP/baduser"
chmod 600 "$TMP/badpw" "$TMP/baduser"
exits "wrong password: exit 77" 77 iwm-push --target "$URL" \
    --credentials "$TMP/badpw" --fingerprint "$FP" --no-progress "$TMP/src.m"
exits "unknown user: exit 77" 77 iwm-push --target "$URL" \
    --credentials "$TMP/baduser" --fingerprint "$FP" --no-progress "$TMP/src.m"
exits "wrong password: scan --target exit 77" 77 iwm-scan --target "$URL" \
    --credentials "$TMP/badpw" --fingerprint "$FP"
ok "failed logins are logged" grep -q "login failed for user 'alice'" "$TMP/serve.log"
ok "unknown user logged too" grep -q "login failed for user 'mallory'" "$TMP/serve.log"
ok "passwords never logged" sh -c '! grep -q -e wrong -e secret-pw "$1"' - "$TMP/serve.log"
badfp=$(printf '%s' "$FP" | tr '0123456789ABCDEF' '123456789ABCDEF0')
exits "wrong fingerprint: exit 77" 77 iwm-push --target "$URL" \
    --credentials "$TMP/cred" --fingerprint "$badfp" --no-progress "$TMP/src.m"
exits "wrong fingerprint: scan --target exit 77" 77 iwm-scan --target "$URL" \
    --credentials "$TMP/cred" --fingerprint "$badfp"
exits "no CA that trusts the agent: refused" 77 iwm-push --target "$URL" \
    --credentials "$TMP/cred" --cacert /etc/ssl/certs/ca-certificates.crt \
    --no-progress "$TMP/src.m"
exits "plain http:// refused without --insecure-http" 64 iwm-push \
    --target "http://127.0.0.1:1" --credentials "$TMP/cred" "$TMP/src.m"
ok "nothing was written" test ! -e "$dst/d"
code=$(curl -sk -o /dev/null -w '%{http_code}' "$URL/v1/info")
is "no credentials: 401" "$code" 401
ok "right credentials work" push "$TMP/src.m"
ok "and write" test -f "$dst/d/m.imap"

# Path attacks, straight at the agent.
put() {
	curl -sk --path-as-is -o /dev/null -w '%{http_code}' -u alice:secret-pw \
	    -T "$src/d/m.imap" -H 'X-Iwm-Mtime: 1.000000000' \
	    -H 'X-Iwm-Mode: 644' -H 'X-Iwm-Size: 4' "$URL$1"
}
is "../ refused" "$(put /v1/file/mail/../outside/x)" 400
is "../../ refused" "$(put /v1/file/mail/d/../../outside/x)" 400
is "%2e%2e refused" "$(put /v1/file/mail/%2e%2e/outside/x)" 400
is "%2E%2E%2F refused" "$(put /v1/file/mail/d%2F%2E%2E%2F%2E%2E%2Foutside%2Fx)" 400
is "absolute path refused" "$(put /v1/file/mail//etc/iwm-x)" 400
is "encoded absolute path refused" "$(put /v1/file/mail/%2Fetc%2Fiwm-x)" 400
is "encoded NUL refused" "$(put /v1/file/mail/a%00b)" 400
is "root as .. refused" "$(put /v1/file/../x)" 404
is "reserved temp name refused" "$(put /v1/file/mail/.iwm-tmp-1)" 400
is "symlink to a directory outside: refused" "$(put /v1/file/mail/evil/x)" 403
is "symlink, deeper: refused" "$(put /v1/file/mail/evil/sub/x)" 403
ok "nothing created outside" sh -c '[ "$(ls "$1")" = victim ] && [ ! -e /etc/iwm-x ]' - "$out"
code=$(curl -sk --path-as-is -o /dev/null -w '%{http_code}' -u alice:secret-pw \
    -X DELETE "$URL/v1/file/mail/evil/victim")
is "delete through the symlink refused" "$code" 403
code=$(curl -sk --path-as-is -o /dev/null -w '%{http_code}' -u alice:secret-pw \
    "$URL/v1/sig/mail/evil/victim")
is "signature through the symlink refused" "$code" 403
code=$(curl -sk --path-as-is -o /dev/null -w '%{http_code}' -u alice:secret-pw \
    "$URL/v1/sig/mail/victimlink")
is "signature of a symlink refused" "$code" 403
code=$(curl -sk -o /dev/null -w '%{http_code}' -u alice:secret-pw \
    "$URL/v1/list?scope=mail:evil/")
is "listing through the symlink refused" "$code" 403
code=$(curl -sk --path-as-is -o /dev/null -w '%{http_code}' -u alice:secret-pw \
    -X PUT -H 'X-Iwm-Mode: 755' "$URL/v1/dir/mail/evil/newdir")
is "mkdir through the symlink refused" "$code" 403
is "a file over the symlink replaces the link only" "$(put /v1/file/mail/victimlink)" 200
is "the outside file is untouched" "$(cat "$out/victim")" precious
ok "listing does not follow the symlink" sh -c \
    '! curl -sk -u alice:secret-pw "$1/v1/list" | grep -q victim\$' - "$URL"

# The same through iwm-push: a hostile diff.
printf '#iwm-manifest 1\n+\tf\t4\t1.000000000\t644\tmail\tevil/y\t%s\n' "$src/d/m.imap" >"$TMP/hostile.m"
exits "push through the symlink: item fails" 1 push --failed "$TMP/failed" "$TMP/hostile.m"
ok "failed list names it" grep -q "evil/y" "$TMP/failed"
ok "nothing written outside" test ! -e "$out/y"
ok "no temp files" no_temps "$dst"
done_testing
