# libexec/iwm/domain.sh: iwm domain DOMAIN plan|prepare|copy|cutover|finish|status
# Moving one domain into a target that already hosts others, after the
# single-domain procedure.  Sourced by bin/iwm (uses lib.sh's config,
# logs, state, remote and action helpers, and phase1.sh's push_migration).
# shellcheck shell=sh disable=SC2034,SC2153,SC2154 # names shared by bin/iwm's files

domain_usage() {
	cat <<'EOF'
usage: iwm domain DOMAIN STEP [--dry-run] [--merge] [--forward HOST]
steps, in order:
  plan      what will be created, copied, blocked and switched (printed first)
  prepare   create the domain, accounts and remote accounts on the target
            (remote accounts disabled, accounts blocked), copy its config
  copy      mirror its mail and archive (repeat until a pass is short)
  cutover   block the source accounts, move groupware, Senders and
            webmail cache rows, last mail sync, report system rules
  finish    source domain to a backup domain forwarding to the target,
            target accounts unblocked, remote accounts enabled; checklist
  status    the steps done, the passes
options:
  -n, --dry-run   say what would be done, change nothing
  --merge         prepare: the domain already exists on the target
  --forward HOST  finish: where the source's backup domain forwards
                  (default: the agent's host)
EOF
}

# --- per-domain state: $MIG/domain/DOMAIN/state ------------------------

dstate_get() {
	kv_get "$DMIG/state" "$1"
}

dstate_set() {
	mkdir -p "$DMIG" || die 73 "$DMIG: cannot make"
	kv_set "$DMIG/state" "$1" "$2"
}

# dnote MESSAGE: logged under this step and printed.
dnote() {
	note "$STEP" "$1"
}

# drun COMMAND...: run it, or with --dry-run say it.
drun() {
	if [ "$D_DRY" -eq 1 ]; then
		printf '  would run: %s\n' "$*" >&2
		return 0
	fi
	log "$STEP" "run: $*"
	"$@"
}

# --- the two servers ------------------------------------------------------

# The target's half of each step is `iwm-restore domain STEP DIR` on the
# target, DIR the pushed migration folder's domain/.  Through the agent
# it is the action domain-STEP; where the target's tool runs on this host
# (TARGET_TOOL), the same program runs here against it.
tgt_paths() {
	[ -n "$TARGET_TOOL" ] || return 0
	TGT_TEMP=$(tool_get "$TARGET_TOOL" C_System_Storage_Dir_TempPath)
	[ -n "$TGT_TEMP" ] || die 69 "the target's tool $TARGET_TOOL does not answer"
	TGT_TEMP=${TGT_TEMP%/}
}

# tgt_step STEP DIR: the target's half; DIR is the local copy for a dry run.
tgt_step() {
	ts_out=$DMIG/run/target-$1.out
	if [ -n "$TARGET_TOOL" ]; then
		if [ "$D_DRY" -eq 1 ]; then
			set -- -n "$1" "$2"
		else
			set -- "$1" "$TGT_TEMP/iw_migration/domain"
		fi
		log "$STEP" "target: iwm-restore domain $*"
		iwm-restore domain --tool "$TARGET_TOOL" "$@" >"$ts_out" 2>&1
		ts_st=$?
		log_file "$STEP" "$ts_out"
		sed 's/^/  target: /' "$ts_out"
		return "$ts_st"
	fi
	if [ "$D_DRY" -eq 1 ]; then
		say "  would run on the target: action domain-$1"
		return 0
	fi
	action "domain-$1"
	ts_st=$?
	sed 's/^/  target: /' "$MIG/run/action-domain-$1.out"
	return "$ts_st"
}

# domain_files DIR: what the target's steps read, in DIR/name and DIR/$D/.
domain_files() {
	df=$1/$D
	mkdir -p "$df" || die 73 "$df: cannot make"
	printf '%s\n' "$D" >"$1/name.tmp" || die 74 "$1/name: cannot write"
	mv -f "$1/name.tmp" "$1/name" || die 74 "$1/name: cannot write"
	printf 'merge=%s\n' "$D_MERGE" >"$df/options"
	"$SRC_TOOL" export domain "$D" d_backup >"$df/domain.csv" ||
	    die 69 "the source's tool cannot export $D"
	"$SRC_TOOL" export account "*@$D" u_backup >"$df/accounts.csv" ||
	    die 69 "the source's tool cannot export the accounts of $D"
	"$SRC_TOOL" export account "*@$D" u_mailboxpath >"$df/paths.csv" ||
	    die 69 "the source's tool cannot export the accounts of $D"
	ra_names "$SRC_TOOL" >"$df/remoteaccounts.list"
	: >"$df/remoteaccounts.csv"
	while read -r ra; do
		"$SRC_TOOL" export remoteaccount "$ra" ra_backup \
		    >>"$df/remoteaccounts.csv" ||
		    die 69 "the source's tool cannot export remote account $ra"
	done <"$df/remoteaccounts.list"
	rm -rf "$df/config"
	mkdir -p "$df/config"
	[ -d "$SRC_CONF/$D" ] && cp -pR "$SRC_CONF/$D" "$df/config/$D"
	hosts_files "$SRC_CONF" >"$df/hosts.list"
	if [ -s "$df/hosts.list" ]; then
		mkdir -p "$df/config/_hosts"
		while read -r hf; do
			cp -p "$SRC_CONF/_webmail/_hosts/$hf" "$df/config/_hosts/"
		done <"$df/hosts.list"
	fi
}

# has_domain TOOL: the server behind TOOL has domain $D.
has_domain() {
	"$1" export domain "$D" 2>/dev/null | grep -qi "^$D_RE,"
}

# The domain's remote accounts: names whose owner is in the domain.
ra_names() {
	"$1" export remoteaccount '*' ra_owner 2>/dev/null | tr -d '\r' |
	    awk -F, -v d="@$D_LOW" '{
		o = tolower($2)
		if (length(o) > length(d) && substr(o, length(o) - length(d) + 1) == d)
			print $1
	}'
}

src_config() {
	SRC_CONF=$(tool_get "$SRC_TOOL" C_ConfigPath)
	[ -n "$SRC_CONF" ] || die 69 "the source's tool does not answer (C_ConfigPath)"
	SRC_CONF=${SRC_CONF%/}
}

# The _webmail/_hosts files that name the domain.
hosts_files() {
	[ -d "$1/_webmail/_hosts" ] || return 0
	grep -lis -- "$D" "$1/_webmail/_hosts"/* 2>/dev/null | while read -r hf; do
		basename "$hf"
	done
}

# --- a scoped copy pass -------------------------------------------------

# dpass KIND: mail and archive of the domain, deletions inside it only.
dpass() {
	dp_kind=$1
	dp_run=$DMIG/run
	mkdir -p "$dp_run"
	dp_n=1
	[ -f "$DMIG/passes" ] && dp_n=$(($(wc -l <"$DMIG/passes") + 1))
	if [ "$D_DRY" -eq 1 ]; then
		say "  would copy: iwm-scan --roots mail,archive --domain $D on both sides | iwm-diff --delete | iwm-push --delete"
		return 0
	fi
	dp_t0=$(now)
	log "$STEP" "pass $dp_n ($dp_kind) of $D"
	iwm-scan --roots mail,archive --domain "$D" >"$dp_run/src.m" \
	    2>"$dp_run/scan.err"
	dp_st=$?
	log_file "$STEP" "$dp_run/scan.err"
	[ "$dp_st" -le 1 ] ||
	    die "$dp_st" "scanning the source failed: $(tail -n 1 "$dp_run/scan.err")"
	dp_del=--delete
	if [ "$D_MERGE" -eq 1 ]; then
		dnote "  merged into the target's own $D: nothing is deleted on the target"
		dp_del=
	elif [ "$dp_st" -eq 1 ]; then
		dnote "  the source scan is incomplete: nothing is deleted on the target in this pass"
		dp_del=
	fi
	remote iwm-scan --roots mail,archive --domain "$D" >"$dp_run/tgt.m" \
	    2>"$dp_run/tscan.err" ||
	    die $? "listing the target failed: $(tail -n 1 "$dp_run/tscan.err")"
	iwm-diff $dp_del "$dp_run/src.m" "$dp_run/tgt.m" >"$dp_run/diff.m" \
	    2>"$dp_run/diff.err"
	[ $? -le 1 ] || die 65 "comparing failed: $(tail -n 1 "$dp_run/diff.err")"
	# shellcheck disable=SC2086 # $dp_del is one word or none
	remote iwm-push $dp_del --stats --no-progress --jobs "$JOBS" \
	    --failed "$dp_run/failed.m" "$dp_run/diff.m" \
	    >"$DMIG/journal-$dp_n.manifest" 2>"$dp_run/push.err"
	dp_pst=$?
	grep -v '^iwm-push: stats' "$dp_run/push.err" >"$dp_run/push.msgs"
	log_file "$STEP" "$dp_run/push.msgs"
	dp_stats=$(grep '^iwm-push: stats' "$dp_run/push.err" | tail -n 1)
	dp_f=$(printf '%s\n' "$dp_stats" | sed -n 's/.* files=\([0-9]*\).*/\1/p')
	dp_b=$(printf '%s\n' "$dp_stats" | sed -n 's/.* bytes=\([0-9]*\).*/\1/p')
	dp_d=$(printf '%s\n' "$dp_stats" | sed -n 's/.* deleted=\([0-9]*\).*/\1/p')
	dp_x=$(printf '%s\n' "$dp_stats" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
	dp_s=$(($(now) - dp_t0))
	case $dp_pst in
	0) dp_res=ok ;;
	1) dp_res=some-failed ;;
	*) dp_res=error-$dp_pst ;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dp_n" "$dp_kind" \
	    "$dp_t0" "$dp_s" "${dp_f:-0}" "${dp_b:-0}" "${dp_d:-0}" \
	    "${dp_x:-0}" "$dp_res" >>"$DMIG/passes"
	[ "$dp_pst" -le 1 ] ||
	    die "$dp_pst" "copying failed (iwm-push exit $dp_pst): $(tail -n 1 "$dp_run/push.msgs")"
	dnote "  pass $dp_n ($dp_kind): ${dp_f:-0} files, $(human "${dp_b:-0}"), ${dp_d:-0} deleted, ${dp_x:-0} failed in $dp_s s"
	return 0
}

# --- the steps -------------------------------------------------------------

domain_plan() {
	say "== plan: moving $D from this server to $TARGET_URL"
	dp_acc=$("$SRC_TOOL" export account "*@$D" u_type 2>/dev/null | grep -c .)
	dp_abs=$("$SRC_TOOL" export account "*@$D" u_mailboxpath 2>/dev/null |
	    tr -d '\r' | awk -F, '$2 ~ /^(\/|[A-Za-z]:|\\\\)/' | grep -c .)
	dp_ra=$(ra_names "$SRC_TOOL" | grep -c .)
	iwm-scan --roots mail,archive --domain "$D" --summary \
	    >/dev/null 2>"$DMIG/run/summary"
	dp_files=$(awk '/files/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^files/) f += $i } END { print f + 0 }' "$DMIG/run/summary")
	dp_bytes=$(awk '/bytes/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^bytes/) b += $i } END { printf "%.0f\n", b + 0 }' "$DMIG/run/summary")
	dp_rate=$(state_get full_rate)
	if [ -n "$dp_rate" ] && [ "$dp_rate" -gt 0 ]; then
		dp_eta="about $((dp_bytes / dp_rate + 1)) s at the measured $(human "$dp_rate")/s"
	else
		dp_eta="unknown until a first pass measures the speed"
	fi
	{
		printf 'domain %s, source %s, target %s\n' "$D" "$SRC_TOOL" "$TARGET_URL"
		printf 'prepare: create the domain, %s accounts and %s remote accounts on the target\n' "$dp_acc" "$dp_ra"
		printf '         from d_backup/u_backup/ra_backup; remote accounts disabled (RA_Enabled 0),\n'
		printf '         accounts blocked (u_accountdisabled 2); %s absolute mailbox paths get the default\n' "$dp_abs"
		printf '         copy config/%s/ and the _webmail/_hosts files naming it (%s)\n' "$D" \
		    "$(hosts_files "$SRC_CONF" | tr '\n' ' ')"
		printf 'copy:    mail and archive of %s: %s files, %s; estimated copy time %s\n' "$D" "$dp_files" "$(human "$dp_bytes")" "$dp_eta"
		printf 'cutover: block the %s accounts on the source; move groupware, Senders and webmail\n' "$dp_acc"
		printf '         cache rows (fresh keys where the target uses them); last mail sync;\n'
		printf '         system rules and content filters naming %s listed for review\n' "$D"
		printf 'finish:  the source domain becomes a backup domain (D_Type 3) forwarding to the target;\n'
		printf '         target accounts unblocked, remote accounts enabled; source accounts stay blocked\n'
		printf 'then:    the checklist (DNS, DKIM, certificate, webclient URL, mobiles, shares)\n'
	} >"$DMIG/plan.txt"
	if [ -n "$TARGET_TOOL" ] && has_domain "$TARGET_TOOL" &&
	    [ -z "$(dstate_get prepared)" ]; then
		printf 'warning: %s already exists on the target: prepare refuses it without --merge\n' "$D" >>"$DMIG/plan.txt"
	fi
	sed 's/^/  /' "$DMIG/plan.txt"
	log "$STEP" "plan saved in $DMIG/plan.txt"
	dstate_set planned "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

domain_prepare() {
	tgt_paths
	say "== prepare: $D on the target (accounts blocked, remote accounts disabled)"
	if [ "$D_DRY" -eq 1 ]; then
		rm -rf "$DMIG/run/dry"
		domain_files "$DMIG/run/dry"
		tgt_step prepare "$DMIG/run/dry" ||
		    die $? "the target's prepare would fail"
		return 0
	fi
	[ "$D_MERGE" -eq 1 ] && dstate_set merge 1
	domain_files "$IWMIG/domain"
	push_migration
	tgt_step prepare || die $? "preparing $D on the target failed"
	dstate_set prepared "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	dnote "prepare: $D on the target with $(grep -c . "$IWMIG/domain/$D/accounts.csv") accounts (blocked) and $(grep -c . "$IWMIG/domain/$D/remoteaccounts.list") remote accounts (disabled); next: iwm domain $D copy"
}

domain_copy() {
	[ -n "$(dstate_get prepared)" ] || [ "$D_DRY" -eq 1 ] ||
	    die 64 "$D is not prepared on the target yet: iwm domain $D prepare"
	say "== copy: mail and archive of $D (repeat until a pass is short)"
	dpass copy
	[ "$D_DRY" -eq 1 ] && return 0
	dstate_set copied "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	say "  passes so far:"
	awk -F '\t' '{ printf "    pass %s (%s): %s files, %s bytes in %s s\n", $1, $2, $5, $6, $4 }' "$DMIG/passes"
}

domain_cutover() {
	tgt_paths
	[ -n "$(dstate_get copied)" ] || [ "$D_DRY" -eq 1 ] ||
	    die 64 "$D has not been copied yet: iwm domain $D copy"
	say "== cutover: block $D on the source, move its rows, last sync"
	dw=$IWMIG/domain/$D
	if [ "$D_DRY" -eq 0 ] && [ ! -f "$dw/source-disabled.csv" ]; then
		mkdir -p "$dw"
		"$SRC_TOOL" export account "*@$D" u_accountdisabled \
		    >"$dw/source-disabled.csv.tmp" &&
		    mv -f "$dw/source-disabled.csv.tmp" "$dw/source-disabled.csv"
	fi
	drun "$SRC_TOOL" set account "*@$D" u_accountdisabled 2 >/dev/null ||
	    die 69 "cannot block the accounts of $D on the source"
	dstate_set source_blocked 1
	if [ "$D_DRY" -eq 1 ]; then
		rm -rf "$DMIG/run/dry"
		mkdir -p "$DMIG/run/dry/$D"
		printf '%s\n' "$D" >"$DMIG/run/dry/name"
		iwm-dbexport --domain "$D" -o "$DMIG/run/dry/$D" \
		    >"$DMIG/run/rows.out" 2>&1 ||
		    die $? "$(tail -n 1 "$DMIG/run/rows.out")"
		sed 's/^/  would move: /' "$DMIG/run/rows.out"
		tgt_step rows "$DMIG/run/dry" ||
		    die $? "merging the rows of $D on the target would fail"
	else
		mkdir -p "$dw"
		printf '%s\n' "$D" >"$IWMIG/domain/name"
		iwm-dbexport --domain "$D" -o "$dw" >"$DMIG/run/rows.out" 2>&1 ||
		    die $? "exporting the rows of $D failed: $(tail -n 1 "$DMIG/run/rows.out")"
		log_file "$STEP" "$DMIG/run/rows.out"
		push_migration
		tgt_step rows ||
		    die $? "merging the rows of $D on the target failed"
	fi
	dpass final
	# System-level rules and content filters that name the domain.
	{
		[ -f "$SRC_CONF/content.xml" ] &&
		    grep -qi -- "$D" "$SRC_CONF/content.xml" &&
		    printf 'content filters (config/content.xml) name %s: review them and recreate what is needed on the target\n' "$D"
		"$SRC_TOOL" get system C_Mail_Filter_RulesContentXML 2>/dev/null |
		    grep -qi -- "$D" &&
		    printf 'system rules (C_Mail_Filter_RulesContentXML) name %s: review them and recreate what is needed on the target\n' "$D"
	} >"$DMIG/review.txt"
	if [ -s "$DMIG/review.txt" ]; then
		sed 's/^/  review: /' "$DMIG/review.txt"
		log_file "$STEP" "$DMIG/review.txt"
	else
		say "  no system rule or content filter names $D"
	fi
	[ "$D_DRY" -eq 1 ] && return 0
	dstate_set cutover "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	dnote "cutover: $D blocked on the source, rows moved, mail synchronised; next: iwm domain $D finish"
}

domain_finish() {
	tgt_paths
	[ -n "$(dstate_get cutover)" ] || [ "$D_DRY" -eq 1 ] ||
	    die 64 "the cutover of $D is not done: iwm domain $D cutover"
	fw=$D_FORWARD
	if [ -z "$fw" ]; then
		fw=${TARGET_URL#*://}
		fw=${fw%%/*}
		fw=${fw%:*}
	fi
	say "== finish: $D switched to the target ($fw)"
	drun "$SRC_TOOL" set domain "$D" d_type 3 d_domainvalue "$fw" >/dev/null ||
	    die 69 "cannot make $D a backup domain on the source"
	drun "$SRC_TOOL" set account "*@$D" u_accountdisabled 2 >/dev/null
	# The target's half.
	if [ "$D_DRY" -eq 1 ]; then
		rm -rf "$DMIG/run/dry"
		domain_files "$DMIG/run/dry"
		tgt_step finish "$DMIG/run/dry" || die $? "the target's finish would fail"
	else
		domain_files "$IWMIG/domain"
		push_migration
		tgt_step finish || die $? "finishing $D on the target failed"
	fi
	{
		printf 'Checklist for %s (what no tool can do), saved in %s/checklist.txt\n' "$D" "$DMIG"
		printf '[ ] MX records of %s point at the target; other DNS records (A/CNAME of the\n    server names the users know, autodiscover, SPF) updated\n' "$D"
		if [ -f "$SRC_CONF/$D/domainkey.dat" ]; then
			printf '[ ] DKIM: publish the selector %s of config/%s/domainkey.dat in DNS\n' \
			    "$(sed -n 2p "$SRC_CONF/$D/domainkey.dat" | tr -d '\r')" "$D"
		else
			printf '[ ] DKIM: no domainkey.dat was carried: create a key on the target and publish it\n'
		fi
		printf '[ ] certificate for the server names of %s on the target\n' "$D"
		printf '[ ] webclient URL and the domain'"'"'s webclient settings on the target\n'
		printf '[ ] mobile device profiles (ActiveSync server name)\n'
		printf '[ ] shares between accounts set in the webclient: recreate those not carried\n'
		printf '[ ] content filters and system rules listed at the cutover (%s/review.txt)\n' "$DMIG"
		printf '[ ] processes added to the html folder, changes to IceWarp'"'"'s files\n'
		printf '[ ] later, when no mail arrives any more: delete %s on the source\n' "$D"
	} >"$DMIG/checklist.tmp"
	if [ "$D_DRY" -eq 1 ]; then
		rm -f "$DMIG/checklist.tmp"
		return 0
	fi
	mv -f "$DMIG/checklist.tmp" "$DMIG/checklist.txt"
	sed 's/^/  /' "$DMIG/checklist.txt"
	dstate_set finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	log "$STEP" "finish: $D forwards to $fw; checklist $DMIG/checklist.txt"
}

domain_status() {
	say "== $D"
	for ds in planned prepared copied cutover finished; do
		dv=$(dstate_get "$ds")
		printf '  %-9s %s\n' "$ds" "${dv:-not yet}"
	done
	if [ -f "$DMIG/passes" ]; then
		say "  passes:"
		awk -F '\t' '{ printf "    %s %s: %s files, %s bytes, %s deleted, %s failed in %s s (%s)\n", $1, $2, $5, $6, $7, $8, $4, $9 }' "$DMIG/passes"
	fi
}

cmd_domain() {
	[ $# -ge 1 ] || { domain_usage >&2; exit 64; }
	case $1 in
	-h | --help) domain_usage; return 0 ;;
	esac
	[ $# -ge 2 ] || { domain_usage >&2; exit 64; }
	D=$1
	D_STEP=$2
	shift 2
	D_DRY=0 D_MERGE=0 D_FORWARD=
	while [ $# -gt 0 ]; do
		case $1 in
		-n | --dry-run) D_DRY=1 ;;
		--merge) D_MERGE=1 ;;
		--forward) [ $# -ge 2 ] || die 64 "--forward HOST"; D_FORWARD=$2; shift ;;
		*) domain_usage >&2; exit 64 ;;
		esac
		shift
	done
	case $D in
	'' | *[!A-Za-z0-9.-]* | .* | *..*) die 64 "'$D' is not a domain name" ;;
	esac
	D_LOW=$(printf '%s' "$D" | tr '[:upper:]' '[:lower:]')
	D_RE=$(printf '%s' "$D" | sed 's/\./\\./g')
	STEP=domain-$D_STEP
	case $D_STEP in
	plan | prepare | copy | cutover | finish | status) ;;
	*) die 64 "unknown step '$D_STEP' (plan, prepare, copy, cutover, finish, status)" ;;
	esac
	conf_need TARGET_URL CREDENTIALS
	DMIG=$MIG/domain/$D
	# A merge is remembered: every later step keeps to the source's accounts.
	[ "$(dstate_get merge)" = 1 ] && D_MERGE=1
	if [ "$D_STEP" = status ]; then
		[ -f "$DMIG/state" ] || die 66 "no move of $D recorded here (iwm domain $D plan)"
		domain_status
		return 0
	fi
	SRC_TOOL=$(src_tool)
	if [ -z "$SRC_TOOL" ] || [ ! -x "$SRC_TOOL" ]; then
		die 69 "the source's IceWarp tool ${SRC_TOOL:-(none)} cannot be run: set TOOL in $CONF"
	fi
	src_paths || die 69 "the source's temp and log paths are unknown"
	has_domain "$SRC_TOOL" || die 66 "no domain $D on the source"
	src_config
	mkdir -p "$DMIG/run" || die 73 "$DMIG: cannot make"
	lock_take "domain $D $D_STEP"
	[ "$D_DRY" -eq 1 ] && say "(dry run: nothing is changed)"
	case $D_STEP in
	plan) domain_plan ;;
	prepare) domain_plan; domain_prepare ;;
	copy) domain_copy ;;
	cutover) domain_cutover ;;
	finish) domain_finish ;;
	esac
}
