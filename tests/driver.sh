# tests/driver.sh: two simulated servers and an agent for the driver's
# tests (sourced after tests/lib.sh and tests/serve.sh).
#
# drv_setup [IWSIM OPTIONS...]: a source in $SRC (Linux, SQLite), a
# pre-configured target in $TGT, an agent on the target's tool (user
# alice with the admin role when the agent knows roles), and an iwm.conf
# in $TMP/iwm.conf.  iwm runs the driver with it.

# DRV_TARGET_OPTS: more options for the target's iwsim create.
drv_target() {
	# shellcheck disable=SC2086 # options, split on purpose
	iwsim create "$TGT" --target --seed 99 ${DRV_TARGET_OPTS:-} >/dev/null
}

drv_setup() {
	SRC=$TMP/src
	TGT=$TMP/tgt
	export SRC TGT
	iwsim create "$SRC" --seed 7 --domains 2 --users 3 --folders 2 \
	    --messages 4 --archivists 1 --externs 1 --shared 1 "$@" \
	    >/dev/null || return 1
	drv_target || return 1
	drv_init
}

# drv_init: the agent's certificate and its user alice (admin role), the
# agent on $TGT's tool, and $TMP/iwm.conf from $SRC to it.
drv_init() {
	iwm-serve --make-cert "$TMP/cert" >"$TMP/fp" || return 1
	printf 'secret-pw\n' | iwm-serve --add-user alice --role admin \
	    --users "$TMP/users" || return 1
	printf 'alice:secret-pw\n' >"$TMP/cred"
	chmod 600 "$TMP/cred"
	drv_agent || return 1
	iwm_ init --target "$URL" --credentials "$TMP/cred" --fingerprint "$FP" \
	    --tool "$SRC/tool.sh" --target-tool "$TGT/tool.sh" \
	    --migration-dir "$TMP/mig" >/dev/null
}

# drv_agent: (re)start the agent on the target's tool; a restarted
# agent listens on another port, which goes into iwm.conf.
drv_agent() {
	serve_start --tool "$TGT/tool.sh" || return 1
	if [ -f "$TMP/iwm.conf" ]; then
		sed -i "s|^TARGET_URL=.*|TARGET_URL=$URL|" "$TMP/iwm.conf"
	fi
}

# iwm_ ARGS: the driver with the test's configuration (under dash when
# IWM_SH names it).
# Its output is also kept in $TMP/last for the checks that follow.
iwm_() {
	iwm_c "$TMP/iwm.conf" "$@"
}

# iwm_c CONF ARGS: the same with another configuration.
iwm_c() {
	ic_conf=$1
	shift
	${IWM_SH:-sh} "$TOP/bin/iwm" -c "$ic_conf" "$@" >"$TMP/last.tmp" 2>&1
	ic_st=$?
	cat "$TMP/last.tmp"
	mv -f "$TMP/last.tmp" "$TMP/last"
	return "$ic_st"
}

# said PATTERN: the last iwm_ printed a line matching PATTERN (grep -E).
said() {
	grep -qE "$1" "$TMP/last"
}

# Does the agent run target actions yet?
drv_have_actions() {
	iwm-push --help 2>&1 | grep -q -- '--action'
}

# same_tree A B: the files below A and B have the same names, sizes,
# mtimes (seconds) and modes, and the same content.
same_tree() {
	(cd "$1" && find . -type f -printf '%P\t%s\t%TY%Tm%Td%TH%TM%TS\t%m\n' |
	    sed 's/\.[0-9]*\t/\t/' | LC_ALL=C sort) >"$TMP/st.a"
	(cd "$2" && find . -type f -printf '%P\t%s\t%TY%Tm%Td%TH%TM%TS\t%m\n' |
	    sed 's/\.[0-9]*\t/\t/' | LC_ALL=C sort) >"$TMP/st.b"
	cmp -s "$TMP/st.a" "$TMP/st.b" || { diff "$TMP/st.a" "$TMP/st.b" | head; return 1; }
	diff -r "$1" "$2" >/dev/null
}
