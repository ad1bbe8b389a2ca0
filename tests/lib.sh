# tests/lib.sh: TAP helpers shared by every tests/t/*.t script.
# Each test sources this file; it makes a private work directory,
# removes it on exit, and puts the built programs on PATH.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
PATH="$TOP/bin:$TOP/tests/iwsim:$PATH"
export TOP PATH
T_NUM=0
T_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iwm-test.XXXXXX")
export TMP

# t_on_exit CMD: run CMD at exit too, once, after what is already there
# (a test may start an agent and a database: both are stopped).
t_on_exit() {
	case ";${T_CLEANUP:-};" in
	*";$1;"*) ;;
	*) T_CLEANUP="${T_CLEANUP:+$T_CLEANUP;}$1" ;;
	esac
}

t_cleanup() {
	if [ -n "${T_CLEANUP:-}" ]; then
		eval "$T_CLEANUP"
	fi
	rm -rf "$TMP"
}
trap 't_cleanup' EXIT
trap 'exit 130' INT TERM

plan() {
	echo "1..$1"
}

ok() {
	# ok DESCRIPTION COMMAND...: passes when COMMAND exits 0
	T_NUM=$((T_NUM + 1))
	t_desc=$1
	shift
	if "$@" >"$TMP/.out" 2>&1; then
		echo "ok $T_NUM - $t_desc"
	else
		echo "not ok $T_NUM - $t_desc"
		sed 's/^/# /' "$TMP/.out" | head -n 40
		T_FAILED=$((T_FAILED + 1))
	fi
}

fails() {
	# fails DESCRIPTION COMMAND...: passes when COMMAND exits non-zero
	T_NUM=$((T_NUM + 1))
	t_desc=$1
	shift
	if "$@" >"$TMP/.out" 2>&1; then
		echo "not ok $T_NUM - $t_desc (unexpected success)"
		sed 's/^/# /' "$TMP/.out" | head -n 40
		T_FAILED=$((T_FAILED + 1))
	else
		echo "ok $T_NUM - $t_desc"
	fi
}

is() {
	# is DESCRIPTION GOT EXPECTED
	T_NUM=$((T_NUM + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $T_NUM - $1"
	else
		echo "not ok $T_NUM - $1"
		printf '# got:      %s\n# expected: %s\n' "$2" "$3"
		T_FAILED=$((T_FAILED + 1))
	fi
}

exits() {
	# exits DESCRIPTION STATUS COMMAND...: passes when COMMAND exits STATUS
	T_NUM=$((T_NUM + 1))
	t_desc=$1
	t_want=$2
	shift 2
	"$@" >"$TMP/.out" 2>&1
	t_got=$?
	if [ "$t_got" -eq "$t_want" ]; then
		echo "ok $T_NUM - $t_desc"
	else
		echo "not ok $T_NUM - $t_desc (exit $t_got, expected $t_want)"
		sed 's/^/# /' "$TMP/.out" | head -n 40
		T_FAILED=$((T_FAILED + 1))
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
}

# test_ids USER GROUP [GROUP...]: a throw-away user USER whose group is
# the first GROUP, and the other groups (the test is skipped unless run
# as root with useradd); test_ids_remove removes them, in the test's own
# EXIT trap.
test_ids() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (useradd, chown)"
	if ! command -v useradd >/dev/null 2>&1 ||
	    ! command -v groupadd >/dev/null 2>&1; then
		skip_all "no useradd/groupadd"
	fi
	TI_USER=$1
	shift
	TI_GROUPS=
	for ti_g; do
		groupadd "$ti_g" ||
		    { test_ids_remove; echo "Bail out! groupadd $ti_g"; exit 1; }
		TI_GROUPS="$TI_GROUPS $ti_g"
	done
	useradd -M -N -g "$1" -s /usr/sbin/nologin "$TI_USER" ||
	    { TI_USER=; test_ids_remove; echo "Bail out! useradd"; exit 1; }
}

test_ids_remove() {
	[ -z "${TI_USER:-}" ] || userdel "$TI_USER" 2>/dev/null
	for ti_g in ${TI_GROUPS:-}; do
		groupdel "$ti_g" 2>/dev/null
	done
}

# proc_state PID: the process's state letter (T: stopped), or nothing.
proc_state() {
	cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null
}

# wait_stopped PID: until PID has stopped itself (at most 10 s).
wait_stopped() {
	ws_n=0
	while [ "$(proc_state "$1")" != T ] && [ "$ws_n" -lt 100 ]; do
		sleep 0.1
		ws_n=$((ws_n + 1))
	done
}
