#!/bin/sh
# first-phase.sh: the first phase of a migration, as a dry run.
#
# Scans the source server, compares it with the target's state and prints
# what a copy would move: files to create, to update and (in scope) to
# delete, with their bytes.  It changes nothing; iwm-push(1) applies the
# changes file it leaves behind.
#
# The driver, iwm(1), runs the real first phase (`iwm copy`); this script
# shows the pipelines it is made of, for a custom runbook.
#
# usage: first-phase.sh [-c CONF] [-d DOMAIN]... [-t TOOL] [-w DIR] [TARGET]
#   TARGET  a manifest of the target (a file), or https://... to list the
#           target agent with `iwm-scan --target` (options from iwm-push(1)
#           may be added in IWM_TARGET_OPTS)
#   -c      read TARGET_URL, CREDENTIALS, FINGERPRINT or CACERT and TOOL
#           from the driver's iwm.conf (parsed, never run); TARGET may then
#           be left out
#   -d      scan only DOMAIN (repeatable); the logs are then left out
#   -t      the IceWarp tool (default: from /etc/icewarp/icewarp.conf)
#   -w      where to keep the manifests (default: a new directory in /tmp)
#
# Exit status: 0 nothing to copy, 1 something to copy, >1 an error.
set -u

prog=${0##*/}
tool=""
work=""
domains=""

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 2
}

# conf NAME FILE: the value of NAME in an iwm.conf, taken literally.
conf() {
	sed -n "s/^[[:space:]]*$1=//p" "$2" | tail -n 1 |
	    sed 's/^"\(.*\)"$/\1/;s/^'"'"'\(.*\)'"'"'$/\1/'
}

conffile=""
while getopts c:d:t:w: opt; do
	case $opt in
	c) conffile=$OPTARG ;;
	d) domains="$domains --domain $OPTARG" ;;
	t) tool=$OPTARG ;;
	w) work=$OPTARG ;;
	*) printf 'usage: %s [-c CONF] [-d DOMAIN]... [-t TOOL] [-w DIR] [TARGET]\n' \
	    "$prog" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
if [ -n "$conffile" ]; then
	[ -r "$conffile" ] || die "$conffile: cannot read"
	[ -n "$tool" ] || tool=$(conf TOOL "$conffile")
	cred=$(conf CREDENTIALS "$conffile")
	fp=$(conf FINGERPRINT "$conffile")
	ca=$(conf CACERT "$conffile")
	# Paths and fingerprints hold no spaces: one string of options.
	IWM_TARGET_OPTS="${IWM_TARGET_OPTS:-}${cred:+ --credentials $cred}${fp:+ --fingerprint $fp}${ca:+ --cacert $ca}"
	[ $# -eq 1 ] || set -- "$(conf TARGET_URL "$conffile")"
fi
if [ $# -ne 1 ] || [ -z "$1" ]; then
	die "one TARGET expected (a manifest file or https://...)"
fi
target=$1

command -v iwm-scan >/dev/null 2>&1 || die "iwm-scan is not on PATH"
command -v iwm-diff >/dev/null 2>&1 || die "iwm-diff is not on PATH"

if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/iwm-first-phase.XXXXXX") ||
	    die "cannot make a work directory"
fi
mkdir -p "$work" || die "cannot make $work"

# Domain names hold no spaces: splitting $domains is intended.
# shellcheck disable=SC2086
set -- $domains
[ -n "$tool" ] && set -- "$@" --tool "$tool"

# 1. The source.  Status 1 means some directory could not be read: its
# contents are missing from the manifest, so deletions would be wrong.
echo "== scanning the source"
iwm-scan --summary "$@" >"$work/source.manifest"
st=$?
case $st in
0) ;;
1) echo "$prog: some directories could not be read (see above);" \
    "do not apply deletions from this run" >&2 ;;
*) die "iwm-scan failed (status $st)" ;;
esac

# 2. The target: a saved manifest, or the agent's live state.
case $target in
http://* | https://*)
	echo "== listing the target $target"
	# IWM_TARGET_OPTS holds connection options; splitting is intended.
	# shellcheck disable=SC2086
	iwm-scan --target "$target" ${IWM_TARGET_OPTS:-} \
	    >"$work/target.manifest" || die "listing the target failed"
	tmanifest=$work/target.manifest
	;;
*)
	[ -r "$target" ] || die "$target: cannot read"
	tmanifest=$target
	;;
esac

# 3. The difference, deletions included (they stay inside the scan's scope).
echo "== comparing"
iwm-diff --exit-code --delete "$work/source.manifest" "$tmanifest" \
    >"$work/changes"
dst=$?
[ $dst -le 1 ] || die "iwm-diff failed (status $dst)"

# 4. The counts.
echo "== what a copy would move"
awk -F '\t' '
/^#/ { next }
{ n[$1]++; if ($2 == "f") b[$1] += $3 }
END {
	printf "  create %8d records %16.0f bytes\n", n["+"], b["+"]
	printf "  update %8d records %16.0f bytes\n", n["~"], b["~"]
	printf "  delete %8d records\n", n["-"]
}' "$work/changes"
echo "  changes: $work/changes"
exit $dst
