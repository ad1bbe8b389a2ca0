# tests/menu.sh: drive `iwm menu` under tmux (sourced after tests/lib.sh,
# tests/serve.sh and tests/driver.sh).
#
# menu_start: iwm menu in a detached tmux session of its own (a private
# server socket), 110x40, on $TMP/iwm.conf; its exit status goes to
# $TMP/menu.rc.  tm ARGS: tmux on that server.  shows PATTERN [SECONDS]:
# wait (bounded, 30 s by default) until the screen matches PATTERN
# (grep -E), then a moment for dialog to read keys; the screen is kept
# in $TMP/screen.  keys KEY...: send-keys.  A test that sources this
# file is skipped without tmux or dialog.

command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed (scripts/install-deps)"
command -v dialog >/dev/null 2>&1 || skip_all "dialog not installed (scripts/install-deps)"

tm() {
	tmux -L "iwm-menu-$$" -f /dev/null "$@"
}

menu_start() {
	command -v tmux >/dev/null 2>&1 || return 1
	rm -f "$TMP/menu.rc"
	tm new-session -d -x 110 -y 40 \
	    "TERM=xterm ${IWM_SH:-sh} '$TOP/bin/iwm' -c '$TMP/iwm.conf' menu; echo \$? >'$TMP/menu.rc'; sleep 30" ||
	    return 1
	t_on_exit "tm kill-server 2>/dev/null"
}

screen() {
	tm capture-pane -p >"$TMP/screen" 2>/dev/null
}

shows() {
	sh_n=0
	sh_max=$((${2:-30} * 10))
	# After a screen that did not come, the next ones fail fast.
	[ "${SHOWS_FAILED:-0}" -eq 0 ] || sh_max=20
	while :; do
		screen
		if grep -qE "$1" "$TMP/screen"; then
			# dialog may drop keys typed while it starts.
			sleep 0.3
			return 0
		fi
		sh_n=$((sh_n + 1))
		if [ "$sh_n" -ge "$sh_max" ]; then
			echo "# screen did not show /$1/:" >&2
			grep -v '^ *$' "$TMP/screen" | sed 's/^/# /' >&2
			SHOWS_FAILED=1
			return 1
		fi
		sleep 0.1
	done
}

keys() {
	tm send-keys "$@"
}

# typed TEXT: the text typed literally.
typed() {
	tm send-keys -l "$1"
}

# choose KEY PATTERN: press KEY in a menu until PATTERN (the chosen item's
# description line) shows, then Enter.  A key that dialog dropped while
# starting is pressed again; Enter is never pressed on the wrong item.
choose() {
	ch_n=0
	while [ "$ch_n" -lt 5 ]; do
		keys "$1"
		if SHOWS_FAILED=1 shows "$2" >/dev/null 2>&1; then
			keys Enter
			return 0
		fi
		ch_n=$((ch_n + 1))
	done
	shows "$2"
}
