#!/bin/sh
# Slow and idle clients cannot lock others out: one address gets at
# most --max-per-address connections, and connections idle for
# --timeout seconds (also those that never start TLS) are dropped.
# TLS is 1.2 or 1.3 with AEAD ciphers only: TLS 1.0, 1.1 and CBC
# suites are refused even to a client that offers nothing better.
# set -- $(curl ... -w '%{http_code} %{time_total}') splits on purpose.
# shellcheck disable=SC2046
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/serve.sh"

plan 12

dst=$TMP/dst
mkdir -p "$dst"
ok "agent starts" serve_start --root mail="$dst" --timeout 8
port=${URL##*:}

# 100 TCP connections from 127.0.0.3 that never start TLS, held 12 s;
# the script reports how many the agent has closed by then.
cat >"$TMP/idle.pl" <<'PERL'
use strict; use IO::Socket::INET; use IO::Select;
my ($port, $n, $hold, $out) = @ARGV;
my @s;
for (1..$n) {
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    LocalAddr => "127.0.0.3", Proto => "tcp") or next;
	push @s, $c;
}
open(my $f, ">", "$out.tmp") or die; print $f scalar(@s), "\n"; close $f;
rename("$out.tmp", $out);
sleep $hold;
my $closed = 0;
for my $c (@s) {
	my $sel = IO::Select->new($c);
	my ($b, $r) = ("", 1);
	# An alert may come before the end of the stream.
	while ($r && $sel->can_read(0.2)) { $r = sysread($c, $b, 4096); }
	$closed++ if !$r;
}
print "$closed\n";
PERL
perl "$TMP/idle.pl" "$port" 100 12 "$TMP/opened" >"$TMP/closed" &
idle=$!
# Slow requests from the same address: a header line now and then.
slow=
i=0
while [ $i -lt 8 ]; do
	(printf 'GET /v1/info HTTP/1.1\r\n'; sleep 2; printf 'X-A: 1\r\n';
	    sleep 2; printf 'X-B: 1\r\n'; sleep 8) |
	    openssl s_client -quiet -connect "127.0.0.1:$port" \
	    -bind 127.0.0.3:0 >/dev/null 2>&1 &
	slow="$slow $!"
	i=$((i + 1))
done
n=0
while [ ! -s "$TMP/opened" ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
sleep 1
: >"$TMP/times"
i=0
while [ $i -lt 5 ]; do
	curl -sk --max-time 3 -u alice:secret-pw -o /dev/null \
	    -w '%{http_code} %{time_total}\n' "$URL/v1/info" >>"$TMP/times"
	i=$((i + 1))
done
sed 's/^/# /' "$TMP/times"
is "a client gets all its answers during the attack" \
    "$(grep -c '^200 ' "$TMP/times")" 5
ok "and quickly" awk '$2 >= 2 { exit 1 }' "$TMP/times"
wait "$idle"
ok "idle connections are dropped after --timeout ($(cat "$TMP/closed") of \
$(cat "$TMP/opened"))" test "$(cat "$TMP/closed")" -ge 90
# shellcheck disable=SC2086 # a list of pids
kill $slow 2>/dev/null
set -- $(curl -sk --max-time 10 -u alice:secret-pw -o /dev/null \
    -w '%{http_code}\n' --interface 127.0.0.3 "$URL/v1/info")
is "the attacking address is served again afterwards" "$1" 200

# TLS versions and suites, offered by a client that would take any.
tls() {
	echo | openssl s_client -connect "127.0.0.1:$port" "$@" 2>&1 |
	    grep -q '^New, TLSv1'
}
fails "TLS 1.0 refused" tls -tls1 -cipher 'ALL:@SECLEVEL=0'
fails "TLS 1.1 refused" tls -tls1_1 -cipher 'ALL:@SECLEVEL=0'
fails "TLS 1.2 with a CBC suite refused" tls -tls1_2 \
    -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0'
ok "TLS 1.2 with AES-GCM accepted" tls -tls1_2 \
    -cipher 'ECDHE-ECDSA-AES128-GCM-SHA256'
ok "TLS 1.2 with ChaCha20-Poly1305 accepted" tls -tls1_2 \
    -cipher 'ECDHE-ECDSA-CHACHA20-POLY1305'
ok "TLS 1.3 accepted" tls -tls1_3
ok "iwm-push still copies" sh -c "mkdir -p '$TMP/src' && echo x \
    >'$TMP/src/f' && iwm-scan --root mail='$TMP/src' >'$TMP/s.m' && \
    iwm-push --target '$URL' --credentials '$TMP/cred' --fingerprint \
    '$FP' --no-progress '$TMP/s.m' && cmp '$TMP/src/f' '$dst/f'"
