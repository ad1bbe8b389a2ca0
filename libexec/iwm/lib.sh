# libexec/iwm/lib.sh: the driver's library, sourced by bin/iwm.
# Configuration (parsed, never sourced), logs, the migration's state,
# the connection options of the programs that talk to the agent.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# A newline, for patterns, and a TAB.
NL='
'
TAB='	'

# --- messages ----------------------------------------------------------

say() {
	printf '%s\n' "$*"
}

warn() {
	printf 'iwm: %s\n' "$*" >&2
}

# die STATUS MESSAGE: log, print and exit.
die() {
	d_st=$1
	shift
	log "${STEP:-iwm}" "error: $*"
	printf 'iwm: %s\n' "$*" >&2
	exit "$d_st"
}

verbose() {
	[ "$VERBOSE" -eq 1 ] && printf 'iwm: %s\n' "$*" >&2
	return 0
}

now() {
	date +%s
}

# human BYTES: 1.2 GB and the like.
human() {
	awk -v b="${1:-0}" 'BEGIN {
		u = "B"
		if (b >= 1e9) { b /= 1e9; u = "GB" }
		else if (b >= 1e6) { b /= 1e6; u = "MB" }
		else if (b >= 1e3) { b /= 1e3; u = "kB" }
		if (u == "B") printf "%d B\n", b; else printf "%.1f %s\n", b, u
	}'
}

# --- configuration -----------------------------------------------------
#
# iwm.conf holds NAME=value lines; '#' starts a comment line.  The value
# is taken literally (one pair of surrounding double or single quotes is
# removed); nothing in it is expanded or run.  Unknown names are errors.

CONF_KEYS="TARGET_URL CREDENTIALS FINGERPRINT CACERT DIRCREDS PROXY
PROXY_CREDENTIALS TOOL TARGET_TOOL MIGRATION_DIR JOBS PATH_MAP"

conf_reset() {
	TARGET_URL='' CREDENTIALS='' FINGERPRINT='' CACERT='' DIRCREDS=''
	PROXY='' PROXY_CREDENTIALS='' TOOL='' TARGET_TOOL='' MIGRATION_DIR=''
	JOBS='' PATH_MAP=''
}

conf_set() {
	case $1 in
	TARGET_URL) TARGET_URL=$2 ;;
	CREDENTIALS) CREDENTIALS=$2 ;;
	FINGERPRINT) FINGERPRINT=$2 ;;
	CACERT) CACERT=$2 ;;
	DIRCREDS) DIRCREDS=$2 ;;
	PROXY) PROXY=$2 ;;
	PROXY_CREDENTIALS) PROXY_CREDENTIALS=$2 ;;
	TOOL) TOOL=$2 ;;
	TARGET_TOOL) TARGET_TOOL=$2 ;;
	MIGRATION_DIR) MIGRATION_DIR=$2 ;;
	JOBS) JOBS=$2 ;;
	# Repeatable: one FROM=TO a line.
	PATH_MAP) PATH_MAP="${PATH_MAP:+$PATH_MAP
}$2" ;;
	*) return 1 ;;
	esac
}

# conf_read FILE: parse FILE into the CONF_KEYS variables.
conf_read() {
	conf_reset
	[ -r "$1" ] || die 66 "$1: cannot read the configuration (iwm init writes it)"
	cr_n=0
	while IFS= read -r cr_line || [ -n "$cr_line" ]; do
		cr_n=$((cr_n + 1))
		# Trim surrounding blanks and a CR (no process per line).
		cr_line=${cr_line#"${cr_line%%[![:space:]]*}"}
		cr_line=${cr_line%"${cr_line##*[![:space:]]}"}
		case $cr_line in
		'' | '#'*) continue ;;
		[A-Z]*=*) ;;
		*) die 65 "$1:$cr_n: expected NAME=value" ;;
		esac
		cr_key=${cr_line%%=*}
		cr_val=${cr_line#*=}
		case $cr_key in
		*[!A-Z0-9_]*) die 65 "$1:$cr_n: bad name '$cr_key'" ;;
		esac
		case $cr_val in
		\"*\") cr_val=${cr_val#\"}; cr_val=${cr_val%\"} ;;
		\'*\') cr_val=${cr_val#\'}; cr_val=${cr_val%\'} ;;
		esac
		conf_set "$cr_key" "$cr_val" ||
		    die 65 "$1:$cr_n: unknown name '$cr_key' (known: $(printf '%s' "$CONF_KEYS" | tr '\n' ' '))"
	done <"$1"
	[ -n "$JOBS" ] || JOBS=4
	case $JOBS in
	'' | *[!0-9]*) die 65 "$1: JOBS=$JOBS: expected a number" ;;
	esac
	[ -n "$MIGRATION_DIR" ] || MIGRATION_DIR=$(dirname "$1")/migration
	MIG=$MIGRATION_DIR
	# Read the source through this tool (IWM_TOOL for every program).
	if [ -n "$TOOL" ]; then
		IWM_TOOL=$TOOL
		export IWM_TOOL
	fi
}

# conf_need NAME...: each must be set.
conf_need() {
	for cn in "$@"; do
		eval "cn_v=\${$cn}"
		[ -n "$cn_v" ] || die 64 "$CONF: $cn is not set (iwm init)"
	done
}

# A secret file must exist and be readable by its owner only.
secret_ok() {
	[ -f "$1" ] || die 66 "$1: no such file"
	sk_mode=$(stat -c %a "$1" 2>/dev/null) || die 66 "$1: cannot stat"
	case $sk_mode in
	[4-7]00) ;;
	*) die 77 "$1: mode $sk_mode: a secret file must be 0600 (chmod 600 $1)" ;;
	esac
}

# --- the source server ---------------------------------------------------

# src_run PROGRAM ARGS...: a program that reads the source, with a
# --path-map for each PATH_MAP (a Windows source whose disks are mounted).
src_run() {
	sr_prog=$1
	shift
	if [ -n "$PATH_MAP" ]; then
		while IFS= read -r sr_m; do
			[ -n "$sr_m" ] && set -- "$@" --path-map "$sr_m"
		done <<EOF
$PATH_MAP
EOF
	fi
	"$sr_prog" "$@"
}

# map_path PATH: a server path read through PATH_MAP (Windows prefixes
# match case-insensitively, with either slash, the longest first).
map_path() {
	printf '%s\n' "$PATH_MAP" | MP_P=$1 awk '
	BEGIN { p = ENVIRON["MP_P"] }
	function norm(s) { gsub(/\\/, "/", s); return tolower(s) }
	index($0, "=") {
		from = substr($0, 1, index($0, "=") - 1); to = substr($0, index($0, "=") + 1)
		f = norm(from)
		if (substr(f, length(f)) != "/") f = f "/"
		if (index(norm(p) "/", f) == 1 && length(f) > best) {
			best = length(f); rest = substr(p, length(f) + 1); bto = to
		}
	}
	END {
		if (best) {
			gsub(/\\/, "/", rest)
			if (substr(bto, length(bto)) != "/") bto = bto "/"
			print bto rest
		} else print p
	}'
}

# src_get VAR: one system variable of the source (empty on failure).
tool_get() {
	tg_tool=$1
	shift
	"$tg_tool" get system "$1" 2>/dev/null | sed -n '1s/^[^:]*: \{0,1\}//p' |
	    tr -d '\r'
}

src_tool() {
	if [ -n "$TOOL" ]; then
		printf '%s\n' "$TOOL"
		return
	fi
	st_conf=${IWM_ICEWARP_CONF:-/etc/icewarp/icewarp.conf}
	st_dir=$(sed -n 's/^IWS_INSTALL_DIR="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' \
	    "$st_conf" 2>/dev/null | tail -n 1)
	[ -n "$st_dir" ] && printf '%s/tool.sh\n' "${st_dir%/}"
}

# The source's temp and log paths, asked once and kept in the state.
src_paths() {
	[ -n "${SRC_TEMP:-}" ] && return 0
	SRC_TEMP=$(state_get temppath)
	SRC_LOGS=$(state_get logpath)
	if [ -z "$SRC_TEMP" ] || [ -z "$SRC_LOGS" ]; then
		sp_tool=$(src_tool)
		[ -n "$sp_tool" ] || return 1
		SRC_TEMP=$(tool_get "$sp_tool" C_System_Storage_Dir_TempPath)
		SRC_LOGS=$(tool_get "$sp_tool" C_System_Storage_Dir_LogPath)
		if [ -n "$PATH_MAP" ]; then
			SRC_TEMP=$(map_path "$SRC_TEMP")
			SRC_LOGS=$(map_path "$SRC_LOGS")
		fi
		case $SRC_TEMP$SRC_LOGS in
		*\\*) SRC_TEMP='' SRC_LOGS=''; return 1 ;;	# a Windows path
		esac
		[ -n "$SRC_TEMP" ] && [ -n "$SRC_LOGS" ] || return 1
		SRC_TEMP=${SRC_TEMP%/}
		SRC_LOGS=${SRC_LOGS%/}
		[ -d "$MIG" ] && state_set temppath "$SRC_TEMP" &&
		    state_set logpath "$SRC_LOGS"
	fi
	IWMIG=$SRC_TEMP/iw_migration
	return 0
}

# --- logs ----------------------------------------------------------------
#
# As IceWarp's migrator guide says: <logs>/migration/ on the source, and
# <temp>/migYYYYDDMM.log (the guide's own order: year, day, month), which
# lives outside the logs tree that the copy mirrors.  One level; a line is
# "time<TAB>step<TAB>what happened".  Before the source's paths are known,
# lines go to the migration folder's iwm.log.

log() {
	log_stamp
	log_lines "$1" "$2"
}

# log_stamp: the time of the lines that follow, and NOW_S.  The log's name is taken
# once a run (a run's lines stay in the log it started in): a pass logs
# many lines, and each process counts.
log_stamp() {
	# One date(1) for the lines' time and NOW_S (seconds, for timings).
	lg_t=$(date -u '+%s %Y-%m-%dT%H:%M:%SZ')
	NOW_S=${lg_t%% *}
	LG_TIME=${lg_t#* }
	[ -n "${lg_name:-}" ] || lg_name=mig$(date +%Y%d%m).log
}

# log_lines STEP TEXT: TEXT's lines as one log line, stamped by log_stamp.
log_lines() {
	one_line "$2"
	lg_line=$LG_TIME$TAB$1$TAB$OL
	if [ -n "${SRC_LOGS:-}" ]; then
		if [ "${LG_MADE:-}" != "$SRC_LOGS" ]; then
			[ -d "$SRC_LOGS/migration" ] ||
			    mkdir -p "$SRC_LOGS/migration" 2>/dev/null
			LG_MADE=$SRC_LOGS
		fi
		printf '%s\n' "$lg_line" >>"$SRC_LOGS/migration/$lg_name" 2>/dev/null
		printf '%s\n' "$lg_line" >>"$SRC_TEMP/$lg_name" 2>/dev/null
	elif [ -n "${MIG:-}" ] && [ -d "$MIG" ]; then
		printf '%s\n' "$lg_line" >>"$MIG/iwm.log" 2>/dev/null
	fi
	return 0
}

# note STEP MESSAGE: log it and print it.
note() {
	log "$1" "$2"
	printf '%s\n' "$2"
}

# log_file STEP FILE...: every line of the FILEs into the log, stamped
# once (--verbose prints them).
log_file() {
	lf_step=$1
	shift
	for lf_f; do
		if [ -s "$lf_f" ]; then
			log_stamp
			log_file_lines "$lf_step" "$@"
			return 0
		fi
	done
}

# log_file_lines STEP FILE...: the same with the last log_stamp's time.
log_file_lines() {
	lfl_step=$1
	shift
	for lfl_f; do
		[ -s "$lfl_f" ] || continue
		while IFS= read -r lf_l; do
			log_lines "$lfl_step" "$lf_l"
			verbose "$lf_l"
		done <"$lfl_f"
	done
}

# --- state ------------------------------------------------------------------
#
# $MIG/state: NAME=value lines written by the driver only (names are
# fixed words, values one line), replaced atomically.

# kv_get FILE NAME: the value of the last NAME= line of FILE, if any;
# read in the shell, no process per call.
kv_get() {
	[ -f "$1" ] || return 0
	kg_v='' kg_set=''
	while IFS= read -r kg_l; do
		case $kg_l in
		"$2="*) kg_v=${kg_l#*=} kg_set=1 ;;
		esac
	done <"$1"
	[ -z "$kg_set" ] || printf '%s\n' "$kg_v"
}

# kv_set FILE NAME VALUE: NAME=VALUE (newlines as spaces) in FILE,
# replaced atomically; its folder exists.
kv_set() {
	one_line "$3"
	if ! {
		[ -f "$1" ] && grep -v "^$2=" "$1"
		printf '%s=%s\n' "$2" "$OL"
	} >"$1.tmp"; then
		die 74 "$1: cannot write"
	fi
	mv -f "$1.tmp" "$1" || die 74 "$1: cannot write"
}

# one_line TEXT: TEXT with its newlines as spaces into OL (a process
# only when there is a newline: logs and state are written often).
one_line() {
	OL=$1
	case $OL in
	*"$NL"*) OL=$(printf '%s' "$OL" | tr '\n' ' ') ;;
	esac
}

state_get() {
	kv_get "$MIG/state" "$1"
}

state_set() {
	mkdir -p "$MIG" || die 73 "$MIG: cannot make the migration folder"
	kv_set "$MIG/state" "$1" "$2"
}

state_del() {
	[ -f "$MIG/state" ] || return 0
	grep -v "^$1=" "$MIG/state" >"$MIG/state.tmp"
	mv -f "$MIG/state.tmp" "$MIG/state"
}

# --- one command at a time ------------------------------------------------

lock_take() {
	[ -d "$MIG/run" ] || mkdir -p "$MIG/run" || die 73 "$MIG/run: cannot make"
	if ! mkdir "$MIG/run/lock" 2>/dev/null; then
		lk_pid=$(cat "$MIG/run/lock/pid" 2>/dev/null)
		if [ -n "$lk_pid" ] && kill -0 "$lk_pid" 2>/dev/null; then
			die 75 "another iwm command is running (pid $lk_pid): iwm status"
		fi
		rm -rf "$MIG/run/lock"
		mkdir "$MIG/run/lock" || die 75 "$MIG/run/lock: cannot take"
	fi
	echo $$ >"$MIG/run/lock/pid"
	echo "$1" >"$MIG/run/lock/command"
	LOCKED=1
	[ ! -e "$MIG/run/cancel" ] || rm -f "$MIG/run/cancel"
}

lock_drop() {
	if [ "${LOCKED:-0}" -eq 1 ]; then
		rm -rf "$MIG/run/lock" "$MIG/run/push.pid"
		LOCKED=0
	fi
}

# Cancelled by `iwm cancel` between two steps?
cancelled() {
	[ -f "$MIG/run/cancel" ]
}

# --- talking to the agent ---------------------------------------------------

# remote PROGRAM ARGS...: run PROGRAM with ARGS and the connection options
# (--target, --credentials, --fingerprint or --cacert, --proxy).  Proxy
# credentials travel in https_proxy, in this child's environment only.
remote() {
	rm_prog=$1
	shift
	set -- "$@" --target "$TARGET_URL" --credentials "$CREDENTIALS"
	[ -n "$FINGERPRINT" ] && set -- "$@" --fingerprint "$FINGERPRINT"
	[ -n "$CACERT" ] && set -- "$@" --cacert "$CACERT"
	case $TARGET_URL in
	http://*) set -- "$@" --insecure-http ;;
	esac
	# REMOTE_MAP=1: a program that also reads the source (iwm-deps).
	if [ "${REMOTE_MAP:-0}" -eq 1 ] && [ -n "$PATH_MAP" ]; then
		while IFS= read -r rm_m; do
			[ -n "$rm_m" ] && set -- "$@" --path-map "$rm_m"
		done <<EOF
$PATH_MAP
EOF
	fi
	if [ -n "$PROXY" ] && [ -z "$PROXY_CREDENTIALS" ]; then
		set -- "$@" --proxy "$PROXY"
	fi
	# With REMOTE_PIDFILE set, the program's own pid is written there
	# (for iwm pause, resume, cancel and speed).
	if [ -n "${REMOTE_PIDFILE:-}" ]; then
		# shellcheck disable=SC2016 # expanded by that sh
		set -- sh -c 'echo $$ >"$0"; exec "$@"' "$REMOTE_PIDFILE" \
		    "$rm_prog" "$@"
	else
		set -- "$rm_prog" "$@"
	fi
	if [ -n "$PROXY" ] && [ -n "$PROXY_CREDENTIALS" ]; then
		(
			rm_url=$(proxy_url) || exit 64
			https_proxy=$rm_url HTTPS_PROXY=$rm_url http_proxy=$rm_url
			export https_proxy HTTPS_PROXY http_proxy
			exec "$@"
		)
	else
		"$@"
	fi
}

# The proxy URL with the user and password of PROXY_CREDENTIALS
# (percent-encoded), for libcurl's https_proxy.
proxy_url() {
	pu_cred=$(head -n 1 "$PROXY_CREDENTIALS" 2>/dev/null | tr -d '\r') ||
	    return 1
	case $pu_cred in
	*:*) ;;
	*) warn "$PROXY_CREDENTIALS: expected user:password"; return 1 ;;
	esac
	pu_enc=$(printf '%s' "$pu_cred" | od -An -tx1 -v | tr -s ' \n' '  ' |
	    awk '{
		for (i = 1; i <= NF; i++) {
			c = $i
			if (c == "3a" && !done) { printf ":"; done = 1; continue }
			h = "0123456789abcdef"
			n = (index(h, substr(c, 1, 1)) - 1) * 16 + index(h, substr(c, 2, 1)) - 1
			if ((n >= 48 && n <= 57) || (n >= 65 && n <= 90) ||
			    (n >= 97 && n <= 122) || n == 45 || n == 46 ||
			    n == 95 || n == 126)
				printf "%c", n
			else
				printf "%%%s", toupper(c)
		}
	}')
	case $PROXY in
	*://*) printf '%s://%s@%s\n' "${PROXY%%://*}" "$pu_enc" "${PROXY#*://}" ;;
	*) printf 'http://%s@%s\n' "$pu_enc" "$PROXY" ;;
	esac
}

# action NAME: run a target action through the agent; its output goes to
# the terminal and the log.  Returns the action's exit status.
action() {
	ac_out=$MIG/run/action-$1.out
	mkdir -p "$MIG/run"
	log "$STEP" "target action $1"
	remote iwm-push --action "$1" >"$ac_out" 2>&1
	ac_st=$?
	log_file "$STEP" "$ac_out"
	if [ "$ac_st" -ne 0 ] && [ "$VERBOSE" -eq 0 ]; then
		sed 's/^/  /' "$ac_out" | tail -n 20 >&2
	fi
	log "$STEP" "target action $1: exit $ac_st"
	return "$ac_st"
}
