# libexec/iwm/phase1.sh: iwm connect, deps, copy, sync and the copy pass.
# Sourced by bin/iwm.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# version_ge VERSION MIN: VERSION (a.b.c...) is at least MIN (a.b).
version_ge() {
	awk -v v="$1" -v m="$2" 'BEGIN {
		nv = split(v, a, "."); nm = split(m, b, ".")
		for (i = 1; i <= nm; i++) {
			x = (i <= nv) ? a[i] + 0 : 0
			if (x > b[i] + 0) exit 0
			if (x < b[i] + 0) exit 1
		}
		exit 0
	}'
}

CONNECT_FAIL=0
cfail() {
	log connect "FAILED: $*"
	printf '  FAIL  %s\n' "$*"
	CONNECT_FAIL=$((CONNECT_FAIL + 1))
}
cok() {
	log connect "ok: $*"
	printf '  ok    %s\n' "$*"
}
cwarn() {
	log connect "warning: $*"
	printf '  warn  %s\n' "$*"
}

# check_target TOOL: the target's pre-configuration as IceWarp's migrator
# guide asks for it, through the target's own tool.
check_target() {
	ct_tool=$1
	ct_v=$(tool_get "$ct_tool" C_Version)
	if [ -z "$ct_v" ]; then
		cwarn "target version unknown (its tool has no C_Version): it must be 11.2 or later"
	elif version_ge "$ct_v" 11.2; then
		cok "target version $ct_v (11.2 or later)"
	else
		cfail "target version $ct_v: the target must run IceWarp 11.2 or later"
	fi
	# An administrator account in a domain the source does not have.
	"$ct_tool" export domain '*' 2>/dev/null | cut -d, -f1 | sort -u \
	    >"$MIG/run/target-domains"
	"$SRC_TOOL" export domain '*' 2>/dev/null | cut -d, -f1 | sort -u \
	    >"$MIG/run/source-domains"
	ct_admins=$("$ct_tool" export account '*@*' u_admin 2>/dev/null |
	    awk -F, '$2 + 0 == 1 { print $1 }' | tr -d '\r')
	ct_found=
	for ct_a in $ct_admins; do
		ct_d=${ct_a#*@}
		if ! grep -qixF "$ct_d" "$MIG/run/source-domains"; then
			ct_found=$ct_a
			break
		fi
	done
	if [ -n "$ct_found" ]; then
		cok "target administrator $ct_found, in a domain the source does not have"
	elif [ -n "$ct_admins" ]; then
		cfail "every target administrator account is in a domain the source also has ($(printf '%s' "$ct_admins" | tr '\n' ' ')): create one in a domain of its own, such as admin@localdomain"
	else
		cfail "the target has no administrator account (U_Admin 1): create one in a domain the source does not have, such as admin@localdomain"
	fi
	# Every database connection: export the target's (still small)
	# databases with its own connections.
	rm -rf "$MIG/run/target-db"
	if iwm-dbexport -q --tool "$ct_tool" -o "$MIG/run/target-db" \
	    >"$MIG/run/target-db.out" 2>&1; then
		cok "target database connections work ($(grep -c . "$MIG/run/target-db.out") read)"
	else
		cfail "a target database connection does not work:"
		sed 's/^/          /' "$MIG/run/target-db.out" | tail -n 5
	fi
	rm -rf "$MIG/run/target-db"
	ct_dns=$(tool_get "$ct_tool" C_Mail_SMTP_General_DNSServer)
	if [ -n "$ct_dns" ]; then
		cok "target DNS server set ($ct_dns)"
	else
		cfail "the target has no DNS server (C_Mail_SMTP_General_DNSServer): set it before the migration"
	fi
	ct_lh=$(tool_get "$ct_tool" C_System_Services_SIP_LocalAccessHost)
	ct_rh=$(tool_get "$ct_tool" C_System_Services_SIP_RemoteAccessHost)
	if [ -n "$ct_lh" ] && [ -n "$ct_rh" ]; then
		cok "target VoIP interface hosts set (local $ct_lh, remote $ct_rh)"
	else
		cfail "the target's VoIP local and remote interface hosts must be set (C_System_Services_SIP_LocalAccessHost, _RemoteAccessHost)"
	fi
}

cmd_connect() {
	[ $# -eq 0 ] || die 64 "connect takes no arguments"
	STEP=connect
	conf_need TARGET_URL CREDENTIALS
	mkdir -p "$MIG/run" || die 73 "$MIG: cannot make"
	say "== connect: the source, the agent at $TARGET_URL, the target"
	# The source.
	SRC_TOOL=$(src_tool)
	if [ -z "$SRC_TOOL" ] || [ ! -x "$SRC_TOOL" ]; then
		cfail "the source's IceWarp tool ${SRC_TOOL:-(none)} cannot be run: set TOOL in $CONF"
		return 69
	fi
	if [ -z "$(tool_get "$SRC_TOOL" C_InstallPath)" ]; then
		cfail "the source's tool $SRC_TOOL does not answer"
		return 69
	fi
	cok "source tool $SRC_TOOL answers"
	src_paths || cwarn "the source's temp and log paths cannot be used here (a Windows source?)"
	log connect "connecting to $TARGET_URL"
	cs_v=$(tool_get "$SRC_TOOL" C_Version)
	if [ -z "$cs_v" ]; then
		cwarn "source version unknown (its tool has no C_Version): it must be 11.0 or later"
	elif version_ge "$cs_v" 11.0; then
		cok "source version $cs_v (11.0 or later)"
	else
		cfail "source version $cs_v: IceWarp's migrator guide needs 11.0 or later"
	fi
	# The secret files.
	for cs_f in "$CREDENTIALS" "$DIRCREDS" "$PROXY_CREDENTIALS"; do
		[ -n "$cs_f" ] || continue
		if (secret_ok "$cs_f") 2>"$MIG/run/secret.err"; then
			cok "secret file $cs_f (mode 0600)"
		else
			cfail "$(sed 's/^iwm: //' "$MIG/run/secret.err")"
		fi
	done
	[ "$CONNECT_FAIL" -eq 0 ] || { connect_end; return 77; }
	# The agent: reachable, its certificate, our credentials.
	remote iwm-scan --roots migration >"$MIG/run/target-migration.m" \
	    2>"$MIG/run/connect.err"
	cs_st=$?
	log_file connect "$MIG/run/connect.err"
	case $cs_st in
	0) cok "agent reached; certificate and credentials accepted" ;;
	77) cfail "the agent refused the credentials of $CREDENTIALS, or its certificate does not match ${FINGERPRINT:+the fingerprint }${CACERT:+$CACERT}"
	    connect_end; return 77 ;;
	69) cfail "the agent at $TARGET_URL cannot be reached${PROXY:+ through $PROXY}: $(tail -n 1 "$MIG/run/connect.err")"
	    connect_end; return 69 ;;
	*) cfail "the agent answered unexpectedly (iwm-scan exit $cs_st): $(tail -n 1 "$MIG/run/connect.err")"
	    connect_end; return 76 ;;
	esac
	# The target's tool, through the agent (needs the admin role).
	STEP=connect
	if action services-status >/dev/null 2>&1; then
		cok "target tool answers through the agent (services: $(grep -c '	on	' "$MIG/run/action-services-status.out") on)"
	else
		cs_st=$?
		case $cs_st in
		77) cfail "the agent refuses target actions to this user: give it the admin role in the agent's users file" ;;
		*) cfail "the target action services-status failed (exit $cs_st): $(tail -n 1 "$MIG/run/action-services-status.out")" ;;
		esac
	fi
	# The target's pre-configuration.
	if [ -n "$TARGET_TOOL" ]; then
		check_target "$TARGET_TOOL"
	else
		cwarn "target pre-configuration (version 11.2+, administrator in its own domain, database connections, DNS, VoIP hosts) not checked from here: set TARGET_TOOL when the target's tool runs on this host, or check it on the target (iwm(1), CONNECT)"
	fi
	if [ -z "$DIRCREDS" ] && [ -f "$MIG/deps.csv" ] &&
	    grep -q '^"\{0,1\}info"\{0,1\},"\{0,1\}directory-sync' "$MIG/deps.csv"; then
		cwarn "a domain is synchronised with a directory service: set DIRCREDS (the target's directory credentials) for the restore"
	fi
	connect_end
}

connect_end() {
	if [ "$CONNECT_FAIL" -gt 0 ]; then
		note connect "connect: $CONNECT_FAIL problem(s); fix them and run iwm connect again"
		return 1
	fi
	state_set connected "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	[ "$(state_get phase)" = new ] || [ -z "$(state_get phase)" ] &&
	    state_set phase connected
	note connect "connect: all checks passed; next: iwm deps"
	return 0
}

# --- deps --------------------------------------------------------------------

cmd_deps() {
	d_ignore=0
	case ${1:-} in
	--ignore-errors) d_ignore=1 ;;
	'') ;;
	*) die 64 "deps [--ignore-errors]" ;;
	esac
	STEP=deps
	src_paths || true
	mkdir -p "$MIG" || die 73 "$MIG: cannot make"
	say "== deps: what the migration cannot carry (CSV: $MIG/deps.csv)"
	src_run iwm-deps --format table --csv "$MIG/deps.csv" >"$MIG/deps.txt" \
	    2>"$MIG/deps.err"
	d_st=$?
	log_file deps "$MIG/deps.err"
	[ -s "$MIG/deps.err" ] && sed 's/^/  /' "$MIG/deps.err"
	case $d_st in
	0 | 1 | 2) sed 's/^/  /' "$MIG/deps.txt" ;;
	*) die "$d_st" "the audit failed (iwm-deps exit $d_st)" ;;
	esac
	d_sum=$(tail -n 1 "$MIG/deps.txt")
	log deps "audit: $d_sum; CSV $MIG/deps.csv"
	if [ "$d_st" -eq 2 ]; then
		if [ "$d_ignore" -eq 1 ]; then
			state_set deps ignored-errors
			note deps "deps: errors found and ignored (--ignore-errors): deal with them on the target after the migration"
			return 0
		fi
		state_set deps errors
		note deps "deps: errors found: the migration stops here. Deal with them, or go on knowingly with iwm deps --ignore-errors"
		return 2
	fi
	state_set deps ok
	note deps "deps: no errors; the warnings above need manual work on the target after the migration. Next: iwm copy"
	return 0
}

# --- the copy pass -----------------------------------------------------------

# pass KIND ROOTS [--queues]: iwm-scan | iwm-diff --delete -
# <(iwm-scan --target) | iwm-push, as named pipes so that every exit
# status is seen.  KIND is copy, sync or final; --queues lists the
# source's mail queues too (the final pass, the source stopped).
# Sets P_FILES P_BYTES P_DELETED P_FAILED P_SECS.
pass() {
	ps_kind=$1
	ps_roots=$2
	ps_queues=${3:-}
	ps_run=$MIG/run
	ps_n=1
	if [ -f "$MIG/passes" ]; then
		while IFS= read -r _; do
			ps_n=$((ps_n + 1))
		done <"$MIG/passes"
	fi
	# The named pipes stay from one pass to the next.
	[ -e "$ps_run/push.pid" ] && rm -f "$ps_run/push.pid"
	for ps_f in src tgt; do
		[ -p "$ps_run/$ps_f.fifo" ] && continue
		rm -f "$ps_run/$ps_f.fifo"
		mkfifo "$ps_run/$ps_f.fifo" ||
		    die 74 "$ps_run: cannot make named pipes"
	done
	echo "pass $ps_n ($ps_kind, roots $ps_roots)" >"$ps_run/step"
	log "$STEP" "pass $ps_n ($ps_kind): scanning roots $ps_roots on both sides"
	ps_t0=$NOW_S
	# shellcheck disable=SC2086 # no option, or the one word --queues
	src_run iwm-scan --roots "$ps_roots" $ps_queues >"$ps_run/src.fifo" \
	    2>"$ps_run/scan.err" &
	ps_sp=$!
	remote iwm-scan --roots "$ps_roots" >"$ps_run/tgt.fifo" \
	    2>"$ps_run/tscan.err" &
	ps_tp=$!
	iwm-diff --delete "$ps_run/src.fifo" "$ps_run/tgt.fifo" \
	    >"$ps_run/diff.m" 2>"$ps_run/diff.err"
	ps_dst=$?
	wait "$ps_sp"
	ps_sst=$?
	wait "$ps_tp"
	ps_tst=$?
	log_stamp
	log_file_lines "$STEP" "$ps_run/scan.err" "$ps_run/tscan.err" \
	    "$ps_run/diff.err"
	if [ "$ps_tst" -ne 0 ]; then
		pass_record failed-listing
		die "$ps_tst" "listing the target failed (exit $ps_tst): $(tail -n 1 "$ps_run/tscan.err")"
	fi
	case $ps_sst in
	0) ;;
	1) note "$STEP" "  the source scan is incomplete (see $SRC_LOGS/migration): nothing is deleted on the target in this pass" ;;
	*) pass_record failed-scan
	   die "$ps_sst" "scanning the source failed (exit $ps_sst): $(tail -n 1 "$ps_run/scan.err")" ;;
	esac
	[ "$ps_dst" -le 1 ] || { pass_record failed-diff
	    die "$ps_dst" "comparing failed (iwm-diff exit $ps_dst)"; }
	ps_todo=$(awk -F '\t' '!/^#/ { n++; if ($2 == "f") b += $3 }
	    END { printf "%d records, %.0f bytes", n, b }' "$ps_run/diff.m")
	log_lines "$STEP" "pass $ps_n: to apply: $ps_todo"
	verbose "pass $ps_n: to apply: $ps_todo"
	pause_point
	# The push, its own pid in run/push.pid, its rate in run/rate.
	speed_rate >"$ps_run/rate"
	set -- --delete --stats --jobs "$JOBS" --rate-file "$ps_run/rate" \
	    --failed "$ps_run/failed.m"
	if [ -t 2 ]; then
		set -- "$@" --progress
	else
		set -- "$@" --no-progress
	fi
	REMOTE_PIDFILE=$ps_run/push.pid
	if [ -t 2 ]; then
		{
			remote iwm-push "$@" "$ps_run/diff.m" 2>&1 \
			    >"$MIG/journal-$ps_n.manifest"
			echo $? >"$ps_run/push.st"
		} | tee "$ps_run/push.err" | grep -v '^iwm-push: stats' >&2
	else
		remote iwm-push "$@" "$ps_run/diff.m" \
		    >"$MIG/journal-$ps_n.manifest" 2>"$ps_run/push.err"
		echo $? >"$ps_run/push.st"
	fi
	REMOTE_PIDFILE=
	[ -e "$ps_run/push.pid" ] && rm -f "$ps_run/push.pid"
	read -r ps_pst <"$ps_run/push.st"
	# iwm-push's messages without its progress and stats lines, which
	# go to the log once, as the pass's figures; the last stats line out.
	ps_stats=$(awk -v msgs="$ps_run/push.msgs" '
	    BEGIN { printf "" >msgs }
	    /^iwm-push: stats/ { st = $0; next }
	    { n = split($0, part, "\r")
	      for (i = 1; i <= n; i++)
		if (part[i] !~ /^iwm-push: [0-9]* files, /)
			print part[i] >msgs }
	    END { print st }' "$ps_run/push.err")
	log_stamp
	log_file_lines "$STEP" "$ps_run/push.msgs"
	P_SECS=$((NOW_S - ps_t0))
	stats_read "$ps_stats"
	# Keep the failed records of this pass; the latest pass is iwm failed.
	if [ -f "$ps_run/failed.m" ]; then
		mv -f "$ps_run/failed.m" "$MIG/failed.manifest"
	fi
	case $ps_pst in
	0) ps_res=ok ;;
	1) ps_res=some-failed ;;
	75) ps_res=cancelled ;;
	*) ps_res=error-$ps_pst ;;
	esac
	pass_record "$ps_res"
	# The full speed, from a pass that was not limited and moved enough.
	if [ "$(speed_rate)" -eq 0 ] && [ "${P_BYTES:-0}" -ge 1048576 ]; then
		ps_rate=$(awk -v b="$P_BYTES" -v s="${ps_psecs:-0}" \
		    'BEGIN { if (s > 0.05) printf "%.0f\n", b / s; else print 0 }')
		ps_full=$(state_get full_rate)
		if [ "$ps_rate" -gt 0 ] &&
		    { [ -z "$ps_full" ] || [ "$ps_full" -lt "$ps_rate" ]; }; then
			state_set full_rate "$ps_rate"
		fi
	fi
	log_lines "$STEP" "pass $ps_n ($ps_kind) $ps_res: $P_FILES files, $P_BYTES bytes, $P_DELETED deleted, $P_FAILED failed in $P_SECS s"
	case $ps_pst in
	0 | 1) ;;
	75) die 75 "cancelled; what was copied stays; run the same command again to continue" ;;
	*) die "$ps_pst" "copying failed (iwm-push exit $ps_pst): $(tail -n 1 "$ps_run/push.msgs")" ;;
	esac
	[ "$ps_pst" -eq 1 ] &&
	    note "$STEP" "  $P_FAILED file(s) could not be copied: iwm failed"
	return 0
}

# stats_read LINE: iwm-push's stats line into P_FILES P_BYTES P_DELETED
# P_FAILED and ps_psecs, word by word in the shell.
stats_read() {
	P_FILES='' P_BYTES='' P_DELETED='' P_FAILED='' ps_psecs=''
	for sr_w in $1; do
		case $sr_w in
		files=*) P_FILES=${sr_w#*=} ;;
		bytes=*) P_BYTES=${sr_w#*=} ;;
		deleted=*) P_DELETED=${sr_w#*=} ;;
		failed=*) P_FAILED=${sr_w#*=} ;;
		seconds=*) ps_psecs=${sr_w#*=} ;;
		esac
	done
}

# pass_record RESULT: the pass's line in $MIG/passes, timed by the last
# log_stamp.
pass_record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ps_n" "$ps_kind" \
	    "$ps_t0" "$((NOW_S - ps_t0))" "${P_FILES:-0}" "${P_BYTES:-0}" \
	    "${P_DELETED:-0}" "${P_FAILED:-0}" "$1" >>"$MIG/passes"
}

# push_migration: the source's temp/iw_migration to the target's, as the
# root `migration`, never deleting anything there.
push_migration() {
	mkdir -p "$IWMIG" || die 73 "$IWMIG: cannot make"
	pm_run=$MIG/run
	iwm-scan --root migration="$IWMIG" >"$pm_run/mig.src" 2>"$pm_run/mig.err" ||
	    die 74 "listing $IWMIG failed: $(tail -n 1 "$pm_run/mig.err")"
	remote iwm-scan --roots migration >"$pm_run/mig.tgt" 2>"$pm_run/mig.err" ||
	    die $? "listing the target's migration folder failed: $(tail -n 1 "$pm_run/mig.err")"
	iwm-diff "$pm_run/mig.src" "$pm_run/mig.tgt" >"$pm_run/mig.diff"
	[ $? -le 1 ] || die 65 "comparing the migration folders failed"
	remote iwm-push --no-progress --stats --jobs "$JOBS" \
	    --failed "$pm_run/mig.failed" "$pm_run/mig.diff" \
	    >"$pm_run/mig.journal" 2>"$pm_run/mig.err"
	pm_st=$?
	log_file "$STEP" "$pm_run/mig.err"
	[ "$pm_st" -eq 0 ] ||
	    die "$pm_st" "sending $IWMIG to the target failed (iwm-push exit $pm_st): $(grep -v stats "$pm_run/mig.err" | tail -n 1)"
	log "$STEP" "migration folder sent: $(sed -n 's/^iwm-push: stats \(files=[0-9]* bytes=[0-9]*\).*/\1/p' "$pm_run/mig.err")"
}

# webcache: the guide's steps 2 and 4.  When the webmail cache is in a
# database, its rows since the last run (all of them the first time) go to
# the target: iwm-dbexport --only webcache --since, the file pushed with the
# root `migration`, and the target's restore-db action imports it.
webcache() {
	echo "webmail cache" >"$MIG/run/step"
	src_paths || die 69 "the source's temp path is unknown"
	wc_first=0
	[ -f "$MIG/webcache.state" ] || wc_first=1
	src_run iwm-dbexport -q --only webcache --since "$MIG/webcache.state" \
	    -o "$IWMIG/db" >"$MIG/run/webcache.out" 2>&1
	wc_st=$?
	log_file "$STEP" "$MIG/run/webcache.out"
	[ "$wc_st" -eq 0 ] ||
	    die "$wc_st" "exporting the webmail cache failed: $(tail -n 1 "$MIG/run/webcache.out")"
	wc_skipped=0
	while IFS= read -r wc_l; do
		case $wc_l in
		*skipped*) wc_skipped=1 ;;
		esac
	done <"$MIG/run/webcache.out"
	if [ "$wc_skipped" -eq 1 ]; then
		note "$STEP" "  webmail cache: not in a database here; it travels with the mailboxes"
		WC_ROWS=-
		return 0
	fi
	WC_ROWS=$(awk -F '\t' '$1 == "webcache" { sub(/ rows/, "", $4); print $4 + 0 }' \
	    "$MIG/run/webcache.out")
	push_migration
	action restore-db ||
	    die $? "importing the webmail cache on the target failed (action restore-db)"
	if [ "$wc_first" -eq 1 ]; then
		note "$STEP" "  webmail cache: whole cache copied (${WC_ROWS:-0} rows)"
	else
		note "$STEP" "  webmail cache: ${WC_ROWS:-0} rows copied (rows added since the last pass; tables without an increasing key whole)"
	fi
}

need_ready() {
	[ -n "$(state_get connected)" ] ||
	    die 64 "not connected yet: iwm connect first"
	case $(state_get deps) in
	ok | ignored-errors) ;;
	errors) die 2 "the dependency check found errors: deal with them, or iwm deps --ignore-errors" ;;
	*) die 64 "the dependencies are not checked yet: iwm deps first" ;;
	esac
	case $(state_get phase) in
	finalizing | finalized | started)
		die 64 "the migration is in its second phase ($(state_get phase)): copying is over" ;;
	esac
}

cmd_copy() {
	cp_force=0
	case ${1:-} in
	--force) cp_force=1 ;;
	'') ;;
	*) die 64 "copy [--force]" ;;
	esac
	STEP=copy
	src_paths || die 69 "the source's temp and log paths are unknown (iwm connect)"
	need_ready
	lock_take copy
	trap 'touch "$MIG/run/cancel"' INT TERM
	state_set phase copying
	cp_t0=$(now)
	# The disk space check first.
	if [ "$cp_force" -eq 1 ]; then
		note copy "== disk space check skipped (--force)"
	else
		say "== disk space check"
		echo "disk space check" >"$MIG/run/step"
		REMOTE_MAP=1
		remote iwm-deps --format tsv --min-severity info \
		    >"$MIG/run/space.tsv" 2>"$MIG/run/space.err"
		cp_st=$?
		REMOTE_MAP=0
		log_file copy "$MIG/run/space.err"
		[ "$cp_st" -le 2 ] ||
		    die "$cp_st" "the disk space check failed (iwm-deps exit $cp_st): $(tail -n 1 "$MIG/run/space.err")"
		awk -F '\t' '$2 == "disk-space" { print "  " $1 ": " $4 }' \
		    "$MIG/run/space.tsv" | tee "$MIG/run/space.txt"
		log_file copy "$MIG/run/space.txt"
		if awk -F '\t' '$1 == "error" && $2 == "disk-space" { f = 1 }
		    END { exit !f }' "$MIG/run/space.tsv"; then
			die 2 "not enough space on the target. This can be a false alarm (data already there, an archive on another disk): iwm copy --force goes on"
		fi
	fi
	say "== step 1: all files (mailboxes, archive, logs)"
	pass copy mail,archive,logs
	pass_summary
	pause_point
	say "== step 2: the whole webmail cache, when it is in a database"
	webcache
	pause_point
	say "== step 3: the files changed since"
	pass copy mail,archive,logs
	pass_summary
	pause_point
	say "== step 4: new webmail cache rows"
	webcache
	state_set copy_done "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	state_set phase copied
	note copy "copy: first phase done in $(($(now) - cp_t0)) s; iwm sync copies new changes, iwm finalize ends the migration"
}

pass_summary() {
	note "$STEP" "  $(printf '%s files, %s, %s deleted, %s failed in %s s' \
	    "${P_FILES:-0}" "$(human "${P_BYTES:-0}")" "${P_DELETED:-0}" \
	    "${P_FAILED:-0}" "$P_SECS")"
}

cmd_sync() {
	[ $# -eq 0 ] || die 64 "sync takes no arguments"
	STEP=sync
	src_paths || die 69 "the source's temp and log paths are unknown (iwm connect)"
	need_ready
	[ -n "$(state_get copy_done)" ] || die 64 "the first copy is not done: iwm copy"
	lock_take sync
	trap 'touch "$MIG/run/cancel"' INT TERM
	say "== copy changes: files changed since the last pass"
	pass sync mail,archive,logs
	sy_t0=$ps_t0
	sy_f=$P_FILES sy_b=$P_BYTES sy_d=$P_DELETED sy_x=$P_FAILED
	pause_point
	say "== new webmail cache rows"
	webcache
	log_stamp
	sy_msg="sync: $sy_f files, $(human "$sy_b") moved, $sy_d deleted, $sy_x failed in $((NOW_S - sy_t0)) s"
	log_lines sync "$sy_msg"
	printf '%s\n' "$sy_msg"
}
