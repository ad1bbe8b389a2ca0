#!/bin/sh
# The agent's log at the default level carries no TLS library noise
# (a client speaking plain HTTP to it: "received handshake message out
# of context"); with -v it does.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

command -v curl >/dev/null 2>&1 || skip_all "no curl"

# plain_http: a plain HTTP request to the HTTPS agent, then a real push,
# so that the log is flushed past the handshake.
plain_http() {
	curl -s -m 5 "http://${URL#https://}/" -o /dev/null
	printf '#iwm-manifest 1\n' | push - >/dev/null 2>&1
}

ok "agent starts" serve_start --root mail="$TMP/dst"
plain_http
serve_stop
ok "default level: no handshake message" sh -c '! grep -i handshake "$1"' - "$TMP/serve.log"

: >"$TMP/serve.log"
ok "agent starts with -v" serve_start --root mail="$TMP/dst" -v
plain_http
serve_stop
ok "-v: the handshake message is there" grep -qi "iwm-serve: .*handshake" "$TMP/serve.log"
done_testing
