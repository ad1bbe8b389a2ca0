#!/bin/sh
# What the agent writes belongs to the mail server: with --owner
# USER[:GROUP], and with --tool to IWS_PROCESS_USER of the target's
# icewarp.conf: files, the directories it makes on the way, and the
# directories of the manifest.  A test user and group are made here and
# removed at the end.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

u=iwmt$$
g=iwmg$$
test_ids "$u" "$g" "${g}x"
# serve_start sets T_CLEANUP: the ids go in a trap of their own.
trap 'serve_stop; test_ids_remove; t_cleanup' EXIT

src=$TMP/src
mkdir -p "$src/dom.example/alice/INBOX" "$src/dom.example/bob"
printf 'hello' >"$src/dom.example/alice/INBOX/1.imap"
printf 'world' >"$src/dom.example/bob/2.imap"
chmod 2750 "$src/dom.example/bob"
touch -d '2021-01-01' "$src/dom.example/alice/INBOX/1.imap" \
    "$src/dom.example/bob/2.imap"

# owners DIR: every entry below DIR (DIR itself too) as USER:GROUP, once each.
owners() {
	find "$1" ! -name '.iwm-*' -printf '%u:%g\n' | sort -u | tr '\n' ' '
}

# --owner USER: the user's own group.
dst=$TMP/dst1
ok "agent with --owner $u" serve_start --root mail="$dst" --owner "$u"
ok "a pass" pass "$src"
is "every file and directory is $u:$g" "$(owners "$dst")" "$u:$g "
is "the setgid bit of a directory survives the chown" \
    "$(stat -c %a "$dst/dom.example/bob")" 2750
serve_stop

# --owner USER:GROUP
dst=$TMP/dst2
ok "agent with --owner $u:${g}x" serve_start --root mail="$dst" --owner "$u:${g}x"
ok "a pass" pass "$src"
is "every file and directory is $u:${g}x" "$(owners "$dst")" "$u:${g}x "
# A changed file and a patched one (delta) keep the owner.
printf 'hello again, a longer text' >"$src/dom.example/alice/INBOX/1.imap"
touch -d '2021-01-02' "$src/dom.example/alice/INBOX/1.imap"
ok "a second pass" pass "$src"
is "... the updated file too" \
    "$(stat -c %U:%G "$dst/dom.example/alice/INBOX/1.imap")" "$u:${g}x"
serve_stop

exits "--owner of a user that does not exist: exit 69" 69 \
    iwm-serve --listen 127.0.0.1:0 --insecure-http --users "$TMP/users" \
    --root mail="$TMP/dst3" --owner nosuchuser$$
cp "$TMP/.out" "$TMP/err"
ok "... naming it" grep -q "no such user 'nosuchuser$$'" "$TMP/err"
exits "--owner with an empty group: exit 69" 69 \
    iwm-serve --listen 127.0.0.1:0 --insecure-http --users "$TMP/users" \
    --root mail="$TMP/dst3" --owner "$u:"

# --tool: IWS_PROCESS_USER from the target's icewarp.conf.
iwsim create "$TMP/tgt" --domains 1 --users 1 --no-mailboxes >/dev/null ||
    { echo "Bail out! iwsim create"; exit 1; }
sed -i "s/^IWS_PROCESS_USER=.*/IWS_PROCESS_USER=\"$u\"/" "$TMP/tgt/icewarp.conf"
IWM_ICEWARP_CONF=$TMP/tgt/icewarp.conf
export IWM_ICEWARP_CONF
ok "agent with --tool, the process user from icewarp.conf" \
    serve_start --tool "$TMP/tgt/tool.sh"
mailroot=$("$TMP/tgt/tool.sh" get system C_System_Storage_Dir_MailPath |
    sed -n 's/^C_System_Storage_Dir_MailPath: *//p')
ok "a pass into the target's mail root" pass "$src"
is "what arrived in $mailroot is $u:$g" "$(owners "$mailroot/dom.example")" "$u:$g "
serve_stop

sed -i "s/^IWS_PROCESS_USER=.*/IWS_PROCESS_USER=\"nosuchuser$$\"/" "$TMP/tgt/icewarp.conf"
exits "IWS_PROCESS_USER naming no user: exit 69" 69 \
    iwm-serve --listen 127.0.0.1:0 --insecure-http --users "$TMP/users" \
    --tool "$TMP/tgt/tool.sh"
cp "$TMP/.out" "$TMP/err"
ok "... naming the file it came from" grep -q "IWS_PROCESS_USER in $TMP/tgt/icewarp.conf" "$TMP/err"
done_testing
