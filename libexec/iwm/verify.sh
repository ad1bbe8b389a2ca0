# libexec/iwm/verify.sh: iwm verify, the target compared with the source.
# Sourced by bin/iwm.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# vf_norm: manifest records to "ROOT PATH TYPE SIZE MTIME MODE" lines (TAB
# separated; MTIME in whole seconds; directories without size and mtime,
# which a copy does not carry), only inside the scope of the source
# listing (its header's scope=), without the driver's own logs
# (logs/migration/, written while the listing runs), sorted bytewise.
# With a second argument 1 (verify --content), a regular file's line
# ends with its content hash, the NOTE of a hashed listing.
vf_norm() {
	awk -F '\t' -v scope="$1" -v content="${2:-0}" '
	BEGIN { n = split(scope, sc, ",") }
	/^#/ { next }
	function inscope(root, path,    i, r, p) {
		if (root == "logs" && (path == "migration" || index(path, "migration/") == 1))
			return 0
		for (i = 1; i <= n; i++) {
			r = sc[i]; p = ""
			if (index(r, ":")) { p = substr(r, index(r, ":") + 1); r = substr(r, 1, index(r, ":") - 1) }
			if (r != root) continue
			if (p == "" || index(path, p) == 1) return 1
		}
		return 0
	}
	{
		if (!inscope($6, $7)) next
		m = $4; sub(/\..*/, "", m)
		if ($2 == "d") print $6 "\t" $7 "\td\t-\t-\t" $5
		else if (content && $2 == "f") print $6 "\t" $7 "\t" $2 "\t" $3 "\t" m "\t" $5 "\t" $9
		else print $6 "\t" $7 "\t" $2 "\t" $3 "\t" m "\t" $5
	}' | LC_ALL=C sort
}

cmd_verify() {
	vf_content=0
	case ${1:-} in
	--content) vf_content=1 ;;
	'') ;;
	*) die 64 "verify takes no arguments but --content" ;;
	esac
	[ $# -le 1 ] || die 64 "verify takes no arguments but --content"
	# --content: each side hashes its own files (iwm-scan --hash, the
	# agent's GET /v1/hash); only the hashes cross the network.
	vf_hash=
	vf_how=
	if [ "$vf_content" -eq 1 ]; then
		vf_hash=--hash
		vf_how=" (contents compared)"
	fi
	STEP=verify
	src_paths || die 69 "the source's temp and log paths are unknown (iwm connect)"
	mkdir -p "$MIG/run"
	case $(state_get phase) in
	finalizing | finalized | started) vf_roots=mail,archive ;;
	*) vf_roots=mail,archive,logs ;;
	esac
	say "== verify: the target against the source (roots $vf_roots${vf_hash:+, contents})"
	# shellcheck disable=SC2086 # $vf_hash: no option or one
	src_run iwm-scan $vf_hash --roots "$vf_roots" >"$MIG/run/verify.src" 2>"$MIG/run/verify.err"
	vf_st=$?
	[ "$vf_st" -le 1 ] || die "$vf_st" "scanning the source failed: $(tail -n 1 "$MIG/run/verify.err")"
	# shellcheck disable=SC2086 # $vf_hash: no option or one
	remote iwm-scan $vf_hash --roots "$vf_roots" >"$MIG/run/verify.tgt" 2>>"$MIG/run/verify.err" ||
	    die $? "listing the target failed: $(tail -n 1 "$MIG/run/verify.err")"
	vf_scope=$(sed -n '1s/.*scope=\([^ ]*\).*/\1/p' "$MIG/run/verify.src")
	vf_norm "$vf_scope" "$vf_content" <"$MIG/run/verify.src" >"$MIG/run/verify.a"
	vf_norm "$vf_scope" "$vf_content" <"$MIG/run/verify.tgt" >"$MIG/run/verify.b"
	LC_ALL=C comm -3 "$MIG/run/verify.a" "$MIG/run/verify.b" >"$MIG/run/verify.diff"
	vf_files=$(grep -c . "$MIG/run/verify.a")
	# Only on the source / only on the target, each side's line shown.
	awk -F '\t' '
	/^\t/ { sub(/^\t/, ""); split($0, f, "\t"); t[f[1] "\t" f[2]] = $0; next }
	{ s[$1 "\t" $2] = $0 }
	END {
		for (k in s) {
			split(s[k], a, "\t")
			if (k in t) {
				split(t[k], b, "\t"); w = ""
				if (a[3] != b[3]) w = w " type " a[3] "/" b[3]
				if (a[4] != b[4]) w = w " size " a[4] "/" b[4]
				if (a[5] != b[5]) w = w " mtime " a[5] "/" b[5]
				if (a[6] != b[6]) w = w " mode " a[6] "/" b[6]
				if (a[7] != b[7]) w = w " content"
				print "differs\t" k "\t" substr(w, 2)
				delete t[k]
			} else
				print "missing on the target\t" k
		}
		for (k in t) print "only on the target\t" k
	}' "$MIG/run/verify.diff" | LC_ALL=C sort -t '	' -k2 >"$MIG/run/verify.report"
	vf_nd=$(grep -c . "$MIG/run/verify.report")
	if [ "$vf_nd" -gt 0 ]; then
		say "  differences (source/target), first 50 of $vf_nd:"
		head -n 50 "$MIG/run/verify.report" | sed 's/^/    /'
		cp "$MIG/run/verify.report" "$MIG/verify.report"
	fi
	log verify "files: $vf_files records compared$vf_how, $vf_nd differ"
	# The databases: iwm-restore db --verify where the target's tool runs.
	# The accounts database is compared account by account instead: the
	# target keeps its own administrator and domain on top of the
	# source's (restore-preserved), so its tables hold more rows.
	vf_tables=
	vf_tbad=0
	if [ -n "$TARGET_TOOL" ] && [ -d "$IWMIG/db" ] &&
	    [ -n "$(state_get fin_restore-db)" ]; then
		vf_only=$(find "$IWMIG/db" -maxdepth 1 -name '*.db' -printf '%f\n' |
		    sed 's/\.db$//' | grep -vx accounts | LC_ALL=C sort | paste -sd, -)
		: >"$MIG/run/verify.db"
		if [ -n "$vf_only" ]; then
			iwm-restore db -q --verify --only "$vf_only" \
			    --tool "$TARGET_TOOL" "$IWMIG/db" >"$MIG/run/verify.db" 2>&1
		fi
		vf_tok=$(grep -c '	ok' "$MIG/run/verify.db")
		vf_tbad=$(grep -c '	differ\|	missing' "$MIG/run/verify.db")
		[ "$vf_tbad" -eq 0 ] || grep '	differ\|	missing' "$MIG/run/verify.db" | sed 's/^/    /'
		log verify "tables: $vf_tok equal, $vf_tbad differ (iwm-restore db --verify)"
		# Accounts: every source account on the target with its type;
		# the target's extra accounts only in its own domains.
		vf_st=$(src_tool)
		"$vf_st" export account '*@*' u_type 2>/dev/null | tr -d '\r' |
		    LC_ALL=C sort >"$MIG/run/verify.acc.src"
		"$TARGET_TOOL" export account '*@*' u_type 2>/dev/null | tr -d '\r' |
		    LC_ALL=C sort >"$MIG/run/verify.acc.tgt"
		"$vf_st" export domain '*' 2>/dev/null | cut -d, -f1 | tr -d '\r' |
		    LC_ALL=C sort -u >"$MIG/run/verify.dom.src"
		vf_amiss=$(LC_ALL=C comm -23 "$MIG/run/verify.acc.src" "$MIG/run/verify.acc.tgt" | grep -c .)
		vf_aextra=$(LC_ALL=C comm -13 "$MIG/run/verify.acc.src" "$MIG/run/verify.acc.tgt" |
		    cut -d, -f1 | sed 's/.*@//' | LC_ALL=C sort -u |
		    LC_ALL=C comm -12 - "$MIG/run/verify.dom.src" | grep -c .)
		vf_acc=$(grep -c . "$MIG/run/verify.acc.src")
		if [ "$vf_amiss" -gt 0 ] || [ "$vf_aextra" -gt 0 ]; then
			say "    accounts: $vf_amiss of the source's missing or of another type on the target, $vf_aextra source domains with accounts only the target has"
			LC_ALL=C comm -23 "$MIG/run/verify.acc.src" "$MIG/run/verify.acc.tgt" |
			    head -n 20 | sed 's/^/      missing: /'
			vf_tbad=$((vf_tbad + 1))
		fi
		log verify "accounts: $vf_acc on the source, $vf_amiss missing on the target, $vf_aextra domains with extra accounts"
		vf_tables=", $vf_tok tables equal, $vf_tbad differ, $vf_acc accounts present"
	elif [ -n "$(state_get fin_restore-db)" ]; then
		vf_tables=", tables not compared from here (on the target: iwm-restore db --verify <temp>/iw_migration/db)"
	fi
	if [ "$vf_nd" -eq 0 ] && [ "$vf_tbad" -eq 0 ]; then
		note verify "verify: equal: $vf_files files and directories$vf_how$vf_tables"
		return 0
	fi
	vf_list=
	[ "$vf_nd" -eq 0 ] || vf_list=" (list: $MIG/verify.report)"
	note verify "verify: DIFFERENT: $vf_nd of $vf_files files and directories differ$vf_how$vf_tables$vf_list"
	return 1
}
