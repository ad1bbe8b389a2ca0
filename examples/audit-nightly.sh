#!/bin/sh
# audit-nightly.sh: a nightly audit of what a migration could not carry.
#
# Runs iwm-deps(1) on the source server and keeps its findings as a dated
# CSV file (deps-YYYY-MM-DD.csv), plus a log.  It prints nothing when all
# goes well, so cron stays quiet; read the files, or compare two days with
# diff(1).  When the audit itself fails, it says why on standard error,
# which cron mails to the crontab's owner.  Example crontab line:
#
#   15 2 * * *  /usr/local/sbin/iwm-audit-nightly   (this file, copied there)
#
# Environment:
#   IWM_AUDIT_DIR   where the CSV files and audit.log go
#                   (default /var/lib/iwm/audit)
#   IWM_AUDIT_KEEP  days of CSV files to keep (default 90)
#   IWM_TOOL        the IceWarp tool, when not found from
#                   /etc/icewarp/icewarp.conf
#
# Exit status: that of iwm-deps (0 nothing above info, 1 warnings,
# 2 errors, >= 64 the audit failed), 69 when iwm-deps is not installed,
# 73 when the output directory cannot be made.
set -u

dir=${IWM_AUDIT_DIR:-/var/lib/iwm/audit}
keep=${IWM_AUDIT_KEEP:-90}
day=$(date +%Y-%m-%d)
csv=$dir/deps-$day.csv
log=$dir/audit.log

mkdir -p "$dir" 2>/dev/null || {
	echo "audit-nightly: cannot make $dir" >&2
	exit 73
}

say() {
	printf '%s %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$*" >>"$log"
}

# fail STATUS MESSAGE: in the log and on standard error (cron mails it).
fail() {
	st=$1
	shift
	say "$*"
	echo "audit-nightly: $*" >&2
	exit "$st"
}

if ! command -v iwm-deps >/dev/null 2>&1; then
	fail 69 "iwm-deps is not installed: nothing audited"
fi

# Write to a temporary name, so that a failed run leaves no half file
# under the dated name.
tmp=$csv.tmp.$$
trap 'rm -f "$tmp" "$tmp.err"' EXIT
trap 'exit 1' HUP INT TERM
iwm-deps --csv "$tmp" >>"$log" 2>"$tmp.err"
st=$?
cat "$tmp.err" >>"$log"
case $st in
0 | 1 | 2)
	rm -f "$tmp.err"
	mv -f "$tmp" "$csv" || fail 74 "cannot write $csv"
	case $st in
	0) what="nothing above info" ;;
	1) what="warnings" ;;
	2) what="errors" ;;
	esac
	say "audit done: $what; $csv"
	;;
*)
	# What iwm-deps said goes to cron's mail, as well as to the log.
	cat "$tmp.err" >&2
	rm -f "$tmp.err"
	fail "$st" "iwm-deps failed with status $st (log: $log)"
	;;
esac

# Keep the last $keep days.
find "$dir" -type f -name 'deps-*.csv' -mtime +"$keep" \
    -exec rm -f {} + 2>>"$log"
exit "$st"
