# libexec/iwm/menu.sh: iwm menu, the text user interface of IceWarp's
# Linux migrator (its screens, in its order) over the driver's own
# commands, drawn with dialog(1).  Sourced by bin/iwm.
#
# Every action runs "iwm -c CONF COMMAND" as a child, so the menu does
# nothing the commands do not; it only draws their results.  Secrets typed
# into a form travel from dialog to a private file (mode 0600, in a 0700
# folder) and from there into the credentials files, never on a command
# line or into a log.
# shellcheck shell=sh disable=SC2034,SC2154 # names shared by bin/iwm's files

# mlog WHAT: the menu's own line in the driver's log.
mlog() {
	log menu "$1"
}

# drv_to FILE COMMAND ARGS...: the driver, its output in FILE, its
# status returned.
drv_to() {
	dt_out=$1
	shift
	mlog "run: iwm $*"
	"$BIN/iwm" -c "$CONF" "$@" >"$dt_out" 2>&1
	dt_st=$?
	mlog "iwm $1: exit $dt_st"
	return "$dt_st"
}

# drv COMMAND ARGS...: the driver, its output in $M_OUT.
drv() {
	drv_to "$M_OUT" "$@"
}

# dlg ARGS...: dialog, its answer in $M_ANS (file $M_TMP/ans), status returned.
dlg() {
	dialog --backtitle "iwm menu: IceWarp server migration   ($CONF)" \
	    --output-fd 3 "$@" 3>"$M_TMP/ans" </dev/tty
	dg_st=$?
	M_ANS=$(cat "$M_TMP/ans")
	return "$dg_st"
}

msg() {
	dlg --title "$1" --msgbox "$2" 12 76
}

# show TITLE FILE: a scrollable view of FILE.
show() {
	dlg --title "$1" --exit-label Back --textbox "$2" "$M_H" "$M_W"
}

busy() {
	dialog --backtitle "iwm menu: IceWarp server migration   ($CONF)" \
	    --title "$1" --infobox "$2" 6 70 </dev/tty
}

# The answer's line N.
line() {
	sed -n "${1}p" "$M_TMP/ans"
}

# conf_load: the configuration's values, when there is one.
conf_load() {
	conf_reset
	if [ -f "$CONF" ]; then
		# In a subshell first: conf_read exits on a bad file.
		(conf_read "$CONF") >/dev/null 2>&1 || return 1
		conf_read "$CONF"
	else
		MIG=$(dirname "$CONF")/migration
	fi
	M_DIR=$(dirname "$CONF")
	src_paths >/dev/null 2>&1 || true
	return 0
}

# --- Connection ---------------------------------------------------------------

# The host:port and SSL tick of TARGET_URL.
url_split() {
	case $TARGET_URL in
	https://*) C_HOST=${TARGET_URL#https://}; C_SSL=y ;;
	http://*) C_HOST=${TARGET_URL#http://}; C_SSL=n ;;
	*) C_HOST=''; C_SSL=y ;;
	esac
	C_HOST=${C_HOST%/}
}

# cred_user FILE: the user name of a user:password file (not the password).
cred_user() {
	[ -r "$1" ] && head -n 1 "$1" | sed 's/:.*//'
}

screen_connection() {
	url_split
	[ -n "$PROXY" ] && C_PRX=y || C_PRX=n
	c_user=$(cred_user "$CREDENTIALS")
	while :; do
		mlog "screen: Connection"
		dlg --title "Connection" --ok-label Next --cancel-label Exit \
		    --insecure --mixedform \
"Target server: the address of its agent (iwm-serve), an account with the
agent's admin role and its password (empty: keep the saved one).
Use SSL: y (https, the certificate's fingerprint is shown to confirm).
Use proxy server: y to give its address on the next screen." \
		    16 76 5 \
		    "Host/IP:port"        1 1 "$C_HOST" 1 24 40 200 0 \
		    "Administrator"       2 1 "$c_user" 2 24 40 200 0 \
		    "Password"            3 1 ""        3 24 40 200 1 \
		    "Use SSL (y/n)"       4 1 "$C_SSL"  4 24 2 1 0 \
		    "Use proxy server (y/n)" 5 1 "$C_PRX" 5 24 2 1 0 ||
		    return 1
		C_HOST=$(line 1)
		c_user=$(line 2)
		C_SSL=$(line 4)
		C_PRX=$(line 5)
		# The password goes from dialog's answer file to its own.
		sed -n 3p "$M_TMP/ans" >"$M_TMP/pw"
		: >"$M_TMP/ans"
		case $C_HOST in
		'') msg Connection "The target's Host/IP:port is needed."; continue ;;
		*[!A-Za-z0-9.:_\[\]-]*)
			msg Connection "Host/IP:port: '$C_HOST' is not a host name or address."; continue ;;
		*:*[0-9]) ;;
		*) msg Connection "Host/IP:port: give the agent's port too (host:port)."; continue ;;
		esac
		if [ -z "$c_user" ]; then
			msg Connection "The administrator account is needed."
			continue
		fi
		case $c_user in
		*:*) msg Connection "An account name cannot hold ':'."; continue ;;
		esac
		case $C_SSL in [yY]*) C_SSL=y ;; *) C_SSL=n ;; esac
		case $C_PRX in [yY]*) C_PRX=y ;; *) C_PRX=n ;; esac
		[ -n "$CREDENTIALS" ] || CREDENTIALS=$M_DIR/credentials
		if [ -s "$M_TMP/pw" ] && [ -n "$(cat "$M_TMP/pw")" ]; then
			write_secret "$CREDENTIALS" "$c_user:$(cat "$M_TMP/pw")" ||
			    { msg Connection "$CREDENTIALS: cannot write"; continue; }
			mlog "credentials of $c_user written to $CREDENTIALS (mode 0600)"
		elif [ -f "$CREDENTIALS" ] && [ "$(cred_user "$CREDENTIALS")" = "$c_user" ]; then
			mlog "credentials of $c_user kept in $CREDENTIALS"
		else
			msg Connection "The password of $c_user is needed."
			continue
		fi
		rm -f "$M_TMP/pw"
		if [ "$C_SSL" = y ]; then
			TARGET_URL=https://$C_HOST
		else
			TARGET_URL=http://$C_HOST
			FINGERPRINT='' CACERT=''
		fi
		mlog "target $TARGET_URL, SSL $C_SSL, proxy $C_PRX"
		if [ "$C_PRX" = y ]; then
			screen_proxy || { C_PRX=n; continue; }
		else
			PROXY='' PROXY_CREDENTIALS=''
		fi
		if [ "$C_SSL" = y ]; then
			screen_fingerprint || continue
		fi
		return 0
	done
}

# The proxy: its address, and optionally a user and password.  Back
# returns to Connection with the proxy un-ticked.
screen_proxy() {
	p_user=
	[ -n "$PROXY_CREDENTIALS" ] && p_user=$(cred_user "$PROXY_CREDENTIALS")
	while :; do
		mlog "screen: Proxy"
		dlg --title "Proxy" --ok-label Next --cancel-label Back \
		    --insecure --mixedform \
"The proxy server between this server and the target (host:port or
http://host:port), and its user and password when it asks for them." \
		    12 76 3 \
		    "Proxy address" 1 1 "$PROXY"  1 18 50 200 0 \
		    "User"          2 1 "$p_user" 2 18 50 200 0 \
		    "Password"      3 1 ""        3 18 50 200 1 || {
			mlog "proxy: Back (proxy un-ticked)"
			PROXY='' PROXY_CREDENTIALS=''
			return 1
		}
		PROXY=$(line 1)
		p_user=$(line 2)
		sed -n 3p "$M_TMP/ans" >"$M_TMP/pw"
		: >"$M_TMP/ans"
		case $PROXY in
		'') msg Proxy "The proxy address is needed (Back: no proxy)."; continue ;;
		*@*) msg Proxy "Put the user and password in their fields, not in the address."; continue ;;
		esac
		if [ -z "$p_user" ]; then
			PROXY_CREDENTIALS=''
		else
			[ -n "$PROXY_CREDENTIALS" ] || PROXY_CREDENTIALS=$M_DIR/proxy-credentials
			if [ -n "$(cat "$M_TMP/pw")" ]; then
				write_secret "$PROXY_CREDENTIALS" "$p_user:$(cat "$M_TMP/pw")" ||
				    { msg Proxy "$PROXY_CREDENTIALS: cannot write"; continue; }
				mlog "proxy credentials of $p_user written to $PROXY_CREDENTIALS (mode 0600)"
			elif [ "$(cred_user "$PROXY_CREDENTIALS")" != "$p_user" ]; then
				msg Proxy "The proxy password of $p_user is needed."
				continue
			fi
		fi
		rm -f "$M_TMP/pw"
		mlog "proxy $PROXY${p_user:+ (user $p_user)}"
		return 0
	done
}

# cert_fp: the SHA-256 fingerprint of the certificate the agent presents
# (through the proxy when there is one), as iwm-serve prints it.
cert_fp() {
	set -- s_client -connect "$C_HOST" -servername "${C_HOST%:*}"
	if [ -n "$PROXY" ]; then
		cf_p=${PROXY#*://}
		set -- "$@" -proxy "${cf_p%%/*}"
		if [ -n "$PROXY_CREDENTIALS" ]; then
			# The password from a private file, never in argv.
			sed -n '1s/^[^:]*://p' "$PROXY_CREDENTIALS" | tr -d '\r' \
			    >"$M_TMP/ppw"
			set -- "$@" -proxy_user "$(cred_user "$PROXY_CREDENTIALS")" \
			    -proxy_pass "file:$M_TMP/ppw"
		fi
	fi
	openssl "$@" </dev/null 2>"$M_TMP/fp.err" |
	    openssl x509 -noout -fingerprint -sha256 2>>"$M_TMP/fp.err" |
	    sed -n 's/^[^=]*=//p'
	rm -f "$M_TMP/ppw"
}

# As ssh does: a new fingerprint is shown to be confirmed, a changed one
# is a warning, a known one goes through.
screen_fingerprint() {
	busy Connection "Reading the certificate of $C_HOST ..."
	f_fp=$(cert_fp)
	if [ -z "$f_fp" ]; then
		mlog "no certificate from $C_HOST: $(tail -n 1 "$M_TMP/fp.err")"
		msg Connection "No TLS certificate could be read from $C_HOST${PROXY:+ through $PROXY}:

$(tail -n 3 "$M_TMP/fp.err")

Check the address and that iwm-serve runs there."
		return 1
	fi
	f_show=$(printf '%s\n' "$f_fp" | cut -c1-48)
	f_show="$f_show
$(printf '%s\n' "$f_fp" | cut -c49-)"
	f_old=$(printf '%s' "$FINGERPRINT" | tr 'a-f' 'A-F')
	if [ -n "$f_old" ] && [ "$f_old" = "$f_fp" ]; then
		mlog "certificate of $C_HOST matches the saved fingerprint"
		return 0
	fi
	mlog "screen: certificate fingerprint $f_fp"
	if [ -n "$f_old" ]; then
		dlg --title "WARNING: the target's certificate has changed" \
		    --defaultno --yes-label Accept --no-label Back --yesno \
"The certificate of $C_HOST is not the one confirmed before.
Someone could be intercepting the connection, or the agent got a new
certificate.  Its SHA-256 fingerprint is now:

$f_show

Accept it only if iwm-serve on the target prints the same
(iwm-serve --print-fingerprint --cert FILE)." 15 76
	else
		dlg --title "Certificate" --yes-label Yes --no-label No --yesno \
"The authenticity of the target $C_HOST can't be established.
Its certificate's SHA-256 fingerprint is:

$f_show

Compare it with what iwm-serve printed on the target (iwm-serve
--make-cert, or --print-fingerprint --cert FILE).
Are you sure you want to continue connecting?" 15 76
	fi || {
		mlog "certificate $f_fp refused"
		return 1
	}
	mlog "certificate $f_fp accepted"
	FINGERPRINT=$f_fp
	CACERT=''
	return 0
}

# --- Directory service --------------------------------------------------------

screen_directory() {
	d_srv='' d_usr='' d_bdn=''
	if [ -n "$DIRCREDS" ] && [ -r "$DIRCREDS" ]; then
		d_srv=$(sed -n 's/^server=//p' "$DIRCREDS")
		d_usr=$(sed -n 's/^user=//p' "$DIRCREDS")
		d_bdn=$(sed -n 's/^basedn=//p' "$DIRCREDS")
	fi
	while :; do
		mlog "screen: Directory service"
		dlg --title "Directory service" --ok-label Next --cancel-label Back \
		    --insecure --mixedform \
"When a domain is synchronised with a directory service (Active Directory),
the address and credentials the TARGET will use to reach it (often the
directory server is migrated too).  Leave the fields blank to skip." \
		    14 76 4 \
		    "Host/IP"   1 1 "$d_srv" 1 14 56 200 0 \
		    "User"      2 1 "$d_usr" 2 14 56 200 0 \
		    "Password"  3 1 ""       3 14 56 200 1 \
		    "Base DN"   4 1 "$d_bdn" 4 14 56 200 0 || return 1
		d_srv=$(line 1)
		d_usr=$(line 2)
		d_bdn=$(line 4)
		sed -n 3p "$M_TMP/ans" >"$M_TMP/pw"
		: >"$M_TMP/ans"
		if [ -z "$d_srv" ] && [ -z "$d_usr" ]; then
			DIRCREDS=''
			mlog "directory service: skipped"
			rm -f "$M_TMP/pw"
			return 0
		fi
		[ -n "$DIRCREDS" ] || DIRCREDS=$M_DIR/dircreds
		if [ -z "$(cat "$M_TMP/pw")" ]; then
			if [ -r "$DIRCREDS" ] && grep -q '^password=' "$DIRCREDS"; then
				sed -n 's/^password=//p' "$DIRCREDS" >"$M_TMP/pw"
			else
				msg "Directory service" "The directory password is needed (or blank fields to skip)."
				continue
			fi
		fi
		write_secret "$DIRCREDS" "$(printf 'server=%s\nuser=%s\npassword=%s%s' \
		    "$d_srv" "$d_usr" "$(cat "$M_TMP/pw")" "${d_bdn:+
basedn=$d_bdn}")" || { msg "Directory service" "$DIRCREDS: cannot write"; continue; }
		rm -f "$M_TMP/pw"
		mlog "directory service $d_srv (user $d_usr) written to $DIRCREDS (mode 0600)"
		return 0
	done
}

# Write iwm.conf with iwm init, then iwm connect.
do_connect() {
	set -- init --force --target "$TARGET_URL" --credentials "$CREDENTIALS"
	[ -n "$FINGERPRINT" ] && set -- "$@" --fingerprint "$FINGERPRINT"
	[ -n "$CACERT" ] && set -- "$@" --cacert "$CACERT"
	[ -n "$DIRCREDS" ] && set -- "$@" --dircreds "$DIRCREDS"
	[ -n "$PROXY" ] && set -- "$@" --proxy "$PROXY"
	[ -n "$PROXY_CREDENTIALS" ] && set -- "$@" --proxy-credentials "$PROXY_CREDENTIALS"
	[ -n "$TOOL" ] && set -- "$@" --tool "$TOOL"
	[ -n "$TARGET_TOOL" ] && set -- "$@" --target-tool "$TARGET_TOOL"
	[ -n "$MIGRATION_DIR" ] && set -- "$@" --migration-dir "$MIGRATION_DIR"
	[ -n "$JOBS" ] && set -- "$@" --jobs "$JOBS"
	# src_run adds a --path-map for each PATH_MAP line.
	if ! src_run drv "$@"; then
		show "Connection: iwm init failed" "$M_OUT"
		return 1
	fi
	conf_load || return 1
	busy Connection "Connecting to the target at $TARGET_URL ..."
	if ! drv connect; then
		{ echo "The connection checks failed; fix them and connect again."
		  echo; cat "$M_OUT"; } >"$M_TMP/view"
		show "Connection failed" "$M_TMP/view"
		return 1
	fi
	return 0
}

# --- Dependencies -------------------------------------------------------------

screen_deps() {
	dp_ignore=0
	dp_def=Next
	busy Dependencies "Checking the source's external dependencies ..."
	drv deps
	dp_st=$?
	while :; do
		case $dp_st in
		0 | 2) ;;
		*) show "Dependencies: the check failed" "$M_OUT"; return 1 ;;
		esac
		dp_sum=$(tail -n 1 "$MIG/deps.txt" 2>/dev/null)
		# Errors first, then warnings, then info; one line each.
		dp_max=$((M_H - 21))
		dp_list=$(awk 'NR == 1 { print; next } /^error/ { e = e $0 "\n" }
		    /^warning/ { w = w $0 "\n" } /^info/ { i = i $0 "\n" }
		    END { printf "%s%s%s", e, w, i }' "$MIG/deps.txt" 2>/dev/null |
		    cut -c1-$((M_W - 6)))
		if [ "$(printf '%s\n' "$dp_list" | wc -l)" -gt "$dp_max" ]; then
			dp_list="$(printf '%s\n' "$dp_list" | head -n "$dp_max")
... (Show list: all of them)"
		fi
		if [ "$dp_st" -eq 2 ]; then
			dp_head="ERRORS were found: the migration does not go on unless you tick
\"Ignore errors and continue\".  Warnings and errors need manual work on
the target after the migration."
		else
			dp_head="No errors.  Warnings need manual work on the target after the migration."
		fi
		set -- Next "Go on to the main menu" \
		    "Show list" "Every dependency found, scrollable" \
		    "Save CSV" "Save the list as CSV, for reference after the migration" \
		    "Check again" "Check the dependencies again"
		if [ "$dp_st" -eq 2 ]; then
			if [ "$dp_ignore" -eq 1 ]; then
				set -- "$@" Ignore "[X] Ignore errors and continue"
			else
				set -- "$@" Ignore "[ ] Ignore errors and continue"
			fi
		fi
		set -- "$@" Exit "Leave the menu"
		mlog "screen: Dependencies ($dp_sum)"
		dlg --title "Dependencies" --no-cancel --no-collapse \
		    --default-item "$dp_def" --menu \
		    "$dp_head

$dp_list
$dp_sum" "$M_H" "$M_W" 6 "$@" || return 1
		dp_def=$M_ANS
		case $M_ANS in
		Next)
			if [ "$dp_st" -eq 2 ] && [ "$dp_ignore" -eq 0 ]; then
				msg Dependencies "Errors were found: tick \"Ignore errors and continue\" to go on anyway."
				continue
			fi
			if [ "$dp_st" -eq 2 ]; then
				drv deps --ignore-errors ||
				    { show "Dependencies" "$M_OUT"; continue; }
			fi
			return 0
			;;
		"Show list") show "Dependencies" "$MIG/deps.txt" ;;
		"Save CSV")
			dlg --title "Save CSV" --inputbox "Save the dependencies as CSV to:" \
			    8 76 "$(pwd)/iwm-dependencies.csv" || continue
			[ -n "$M_ANS" ] || continue
			if cp "$MIG/deps.csv" "$M_ANS" 2>"$M_TMP/err"; then
				mlog "dependencies saved to $M_ANS"
				msg "Save CSV" "Saved to $M_ANS"
			else
				msg "Save CSV" "$(cat "$M_TMP/err")"
			fi
			;;
		"Check again")
			busy Dependencies "Checking the source's external dependencies ..."
			drv deps
			dp_st=$?
			;;
		Ignore)
			dp_ignore=$((1 - dp_ignore))
			[ "$dp_ignore" -eq 1 ] && dp_def=Next
			mlog "ignore errors and continue: $dp_ignore"
			;;
		Exit) return 1 ;;
		esac
	done
}

# --- Progress -------------------------------------------------------------------

# clean FILE: a command's terminal output as lines (no carriage returns,
# no progress lines, no escapes).
clean() {
	sed 's/\r$//' "$1" | tr '\r' '\n' | sed 's/\x1b\[K//g' |
	    grep -v '^iwm-push: [0-9]* files, ' | grep -v '^ *$'
}

# prog_text: what the running command is doing.  The step from the
# driver's run/step, the total of the pass from its run/diff.m, what is
# done, the rate and the time left from iwm-push's progress line, the
# mailbox from the file iwm-push is reading.
prog_text() {
	pt_step=$(cat "$MIG/run/step" 2>/dev/null)
	pt_key=$(stat -c '%s %Y' "$MIG/run/diff.m" 2>/dev/null)
	if [ -n "$pt_key" ] && [ "$pt_key" != "${PT_KEY:-}" ]; then
		PT_KEY=$pt_key
		awk -F '\t' '!/^#/ { n++; if ($2 == "f") b += $3 }
		    END { printf "%d %.0f\n", n, b }' "$MIG/run/diff.m" >"$M_TMP/total"
	fi
	pt_tot=$(cat "$M_TMP/total" 2>/dev/null)
	pt_push=$(cat "$MIG/run/push.pid" 2>/dev/null)
	# The source files iwm-push has open, and how far it has read them
	# (a large file is counted as it goes, not only once it is done).
	pt_file='' pt_open=0
	if [ -n "$pt_push" ] && [ -d "/proc/$pt_push" ]; then
		[ "$pt_push" = "${PT_PID:-}" ] || { PT_PID=$pt_push; PT_T0=$(now); }
		for pt_fd in /proc/"$pt_push"/fd/*; do
			pt_l=$(readlink "$pt_fd" 2>/dev/null) || continue
			case $pt_l in
			"$MIG"/* | /dev/* | /proc/* | *:\[*) continue ;;
			/*) ;;
			*) continue ;;
			esac
			case $pt_l in
			"$M_MAIL"/*) [ -n "$pt_file" ] || pt_file=$pt_l ;;
			esac
			pt_pos=$(sed -n 's/^pos:[[:space:]]*//p' \
			    "/proc/$pt_push/fdinfo/${pt_fd##*/}" 2>/dev/null)
			pt_open=$((pt_open + ${pt_pos:-0}))
		done
	fi
	# The last progress line of the current pass (iwm-push's messages,
	# which the driver keeps in run/push.err as they come).
	pt_err=/dev/null
	[ -n "$pt_push" ] && pt_err=$MIG/run/push.err
	tr '\r' '\n' <"$pt_err" 2>/dev/null | sed 's/\x1b\[K//g' |
	    awk -v tot="${pt_tot:-}" -v file="$pt_file" -v mail="$M_MAIL" \
	    -v open="$pt_open" -v el=$(($(now) - ${PT_T0:-$(now)})) '
	function bytes(s,  v, u) {
		v = s + 0; u = s; sub(/^[0-9.]+ */, "", u)
		if (u == "kB") v *= 1e3; else if (u == "MB") v *= 1e6; else if (u == "GB") v *= 1e9
		return v
	}
	function hb(x) {
		if (x >= 1e9) return sprintf("%.1f GB", x / 1e9)
		if (x >= 1e6) return sprintf("%.1f MB", x / 1e6)
		if (x >= 1e3) return sprintf("%.1f kB", x / 1e3)
		return sprintf("%d B", x)
	}
	/^==/ { p = "" }
	/^iwm-push: [0-9]+ files, / { p = $0 }
	END {
		split(tot, t, " "); n = t[1] + 0; b = t[2] + 0
		d = 0; db = 0; rate = 0; eta = ""
		if (p != "") {
			sub(/^iwm-push: /, "", p)
			k = split(p, f, ", ")
			d = f[1] + 0; db = bytes(f[2]); r = f[3]; sub(/\/s.*/, "", r); rate = bytes(r)
			for (i = 4; i <= k; i++) if (f[i] ~ /^ETA/) { eta = f[i]; sub(/^ETA /, "", eta); sub(/ s.*/, " s", eta) }
		}
		# What the open files were read to; the rate over the pass.
		db += open
		if (b > 0 && db > b) db = b
		if (open > 0 && el > 0) { rate = db / el; eta = "" }
		if (eta == "" && rate > 0 && b > db) eta = sprintf("%d s", (b - db) / rate)
		if (eta == "") eta = "-"
		pct = (b > 0) ? int(db * 100 / b) : (n > 0 ? int(d * 100 / n) : 0)
		if (pct > 100) pct = 100
		m = "-"
		if (file != "" && mail != "") {
			m = substr(file, length(mail) + 2); c = split(m, q, "/")
			m = (c >= 3) ? q[1] "/" q[2] : "-"
		}
		printf "%d\n", pct
		printf "Done:     %d of %d files, %s of %s (%d%%)\n", d, n, hb(db), hb(b), pct
		printf "Rate:     %s/s    ETA: %s\n", hb(rate), eta
		printf "Mailbox:  %s\n", m
	}' >"$M_TMP/prog"
	PT_PCT=$(head -n 1 "$M_TMP/prog")
	printf 'Step:     %s\n' "${pt_step:-starting}"
	sed 1d "$M_TMP/prog"
	pt_sp=$(state_get speed)
	printf 'Speed:    %s%%\n' "${pt_sp:-100}"
}

# progress WHAT PID: the progress screen while the command PID runs;
# keys P (pause, then R resume or C cancel), C (cancel), S (speed).
progress() {
	pg_paused=0
	pg_cancel=0
	pg_tty=$(stty -g </dev/tty)
	stty -icanon -echo min 0 time 5 </dev/tty
	mlog "screen: Progress ($1)"
	while kill -0 "$2" 2>/dev/null; do
		pg_txt=$(prog_text)
		if [ "$pg_cancel" -eq 1 ]; then
			pg_keys="Cancelling ..."
		elif [ "$pg_paused" -eq 1 ]; then
			pg_keys="PAUSED.   R: Resume   C: Cancel   S: Speed"
		else
			pg_keys="P: Pause   C: Cancel   S: Speed"
		fi
		dialog --backtitle "iwm menu: IceWarp server migration   ($CONF)" \
		    --no-collapse --title "$1" --mixedgauge "$pg_txt

$(clean "$M_OUT" | tail -n 3 | cut -c1-70)

$pg_keys" 18 76 "${PT_PCT:-0}" </dev/tty
		pg_k=$(dd bs=1 count=1 </dev/tty 2>/dev/null)
		case $pg_k in
		[pP])
			[ "$pg_paused" -eq 0 ] && [ "$pg_cancel" -eq 0 ] &&
			    drv_side pause && pg_paused=1 ;;
		[rR])
			[ "$pg_paused" -eq 1 ] && drv_side resume && pg_paused=0 ;;
		[cC])
			[ "$pg_cancel" -eq 0 ] && drv_side cancel && pg_cancel=1 ;;
		[sS])
			stty "$pg_tty" </dev/tty
			pg_cur=$(state_get speed)
			if dlg --title "Data transfer speed" --inputbox \
			    "Percent of the full speed, 1 to 100 (100: no limit).  Lower it on a slow server." \
			    9 76 "${pg_cur:-100}"; then
				drv_side speed "$M_ANS" ||
				    msg "Speed" "$(cat "$M_TMP/side")"
			fi
			stty -icanon -echo min 0 time 5 </dev/tty
			;;
		esac
	done
	stty "$pg_tty" </dev/tty
}

# drv_side COMMAND: pause, resume, cancel or speed beside the running one
# (its output apart from the running command's).
drv_side() {
	drv_to "$M_TMP/side" "$@"
}

# phase TITLE COMMAND ARGS...: run a phase in the background with the
# progress screen, then show how it ended.
phase() {
	ph_title=$1
	shift
	mlog "run: iwm $*"
	# On a terminal of its own (script(1)), as if typed: the driver and
	# iwm-push then print their progress, which this screen reads.
	: >"$M_OUT"
	rm -f "$M_TMP/total"
	PT_KEY=
	M_MAIL=$(tool_get "$(src_tool)" C_System_Storage_Dir_MailPath)
	[ -z "$PATH_MAP" ] || M_MAIL=$(map_path "$M_MAIL")
	M_MAIL=${M_MAIL%/}
	M_BIN=$BIN M_CONF=$CONF M_CMD=$1 SHELL=/bin/sh \
	    script -qefc 'exec "$M_BIN/iwm" -c "$M_CONF" "$M_CMD"' /dev/null \
	    >"$M_OUT" 2>&1 </dev/null &
	ph_pid=$!
	progress "$ph_title" "$ph_pid"
	wait "$ph_pid"
	ph_st=$?
	mlog "iwm $1: exit $ph_st"
	case $ph_st in
	0) ph_head="$ph_title: done." ;;
	75) ph_head="$ph_title: cancelled.  What was copied stays; choose it again to continue." ;;
	*) ph_head="$ph_title: FAILED (exit $ph_st).  Read the messages below and the log." ;;
	esac
	{ echo "$ph_head"; echo; clean "$M_OUT"; } >"$M_TMP/view"
	show "$ph_title" "$M_TMP/view"
	return "$ph_st"
}

# --- Main menu -----------------------------------------------------------------

# The phase and the last pass, from iwm status.
main_text() {
	"$BIN/iwm" -c "$CONF" status >"$M_TMP/status" 2>&1
	mt_phase=$(sed -n 's/^phase  *//p' "$M_TMP/status")
	mt_last=$(awk '/^passes/ { p = 1; next } p && $1 ~ /^[0-9]+$/ { l = $0 } END { print l }' \
	    "$M_TMP/status" | awk '{ printf "%s pass at %s (%s files, %s s, %s)", $2, $3, $5, $4, $9 }')
	mt_failed=$(sed -n 's/^failed files  *//p' "$M_TMP/status")
	printf 'Phase: %s\nLast pass: %s\nFailed files: %s' "${mt_phase:-new}" \
	    "${mt_last:-none yet}" "${mt_failed:-0}"
}

screen_main() {
	while :; do
		mlog "screen: Main menu"
		dlg --title "Migration" --no-cancel --item-help --menu \
		    "$(main_text)" 18 76 6 \
		    1 "Start full migration" \
		    "First phase, the source keeps running: all files, webmail cache, changes since (the guide's four steps)" \
		    2 "Copy changes" \
		    "Copy the files changed since the last pass and new webmail cache rows (steps 3 and 4), on demand" \
		    3 "Finalize migration" \
		    "Second phase: STOPS the source's services, copies the rest, settings and databases to the target" \
		    4 "Start target server" \
		    "After you switched the DNS records to the target: start the services that ran on the source" \
		    5 "Show failed files" \
		    "The files that could not be copied, to examine and copy by hand; the list can be saved" \
		    6 "Exit" \
		    "Leave the menu; the migration's state is kept and the menu resumes it" ||
		    return 0
		case $M_ANS in
		1) mlog "Start full migration"; phase "Start full migration" copy ;;
		2) mlog "Copy changes"; phase "Copy changes" sync ;;
		3)
			mlog "Finalize migration: asking to confirm"
			if dlg --title "Finalize migration" --defaultno --yesno \
"Finalize migration STOPS THE SOURCE SERVER's services now: from this
moment mail is no longer received or served by this server.  Then the
last changes, the settings and the databases go to the target.

Be sure you really want to finish the migration.  Continue?" 12 76; then
				mlog "Finalize migration: confirmed"
				phase "Finalize migration" finalize
			else
				mlog "Finalize migration: not confirmed"
			fi
			;;
		4)
			mlog "Start target server: asking to confirm"
			if dlg --title "Start target server" --defaultno --yesno \
"Switch the DNS records (MX, A/AAAA of the mail and web host names,
autodiscover, SRV) to the target first: iwm cannot do it for you.

Have the DNS records been switched?  Start the target's services now?" 11 76; then
				mlog "Start target server: confirmed"
				busy "Start target server" "Starting the target's services ..."
				drv start-target
				ph_st=$?
				{ if [ "$ph_st" -eq 0 ]; then echo "Start target server: done."
				  else echo "Start target server: FAILED (exit $ph_st)."; fi
				  echo; cat "$M_OUT"; } >"$M_TMP/view"
				show "Start target server" "$M_TMP/view"
			else
				mlog "Start target server: not confirmed"
			fi
			;;
		5) screen_failed ;;
		6) mlog "Exit"; return 0 ;;
		esac
	done
}

screen_failed() {
	drv failed
	while :; do
		mlog "screen: Failed files"
		{ echo "Files that could not be copied (root, path, reason):"
		  echo; cat "$M_OUT"; } >"$M_TMP/failed"
		dlg --title "Failed files" --ok-label Back --extra-button \
		    --extra-label Save --textbox "$M_TMP/failed" "$M_H" "$M_W"
		[ $? -eq 3 ] || return 0
		dlg --title "Save failed files" --inputbox "Save the list to:" \
		    8 76 "$(pwd)/iwm-failed.txt" || continue
		[ -n "$M_ANS" ] || continue
		f_to=$M_ANS
		if "$BIN/iwm" -c "$CONF" failed --save "$f_to" >"$M_TMP/side" 2>&1; then
			mlog "failed files saved to $f_to"
			msg "Save failed files" "$(cat "$M_TMP/side")"
		else
			msg "Save failed files" "$(cat "$M_TMP/side")"
		fi
	done
}

# --- iwm menu --------------------------------------------------------------------

cmd_menu() {
	[ $# -eq 0 ] || die 64 "menu takes no arguments"
	STEP=menu
	command -v dialog >/dev/null 2>&1 ||
	    die 69 "menu: dialog is not installed (apt-get install dialog)"
	if [ ! -t 0 ] || [ ! -t 1 ]; then
		die 64 "menu: needs a terminal"
	fi
	M_TMP=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/iwm-menu.XXXXXX") ||
	    die 73 "menu: cannot make a private folder"
	M_OUT=$M_TMP/out
	trap 'rm -rf "$M_TMP"; clear </dev/tty; lock_drop' EXIT
	trap 'exit 130' INT TERM HUP
	M_H=$(($(tput lines 2>/dev/null || echo 24) - 4))
	M_W=$(($(tput cols 2>/dev/null || echo 80) - 4))
	[ "$M_H" -ge 20 ] || M_H=20
	[ "$M_W" -ge 76 ] || M_W=76
	conf_load || die 65 "$CONF: cannot read it (iwm -c $CONF status says why)"
	mlog "menu started"
	# The guide's order: Connection (Proxy), Directory service, connect,
	# Dependencies, then the main menu.
	while :; do
		screen_connection || { mlog "menu left at Connection"; return 0; }
		screen_directory || continue
		do_connect || continue
		break
	done
	screen_deps || { mlog "menu left at Dependencies"; return 0; }
	screen_main
	mlog "menu left"
	return 0
}
