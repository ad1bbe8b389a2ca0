# tests/serve.sh: start and drive an iwm-serve agent for the transfer
# tests (sourced after tests/lib.sh).  serve_start ROOTARGS... starts one
# on 127.0.0.1 with a fresh certificate and user and stops it on exit.

serve_start() {
	if [ ! -f "$TMP/cert/cert.pem" ]; then
		iwm-serve --make-cert "$TMP/cert" >"$TMP/fp" || return 1
		printf 'secret-pw\n' |
		    iwm-serve --add-user alice --users "$TMP/users" || return 1
		printf 'alice:secret-pw\n' >"$TMP/cred"
		chmod 600 "$TMP/cred"
	fi
	FP=$(cat "$TMP/fp")
	rm -f "$TMP/ready"
	iwm-serve --listen 127.0.0.1:0 --cert "$TMP/cert/cert.pem" \
	    --key "$TMP/cert/key.pem" --users "$TMP/users" \
	    --ready-file "$TMP/ready" "$@" 2>>"$TMP/serve.log" &
	SERVE_PID=$!
	t_on_exit serve_stop
	s_n=0
	while [ ! -s "$TMP/ready" ]; do
		s_n=$((s_n + 1))
		if [ "$s_n" -gt 200 ] || ! kill -0 "$SERVE_PID" 2>/dev/null
		then
			cat "$TMP/serve.log" >&2
			return 1
		fi
		sleep 0.05
	done
	URL=$(cat "$TMP/ready")
	export URL FP
}

serve_stop() {
	if [ -n "${SERVE_PID:-}" ]; then
		kill "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" 2>/dev/null
		SERVE_PID=
	fi
}

serve_kill9() {
	kill -9 "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}

push() {
	iwm-push --target "$URL" --credentials "$TMP/cred" \
	    --fingerprint "$FP" --no-progress "$@"
}

# push_bg ARGS...: iwm-push itself in the background, its pid in PUSH_PID
# (a backgrounded function would be a subshell, not iwm-push).
push_bg() {
	iwm-push --target "$URL" --credentials "$TMP/cred" \
	    --fingerprint "$FP" --no-progress "$@" &
	# shellcheck disable=SC2034 # read by the test
	PUSH_PID=$!
}

tscan() {
	iwm-scan --target "$URL" --credentials "$TMP/cred" \
	    --fingerprint "$FP" "$@"
}

# pass SRCDIR [PUSH OPTIONS]: scan, list the target, diff, push with
# --delete.  The journal is $TMP/journal, push's stderr $TMP/push.err.
pass() {
	p_src=$1
	shift
	iwm-scan --root mail="$p_src" >"$TMP/src.m" &&
	    tscan --roots mail >"$TMP/dst.m" &&
	    iwm-diff --delete "$TMP/src.m" "$TMP/dst.m" >"$TMP/diff.m"
	p_rc=$?
	[ "$p_rc" -le 1 ] || return "$p_rc"
	push --delete --stats "$@" "$TMP/diff.m" >"$TMP/journal" \
	    2>"$TMP/push.err"
}

# stat_of KEY: a figure from the last push --stats line.
stat_of() {
	sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$TMP/push.err" | tail -n 1
}

# records FILE: number of records (non-comment lines) in a manifest.
records() {
	grep -vc '^#' "$1"
}

# same_mtimes A B: every file under A has the same mtime under B.
same_mtimes() {
	# .iwm-racy: the agent's marks of racily clean copies (files
	# written within two seconds of the pass), never on the source.
	(cd "$1" && find . -type f ! -name .iwm-racy -printf '%P\t%T@\n' |
	    sort) >"$TMP/mt.a"
	(cd "$2" && find . -type f ! -name .iwm-racy -printf '%P\t%T@\n' |
	    sort) >"$TMP/mt.b"
	cmp -s "$TMP/mt.a" "$TMP/mt.b"
}

# uploading DIR: the agent has an upload under way below DIR: a file it
# holds open with no name yet (O_TMPFILE: /proc shows "DIR/.../#INODE
# (deleted)"), or one under a temporary name (--temp-names).
uploading() {
	[ -n "$(find "$1" -name '.iwm-tmp-*' -print)" ] && return 0
	for u_fd in /proc/"${SERVE_PID:-none}"/fd/*; do
		u_l=$(readlink "$u_fd" 2>/dev/null) || continue
		case $u_l in
		"$1"/*'#'*' (deleted)') return 0 ;;
		esac
	done
	return 1
}

# wait_upload DIR: until an upload is under way below DIR (at most 10 s);
# 0 once it is.
wait_upload() {
	wu_n=0
	until uploading "$1"; do
		[ "$wu_n" -lt 200 ] || return 1
		sleep 0.05
		wu_n=$((wu_n + 1))
	done
}

# no_temps DIR: no unfinished upload is left anywhere below DIR, neither
# under a temporary name nor held open by the agent.
no_temps() {
	! uploading "$1"
}

# temp_names DIR: how many temporary names are below DIR.
temp_names() {
	find "$1" -name '.iwm-tmp-*' -print | wc -l | tr -d ' '
}

# hostile_tree DIR: the foundation's hostile names (0001-manifest.t),
# with some content and old mtimes.
hostile_tree() {
	h=$1
	mkdir -p "$h/with space" "$h/-leading-dash" "$h/empty dir"
	printf 'x' >"$h/with space/a file"
	printf 'x' >"$h/tab	name"
	printf 'x' >"$h/new
line"
	printf 'x' >"$h/cr$(printf '\r')name"
	printf 'x' >"$h/back\\slash\\\\"
	printf 'x' >"$h/-rf"
	printf 'x' >"$h/--"
	printf 'x' >"$h/héllo wörld ✉"
	printf 'x' >"$h/$(printf 'bad\377\376utf8')"
	printf 'x' >"$h/percent%2e%2e and ?query#frag+plus"
	: >"$h/empty file"
	printf 'x' >"$h/$(printf '%0255d' 0 | tr 0 L)"
	hd=$h
	hi=0
	while [ $hi -lt 40 ]; do
		hd=$hd/d$hi
		hi=$((hi + 1))
	done
	mkdir -p "$hd"
	printf 'deep' >"$hd/leaf"
	mkdir -p "$h/a/b" "$h/a.b" "$h/a-b"
	printf 'x' >"$h/a/b/c"
	head -c 3000000 /dev/urandom >"$h/a/big"
	chmod 640 "$h/a/b/c"
	find "$h" -type f -exec touch -d '2020-01-02 03:04:05.123456789' {} +
}
