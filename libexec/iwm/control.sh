# libexec/iwm/control.sh: iwm init, status, failed, pause, resume, cancel,
# speed, reset.  Sourced by bin/iwm.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# ask PROMPT DEFAULT: a line from the terminal (DEFAULT when empty).
ask() {
	if [ -n "$2" ]; then
		printf '%s [%s]: ' "$1" "$2" >/dev/tty
	else
		printf '%s: ' "$1" >/dev/tty
	fi
	IFS= read -r ask_v </dev/tty || ask_v=
	[ -n "$ask_v" ] || ask_v=$2
	printf '%s\n' "$ask_v"
}

# ask_secret_file FILE WHAT: ask for a user and a password without echo
# and write "user:password" to FILE, mode 0600.
ask_secret_file() {
	asf_user=$(ask "$2 user" "")
	printf '%s password: ' "$2" >/dev/tty
	stty -echo </dev/tty 2>/dev/null
	IFS= read -r asf_pw </dev/tty || asf_pw=
	stty echo </dev/tty 2>/dev/null
	printf '\n' >/dev/tty
	write_secret "$1" "$asf_user:$asf_pw"
	asf_pw=
}

# write_secret FILE LINE: FILE holds LINE, mode 0600 from the start.
write_secret() {
	mkdir -p "$(dirname "$1")" || return 1
	(umask 077 && printf '%s\n' "$2" >"$1.tmp.$$") &&
	    chmod 600 "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

cmd_init() {
	i_force=0
	conf_reset
	i_opts=0
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || case $1 in --force) ;; *) die 64 "init: $1 needs a value" ;; esac
		case $1 in
		--target) TARGET_URL=$2 ;;
		--credentials) CREDENTIALS=$2 ;;
		--fingerprint) FINGERPRINT=$2 ;;
		--cacert) CACERT=$2 ;;
		--dircreds) DIRCREDS=$2 ;;
		--proxy) PROXY=$2 ;;
		--proxy-credentials) PROXY_CREDENTIALS=$2 ;;
		--tool) TOOL=$2 ;;
		--target-tool) TARGET_TOOL=$2 ;;
		--migration-dir) MIGRATION_DIR=$2 ;;
		--jobs) JOBS=$2 ;;
		--path-map) conf_set PATH_MAP "$2" ;;
		--force) i_force=1; shift; continue ;;
		*) die 64 "init: unknown option $1" ;;
		esac
		i_opts=1
		shift 2
	done
	if [ -f "$CONF" ] && [ "$i_force" -eq 0 ]; then
		die 73 "$CONF exists: edit it, or iwm init --force to replace it"
	fi
	i_dir=$(dirname "$CONF")
	if [ "$i_opts" -eq 0 ] && [ -t 0 ]; then
		echo "iwm init: the target agent (iwm-serve) and how to reach it."
		echo "Secrets are written to files of mode 0600, never to $CONF."
		TARGET_URL=$(ask "Target agent URL (https://host:port)" "")
		CREDENTIALS=$(ask "Agent credentials file" "$i_dir/credentials")
		if [ ! -f "$CREDENTIALS" ]; then
			ask_secret_file "$CREDENTIALS" "Agent" ||
			    die 74 "$CREDENTIALS: cannot write"
		fi
		FINGERPRINT=$(ask "Agent certificate fingerprint (iwm-serve --make-cert printed it; empty to use a CA file)" "")
		[ -n "$FINGERPRINT" ] ||
		    CACERT=$(ask "CA file to verify the agent (empty: the system's CAs)" "")
		PROXY=$(ask "HTTP(S) proxy URL (empty: none)" "")
		if [ -n "$PROXY" ]; then
			i_pc=$(ask "Does the proxy need a user and password? (y/N)" "n")
			case $i_pc in
			[yY]*)
				PROXY_CREDENTIALS=$(ask "Proxy credentials file" "$i_dir/proxy-credentials")
				ask_secret_file "$PROXY_CREDENTIALS" "Proxy" ||
				    die 74 "$PROXY_CREDENTIALS: cannot write"
				;;
			esac
		fi
		i_ad=$(ask "Is a domain synchronised with a directory service (Active Directory)? (y/N)" "n")
		case $i_ad in
		[yY]*)
			DIRCREDS=$(ask "Target directory credentials file" "$i_dir/dircreds")
			i_srv=$(ask "Directory server the target uses (host or URL)" "")
			i_usr=$(ask "Directory user" "")
			printf 'Directory password: ' >/dev/tty
			stty -echo </dev/tty 2>/dev/null
			IFS= read -r i_pw </dev/tty || i_pw=
			stty echo </dev/tty 2>/dev/null
			printf '\n' >/dev/tty
			i_bdn=$(ask "Base DN (empty: keep the source's)" "")
			write_secret "$DIRCREDS" "$(printf 'server=%s\nuser=%s\npassword=%s%s' \
			    "$i_srv" "$i_usr" "$i_pw" "${i_bdn:+
basedn=$i_bdn}")" || die 74 "$DIRCREDS: cannot write"
			i_pw=
			;;
		esac
		TOOL=$(ask "The source's IceWarp tool (empty: from /etc/icewarp/icewarp.conf)" "")
		MIGRATION_DIR=$(ask "Migration folder (state, CSV, failed files)" "$i_dir/migration")
	fi
	[ -n "$TARGET_URL" ] || die 64 "init: --target URL is needed"
	[ -n "$CREDENTIALS" ] || CREDENTIALS=$i_dir/credentials
	[ -n "$MIGRATION_DIR" ] || MIGRATION_DIR=$i_dir/migration
	[ -n "$JOBS" ] || JOBS=4
	case $TARGET_URL in
	https://* | http://*) ;;
	*) die 64 "init: $TARGET_URL: expected https://host:port" ;;
	esac
	for i_f in "$CREDENTIALS" "$DIRCREDS" "$PROXY_CREDENTIALS"; do
		[ -n "$i_f" ] || continue
		[ -f "$i_f" ] || die 66 "$i_f: no such file (write user:password in it, mode 0600)"
		chmod 600 "$i_f" 2>/dev/null
		secret_ok "$i_f"
	done
	case $PROXY in
	*@*) die 64 "init: put the proxy's user and password in --proxy-credentials FILE, not in the URL" ;;
	esac
	mkdir -p "$i_dir" "$MIGRATION_DIR" || die 73 "cannot make $i_dir or $MIGRATION_DIR"
	{
		echo "# iwm.conf: written by iwm init on $(date -u +%Y-%m-%dT%H:%M:%SZ); see iwm(1)."
		echo "# NAME=value lines, read literally (never run by a shell)."
		for i_k in $CONF_KEYS; do
			[ "$i_k" = PATH_MAP ] && continue
			eval "i_v=\${$i_k}"
			printf '%s=%s\n' "$i_k" "$i_v"
		done
		[ -z "$PATH_MAP" ] || printf '%s\n' "$PATH_MAP" | sed 's/^/PATH_MAP=/'
	} >"$CONF.tmp.$$" || die 74 "$CONF: cannot write"
	mv -f "$CONF.tmp.$$" "$CONF" || die 74 "$CONF: cannot write"
	MIG=$MIGRATION_DIR
	[ -n "$(state_get phase)" ] || state_set phase new
	log init "configuration written to $CONF (target $TARGET_URL)"
	say "iwm: wrote $CONF; next: iwm -c $CONF connect"
}

# --- status --------------------------------------------------------------

cmd_status() {
	[ $# -eq 0 ] || die 64 "status takes no arguments"
	st_phase=$(state_get phase)
	say "migration folder  $MIG"
	say "phase             ${st_phase:-new}"
	if [ -d "$MIG/run/lock" ]; then
		st_pid=$(cat "$MIG/run/lock/pid" 2>/dev/null)
		if [ -n "$st_pid" ] && kill -0 "$st_pid" 2>/dev/null; then
			st_what="iwm $(cat "$MIG/run/lock/command" 2>/dev/null) (pid $st_pid)"
			[ -f "$MIG/run/paused" ] && st_what="$st_what, paused"
			[ -f "$MIG/run/cancel" ] && st_what="$st_what, cancelling"
			say "running           $st_what"
			[ -f "$MIG/run/step" ] && say "step              $(cat "$MIG/run/step")"
		fi
	fi
	for st_k in connected deps copy_done finalized started; do
		st_v=$(state_get "$st_k")
		[ -n "$st_v" ] && say "$(printf '%-17s %s' "$st_k" "$st_v")"
	done
	st_sp=$(state_get speed)
	say "speed             ${st_sp:-100}%"
	if [ -n "$st_phase" ] && [ "$st_phase" != new ]; then
		st_done=""
		for st_s in $FIN_STEPS; do
			[ -n "$(state_get "fin_$st_s")" ] && st_done="$st_done $st_s"
		done
		[ -n "$st_done" ] && say "finalize done    $st_done"
		st_fs=$(state_get failed_step)
		[ -n "$st_fs" ] && say "finalize stopped  at $st_fs"
	fi
	if [ -s "$MIG/passes" ]; then
		say "passes (last 5):"
		printf '  %-3s %-8s %-20s %8s %8s %10s %7s %6s %s\n' \
		    '#' kind started seconds files bytes deleted failed status
		tail -n 5 "$MIG/passes" | while IFS='	' read -r p_n p_kind p_start p_secs p_files p_bytes p_del p_fail p_st; do
			printf '  %-3s %-8s %-20s %8s %8s %10s %7s %6s %s\n' \
			    "$p_n" "$p_kind" "$(date -u -d "@$p_start" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo "$p_start")" \
			    "$p_secs" "$p_files" "$p_bytes" "$p_del" "$p_fail" "$p_st"
		done
	fi
	say "failed files      $(failed_count)"
	return 0
}

failed_count() {
	if [ -f "$MIG/failed.manifest" ]; then
		grep -vc '^#' "$MIG/failed.manifest"
	else
		echo 0
	fi
}

# --- failed ----------------------------------------------------------------

cmd_failed() {
	f_save=
	case ${1:-} in
	--save) [ $# -eq 2 ] || die 64 "failed --save FILE"; f_save=$2 ;;
	'') ;;
	*) die 64 "failed [--save FILE]" ;;
	esac
	if [ ! -f "$MIG/failed.manifest" ] || [ "$(failed_count)" -eq 0 ]; then
		say "no failed files"
		[ -z "$f_save" ] || : >"$f_save" || die 74 "$f_save: cannot write"
		return 0
	fi
	# ROOT<TAB>PATH<TAB>reason, paths as the manifest escapes them.
	awk -F '\t' '!/^#/ { print $6 "\t" $7 "\t" $9 }' "$MIG/failed.manifest" |
	    if [ -n "$f_save" ]; then cat >"$f_save"; else cat; fi ||
	    die 74 "${f_save:-stdout}: cannot write"
	[ -z "$f_save" ] || say "iwm: $(failed_count) failed files saved to $f_save"
	return 0
}

# --- pause, resume, cancel --------------------------------------------------

running_pid() {
	rp_pid=$(cat "$MIG/run/lock/pid" 2>/dev/null)
	[ -n "$rp_pid" ] && kill -0 "$rp_pid" 2>/dev/null && printf '%s\n' "$rp_pid"
}

cmd_signal() {
	sg_what=$1
	[ $# -eq 1 ] || die 64 "$sg_what takes no arguments"
	sg_drv=$(running_pid) || { say "iwm: nothing is running"; return 1; }
	sg_push=$(cat "$MIG/run/push.pid" 2>/dev/null)
	if [ -n "$sg_push" ] && ! kill -0 "$sg_push" 2>/dev/null; then
		sg_push=
	fi
	case $sg_what in
	pause)
		: >"$MIG/run/paused"
		[ -n "$sg_push" ] && kill -TSTP "$sg_push"
		log pause "pause requested (iwm pid $sg_drv)"
		say "iwm: paused (the transfers in flight are sent again on resume); iwm resume continues"
		;;
	resume)
		rm -f "$MIG/run/paused"
		[ -n "$sg_push" ] && kill -CONT "$sg_push"
		log resume "resumed"
		say "iwm: resumed"
		;;
	cancel)
		: >"$MIG/run/cancel"
		rm -f "$MIG/run/paused"
		if [ -n "$sg_push" ]; then
			kill -TERM "$sg_push"
			kill -CONT "$sg_push"
		fi
		log cancel "cancel requested"
		say "iwm: cancelling now (the transfers in flight are dropped); run the same command again to continue"
		;;
	esac
	return 0
}

# Wait while paused between two steps.
pause_point() {
	while [ -f "$MIG/run/paused" ] && ! cancelled; do
		sleep 1
	done
	if cancelled; then
		log "$STEP" "cancelled"
		die 75 "cancelled; run the same command again to continue"
	fi
}

# --- speed -------------------------------------------------------------------

# The rate iwm-push gets, in bytes a second (0: unlimited), from the
# speed percent and the full speed measured in earlier passes.
speed_rate() {
	sr_p=$(state_get speed)
	sr_full=$(state_get full_rate)
	if [ -z "$sr_p" ] || [ "$sr_p" -ge 100 ] || [ -z "$sr_full" ]; then
		echo 0
	else
		echo $((sr_full * sr_p / 100 + 1))
	fi
}

cmd_speed() {
	[ $# -eq 1 ] || die 64 "speed PERCENT (1 to 100)"
	case $1 in
	'' | *[!0-9]*) die 64 "speed: $1: expected a percentage from 1 to 100" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 100 ]; then
		die 64 "speed: $1: expected 1 to 100"
	fi
	sp_full=$(state_get full_rate)
	if [ "$1" -lt 100 ] && [ -z "$sp_full" ]; then
		die 69 "speed: no full speed measured yet: run a copy at 100% first"
	fi
	state_set speed "$1"
	mkdir -p "$MIG/run"
	speed_rate >"$MIG/run/rate.tmp" && mv -f "$MIG/run/rate.tmp" "$MIG/run/rate"
	log speed "speed $1% ($(cat "$MIG/run/rate") bytes/s, 0 unlimited)"
	if [ "$1" -ge 100 ]; then
		say "iwm: speed 100%: unlimited"
	else
		say "iwm: speed $1% of $(human "$sp_full")/s: $(human "$(cat "$MIG/run/rate")")/s"
	fi
}

# --- reset -----------------------------------------------------------------

cmd_reset() {
	[ $# -eq 0 ] || die 64 "reset takes no arguments"
	if rs_pid=$(running_pid); then
		die 75 "iwm is running (pid $rs_pid): iwm cancel first"
	fi
	rs_phase=$(state_get phase)
	src_paths || true
	STEP=reset
	log reset "migration progress cleared (was: phase ${rs_phase:-new}); nothing on the target is deleted"
	rm -rf "$MIG/run" "$MIG/passes" "$MIG/failed.manifest" "$MIG/webcache.state" \
	    "$MIG"/journal-*.manifest "$MIG"/failed-*.manifest
	rs_keep_t=$(state_get temppath)
	rs_keep_l=$(state_get logpath)
	rm -f "$MIG/state"
	state_set phase new
	[ -n "$rs_keep_t" ] && state_set temppath "$rs_keep_t"
	[ -n "$rs_keep_l" ] && state_set logpath "$rs_keep_l"
	say "iwm: progress cleared; nothing on the target was deleted."
	case $rs_phase in
	finaliz* | started)
		say "iwm: the source's services were stopped by finalize; the" \
		    "state that records them stays in $SRC_TEMP/iw_migration/services.state"
		;;
	esac
	say "next: iwm connect"
}
