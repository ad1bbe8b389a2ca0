# scripts/bench-lib.sh: helpers for the scripts/bench-* drivers.
TOP=$(cd "$(dirname "$0")/.." && pwd)
PATH="$TOP/bin:$TOP/tests/iwsim:$PATH"
export PATH
# Trees go on tmpfs so the disk does not decide the figures.
BENCH_DIR=${BENCH_DIR:-/dev/shm}

now() {
	date +%s.%N
}

# best3 CMD...: run CMD three times, print the fastest time in seconds
best3() {
	b3_best=""
	for _ in 1 2 3; do
		b3_t0=$(now)
		"$@" >/dev/null || return 1
		b3_t=$(echo "$(now) - $b3_t0" | bc -l)
		if [ -z "$b3_best" ] || [ "$(echo "$b3_t < $b3_best" | bc -l)" -eq 1 ]; then
			b3_best=$b3_t
		fi
	done
	echo "$b3_best"
}

# peak_kb CMD...: peak resident memory of CMD in KiB (GNU time)
peak_kb() {
	/usr/bin/time -f '%M' -o "$BENCH_TMP/.peak" "$@" >/dev/null 2>&1
	tail -n 1 "$BENCH_TMP/.peak"
}

ratio() {
	printf '%.2f' "$(echo "$1 / $2" | bc -l)"
}

secs() {
	printf '%.3f s' "$1"
}
