# libexec/iwm/phase2.sh: iwm finalize and iwm start-target, the second
# phase of IceWarp's migrator guide.  Sourced by bin/iwm.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# The steps of finalize, in order.  Each is recorded in the state as
# fin_STEP=time when done; a rerun starts at the first one not done.
FIN_STEPS="stop-source final-copy settings-backup db-export pathfix-plan
transfer target-stop restore-settings restore-db restore-preserved pathfix
restart"

fin_what() {
	case $1 in
	stop-source) echo "stop the source's services (modules keep running)" ;;
	final-copy) echo "last copy of changed files, without the logs, and new webmail cache rows" ;;
	settings-backup) echo "back up the source's settings (iwm-dbexport --settings)" ;;
	db-export) echo "export the source's databases (iwm-dbexport)" ;;
	pathfix-plan) echo "plan the mailbox path fixes (iwm-pathfix --plan)" ;;
	transfer) echo "send temp/iw_migration to the target" ;;
	target-stop) echo "stop the target's services, keeping its control channel" ;;
	restore-settings) echo "restore the settings on the target, keeping its preserved ones" ;;
	restore-db) echo "import the databases on the target" ;;
	restore-preserved) echo "re-apply the target's preserved settings and administrator" ;;
	pathfix) echo "fix the mailbox paths of archivists, externs and shared mailboxes" ;;
	restart) echo "restart the target's modules and reconnect" ;;
	esac
}

# What to do when STEP failed.
fin_help() {
	case $1 in
	stop-source) echo "check the source's tool (iwm-services status), then run iwm finalize again" ;;
	final-copy) echo "check the agent and the target's disk (iwm status, iwm failed), then run iwm finalize again" ;;
	settings-backup | db-export | pathfix-plan)
		echo "read the messages above (the log: $SRC_LOGS/migration), fix the source side, then run iwm finalize again" ;;
	transfer) echo "check that the agent runs and the target has space, then run iwm finalize again" ;;
	*) echo "check that the agent (iwm-serve) runs on the target and read its log; the target's services are off and its control channel is on. Run iwm finalize again: it resumes at this step" ;;
	esac
}

fin_run() {
	case $1 in
	stop-source)
		if [ "$FIN_KEEP" -eq 1 ]; then
			note finalize "  the source keeps running (--keep-source-running): changes made from now on are not migrated"
			return 0
		fi
		iwm-services --state "$IWMIG/services.state" stop \
		    >"$MIG/run/fin.out" 2>&1
		;;
	final-copy)
		# The messages still queued go too, once the source stopped.
		if [ "$FIN_KEEP" -eq 1 ]; then
			pass final mail,archive
		else
			pass final mail,archive --queues
		fi
		pass_summary
		webcache
		return 0
		;;
	settings-backup)
		rm -f "$IWMIG/dircreds"
		iwm-dbexport --settings -o "$IWMIG/settings" >"$MIG/run/fin.out" 2>&1
		;;
	db-export)
		src_run iwm-dbexport -q -o "$IWMIG/db" >"$MIG/run/fin.out" 2>&1
		;;
	pathfix-plan)
		src_run iwm-pathfix --plan -o "$IWMIG/pathfix" >"$MIG/run/fin.out" 2>&1
		;;
	transfer)
		if [ -n "$DIRCREDS" ]; then
			# The target's directory credentials, for its restore.
			umask 077
			cp "$DIRCREDS" "$IWMIG/dircreds" && chmod 600 "$IWMIG/dircreds" ||
			    return 74
			umask 022
		fi
		push_migration
		return 0
		;;
	target-stop) action services-stop ;;
	restore-settings)
		action restore-settings || return $?
		[ -f "$IWMIG/dircreds" ] || return 0
		# The directory credentials are used: remove both copies.
		rm -f "$IWMIG/dircreds"
		printf '#iwm-manifest 1 scope=migration\n-\tf\t0\t0.000000000\t600\tmigration\tdircreds\t-\n' \
		    >"$MIG/run/dircreds.m"
		remote iwm-push --delete --no-progress "$MIG/run/dircreds.m" \
		    >/dev/null 2>"$MIG/run/dircreds.err" ||
		    warn "the target's copy of the directory credentials could not be removed: remove <temp>/iw_migration/dircreds there"
		log_file finalize "$MIG/run/dircreds.err"
		return 0
		;;
	restore-db) action restore-db ;;
	restore-preserved) action restore-preserved ;;
	pathfix) action pathfix ;;
	restart)
		action restart || return $?
		# Reconnect: the agent answers and the target's tool with it.
		rs_n=0
		until action services-status >/dev/null 2>&1; do
			rs_n=$((rs_n + 1))
			[ "$rs_n" -lt 30 ] || return 69
			sleep 2
		done
		return 0
		;;
	esac
	fr_st=$?
	log_file finalize "$MIG/run/fin.out"
	if [ "$fr_st" -ne 0 ] && [ "$VERBOSE" -eq 0 ]; then
		sed 's/^/  /' "$MIG/run/fin.out" | tail -n 20 >&2
	fi
	return "$fr_st"
}

cmd_finalize() {
	FIN_KEEP=0
	case ${1:-} in
	--keep-source-running) FIN_KEEP=1 ;;
	'') ;;
	*) die 64 "finalize [--keep-source-running]" ;;
	esac
	STEP=finalize
	src_paths || die 69 "the source's temp and log paths are unknown (iwm connect)"
	case $(state_get phase) in
	finalized | started)
		die 64 "this migration was finalized on $(state_get finalized): it cannot be finalized twice. Next: iwm start-target (or iwm reset to start a new migration)" ;;
	esac
	[ -n "$(state_get connected)" ] || die 64 "not connected yet: iwm connect first"
	case $(state_get deps) in
	ok | ignored-errors) ;;
	*) die 64 "the dependency check is not passed: iwm deps" ;;
	esac
	[ -n "$(state_get copy_done)" ] ||
	    die 64 "the first phase is not done: iwm copy first"
	lock_take finalize
	trap 'touch "$MIG/run/cancel"' INT TERM
	state_set phase finalizing
	state_del failed_step
	mkdir -p "$IWMIG" || die 73 "$IWMIG: cannot make"
	fz_t0=$(now)
	fz_i=0
	for fz_s in $FIN_STEPS; do
		fz_i=$((fz_i + 1))
		if [ -n "$(state_get "fin_$fz_s")" ]; then
			verbose "step $fz_i $fz_s: done before"
			continue
		fi
		pause_point
		say "== finalize $fz_i/12 $fz_s: $(fin_what "$fz_s")"
		echo "finalize $fz_i/12 $fz_s" >"$MIG/run/step"
		log finalize "step $fz_s: start"
		fz_st0=$(now)
		STEP=finalize
		# In a subshell, so that a step that dies is recorded too.
		(fin_run "$fz_s")
		fz_st=$?
		if [ "$fz_st" -ne 0 ]; then
			state_set failed_step "$fz_s"
			log finalize "step $fz_s: FAILED (exit $fz_st)"
			warn "finalize stopped at step $fz_s (exit $fz_st)."
			warn "next: $(fin_help "$fz_s")"
			return "$fz_st"
		fi
		state_set "fin_$fz_s" "$(date -u +%Y-%m-%dT%H:%M:%SZ) $(($(now) - fz_st0))s"
		log finalize "step $fz_s: done in $(($(now) - fz_st0)) s"
	done
	state_del failed_step
	state_set finalized "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	state_set phase finalized
	note finalize "finalize: done in $(($(now) - fz_t0)) s. The target holds the data, settings and databases; its services are off."
	say "next: switch the DNS records to the target (by hand), then iwm start-target"
}

cmd_start_target() {
	[ $# -eq 0 ] || die 64 "start-target takes no arguments"
	STEP=start-target
	src_paths || true
	case $(state_get phase) in
	finalized | started) ;;
	*) die 64 "the migration is not finalized: iwm finalize first" ;;
	esac
	lock_take start-target
	say "== DNS switch (manual)"
	say "  Point the DNS records (MX, A/AAAA of the mail and web host names," \
	    "autodiscover, SRV) at the target now, if not done yet:"
	say "  iwm cannot do it for you. The source stays stopped."
	log start-target "DNS switch reminder shown"
	say "== starting on the target the services that ran on the source"
	action services-start || die $? "starting the target's services failed (action services-start); run iwm start-target again"
	[ "$VERBOSE" -eq 1 ] || sed 's/^/  /' "$MIG/run/action-services-start.out" |
	    grep -v '^  #iwm-exit' | tail -n 30
	state_set started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	state_set phase started
	note start-target "start-target: the target's services are on; the migration is complete"
}
