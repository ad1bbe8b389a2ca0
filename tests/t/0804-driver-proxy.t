#!/bin/sh
# The driver through an HTTP proxy that wants a user and password: every
# program that talks to the agent goes through it (connect, deps' disk
# space check, copy, the target actions), the proxy's password never
# reaches a command line, the configuration or a log, and a wrong one is
# refused.  The proxy is a small CONNECT proxy in Python (no proxy server
# is installed here).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"
. "$TOP/tests/driver.sh"
PY=$(command -v python3) || skip_all "python3 not installed"

cat >"$TMP/proxy.py" <<'EOF'
# A CONNECT proxy with Basic authentication; one line per tunnel in LOG.
import base64, socket, sys, threading
want = "Basic " + base64.b64encode(sys.argv[1].encode()).decode()
log = open(sys.argv[2], "a", buffering=1)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
open(sys.argv[3], "w").write(str(srv.getsockname()[1]))
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def handle(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d:
            c.close(); return
        head += d
    lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    method, target = lines[0].split()[:2]
    auth = ""
    for l in lines[1:]:
        if l.lower().startswith("proxy-authorization:"):
            auth = l.split(":", 1)[1].strip()
    if method != "CONNECT" or auth != want:
        log.write("refused %s %s\n" % (method, target))
        c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                  b"Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n")
        c.close(); return
    host, port = target.rsplit(":", 1)
    u = socket.create_connection((host, int(port)))
    log.write("tunnel %s\n" % target)
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    pump(c, u)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

# shellcheck disable=SC2119 # no extra simulator options
drv_setup || { echo "Bail out! setup failed"; exit 1; }
"$PY" "$TMP/proxy.py" 'prox user:pr0xy p@ss:word' "$TMP/proxy.log" \
    "$TMP/proxy.port" &
PROXY_PID=$!
# shellcheck disable=SC2034 # run by tests/lib.sh at exit
T_CLEANUP="serve_stop; kill $PROXY_PID 2>/dev/null"
n=0
while [ ! -s "$TMP/proxy.port" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
PPORT=$(cat "$TMP/proxy.port")

printf 'prox user:pr0xy p@ss:word\n' >"$TMP/proxy-cred"
chmod 600 "$TMP/proxy-cred"
ok "init with a proxy and its credentials file" iwm_ init --force \
    --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
    --tool "$SRC/tool.sh" --target-tool "$TGT/tool.sh" \
    --migration-dir "$TMP/mig" --proxy "http://127.0.0.1:$PPORT" \
    --proxy-credentials "$TMP/proxy-cred"
ok "connect through the proxy" iwm_ connect
ok "the proxy carried the listing and the target action" \
    test "$(grep -c "^tunnel 127.0.0.1:" "$TMP/proxy.log")" -ge 2
ok "deps" iwm_ deps
before=$(grep -c '^tunnel' "$TMP/proxy.log")
ok "copy through the proxy" iwm_ copy
after=$(grep -c '^tunnel' "$TMP/proxy.log")
ok "disk space check, listings and pushes went through it ($((after - before)) tunnels)" \
    test $((after - before)) -ge 5
ok "the mail is on the target" same_tree "$SRC/mail/dom1.example/user1" "$TGT/mail/dom1.example/user1"
ok "the proxy's password is in no configuration, state or log" sh -c \
    '! grep -rq "pr0xy" "$1/iwm.conf" "$1/mig" "$2/logs/migration" "$2"/temp/mig*.log' \
    - "$TMP" "$SRC"
ok "nothing refused so far" sh -c '! grep -q "^refused" "$1"' - "$TMP/proxy.log"
printf 'prox user:wrong\n' >"$TMP/proxy-cred"
exits "a wrong proxy password: connect fails (69)" 69 iwm_ connect
ok "the proxy refused it" grep -q "^refused CONNECT" "$TMP/proxy.log"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
done_testing
