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

# Interleaved pairs.  One run of each side swings from 0.5x to 1.25x on
# a loaded machine, so a ratio is only quoted as the median of the
# per-pair ratios with their range:
#   pairs LABEL A B [PREP]
# runs A and B (each one word: a command or function) once each as a warm-up (not counted), then BENCH_PAIRS
# (default 5, at least 5) pairs, the order alternating (A B, B A, ...)
# so that neither side always runs on a warmer cache.  PREP, when given,
# runs before every run of either side, outside the timing, with the
# side's command as its argument (to reset only that side's target).  A and B are
# commands (functions allowed); their standard output is discarded; a
# failure of either stops the bench.  Prints one line per pair and
#   LABEL: A median S s, B median S s; ratio A/B median R, range MIN-MAX (N pairs)
# and leaves the figures in PAIR_A, PAIR_B (median seconds), PAIR_RATIO,
# PAIR_MIN, PAIR_MAX.
BENCH_PAIRS=${BENCH_PAIRS:-5}
[ "$BENCH_PAIRS" -ge 5 ] 2>/dev/null || BENCH_PAIRS=5

# timed CMD...: the wall seconds of CMD (output discarded)
timed() {
	tm_t0=$(now)
	"$@" >/dev/null || return 1
	echo "$(now) - $tm_t0" | bc -l
}

# median FILE: the median of the numbers in FILE, one a line
median() {
	sort -g "$1" | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

pairs() {
	pr_label=$1 pr_a=$2 pr_b=$3 pr_prep=${4:-:}
	pr_f=${BENCH_TMP:?}/.pairs
	: >"$pr_f.a"
	: >"$pr_f.b"
	: >"$pr_f.r"
	"$pr_prep" "$pr_a"
	timed "$pr_a" >/dev/null || { echo "$pr_label: $pr_a failed" >&2; return 1; }
	"$pr_prep" "$pr_b"
	timed "$pr_b" >/dev/null || { echo "$pr_label: $pr_b failed" >&2; return 1; }
	pr_i=1
	while [ "$pr_i" -le "$BENCH_PAIRS" ]; do
		for pr_side in a b; do
			# odd pairs A then B, even pairs B then A
			if [ $((pr_i % 2)) -eq 0 ]; then
				[ "$pr_side" = a ] && pr_side=b || pr_side=a
			fi
			if [ "$pr_side" = a ]; then
				"$pr_prep" "$pr_a"
				pr_ta=$(timed "$pr_a") ||
				    { echo "$pr_label: $pr_a failed" >&2; return 1; }
			else
				"$pr_prep" "$pr_b"
				pr_tb=$(timed "$pr_b") ||
				    { echo "$pr_label: $pr_b failed" >&2; return 1; }
			fi
		done
		echo "$pr_ta" >>"$pr_f.a"
		echo "$pr_tb" >>"$pr_f.b"
		pr_r=$(echo "$pr_ta / $pr_tb" | bc -l)
		echo "$pr_r" >>"$pr_f.r"
		printf '  %s pair %d: %.3f s / %.3f s = %.2f\n' "$pr_label" \
		    "$pr_i" "$pr_ta" "$pr_tb" "$pr_r"
		pr_i=$((pr_i + 1))
	done
	PAIR_A=$(median "$pr_f.a")
	PAIR_B=$(median "$pr_f.b")
	PAIR_RATIO=$(printf '%.2f' "$(median "$pr_f.r")")
	PAIR_MIN=$(printf '%.2f' "$(sort -g "$pr_f.r" | head -n 1)")
	PAIR_MAX=$(printf '%.2f' "$(sort -g "$pr_f.r" | tail -n 1)")
	echo "$pr_label: $pr_a median $(secs "$PAIR_A")," \
	    "$pr_b median $(secs "$PAIR_B");" \
	    "ratio median $PAIR_RATIO, range $PAIR_MIN-$PAIR_MAX ($BENCH_PAIRS pairs)"
}
