#!/bin/sh
# counts.sh -- how fast `pgcutover counts --exact` counts every table on
# both sides, against what this machine can do at best.
#
#   ROWS=10000000 PGCUTOVER=./pgcutover sh bench/counts.sh
#
# Loads the demo (`pgcutover demo --rows ROWS --dir DIR --no-console`: two
# local clusters, 8 tables, the target mid-copy) unless DIR already holds
# one, warms the caches with one full count, then measures (median of RUNS):
#   single  each of the 16 `psql -c 'select count(*) from T'` alone
#   ideal   max(slowest single, sum of the singles / cores)
#   seq     the 16 psql counts one after another
#   pgc     `pgcutover counts --exact` (process start to exit)
#   est     `pgcutover counts --timing`: first figure (the estimates) after
#           the first connection is up, worse of the two sides
# and prints pgc/ideal (goal <= 1.2) and pgc/seq (goal <= 0.6), and est
# (goal <= 100 ms); also the ideal without psql's per-call connect cost.  Needs psql, jq, GNU date.  Stop the demo afterwards
# with `pgcutover demo --stop --dir DIR`.
set -u
ROWS=${ROWS:-10000000}
RUNS=${RUNS:-3}
PGCUTOVER=${PGCUTOVER:-./pgcutover}
DIR=${BENCH_DIR:-/tmp/pgcutover-bench-$ROWS}
# The real psql, not Debian's pg_wrapper (a Perl script that adds ~0.5 s
# to every call and would flatter the comparison).
if [ -z "${PSQL:-}" ]; then
	PSQL=psql
	for d in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/15/bin \
		$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -r); do
		if [ -n "$d" ] && [ -x "$d/psql" ]; then PSQL=$d/psql; break; fi
	done
fi
CORES=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)

for tool in "$PSQL" jq; do
	command -v "$tool" >/dev/null 2>&1 || { echo "counts.sh: $tool is needed" >&2; exit 2; }
done

# (Re)starts the demo clusters; loads the data the first time.
"$PGCUTOVER" demo --rows "$ROWS" --dir "$DIR" --no-console >"$DIR.log" 2>&1 || {
	echo "counts.sh: pgcutover demo failed:" >&2
	tail -20 "$DIR.log" >&2
	exit 1
}
cfg="$DIR/pgcutover.json"
src=$(jq -r .source "$cfg")
dst=$(jq -r .target "$cfg")
tables=$(jq -r '.tables[].name' "$cfg")

now_ms() { date +%s%3N; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ms for one command (output discarded)
time_ms() {
	t0=$(now_ms)
	"$@" >/dev/null 2>&1
	t1=$(now_ms)
	echo $((t1 - t0))
}

runs() {  # runs CMD...: median of RUNS timings
	i=0
	while [ $i -lt "$RUNS" ]; do time_ms "$@"; i=$((i + 1)); done | median
}

count1() { "$PSQL" "$1" -X -q -A -t -c "select count(*) from $2"; }

"$PGCUTOVER" -c "$cfg" counts --exact >/dev/null 2>&1   # warm-up

total_rows=0
sum=0
max=0
for side in "$src" "$dst"; do
	for t in $tables; do
		ms=$(runs count1 "$side" "$t")
		sum=$(echo "$sum + $ms" | bc)
		max=$(echo "if ($ms > $max) $ms else $max" | bc)
		n=$(count1 "$side" "$t")
		total_rows=$((total_rows + n))
	done
done
ideal=$(echo "x = $sum / $CORES; if ($max > x) $max else x" | bc -l)
# Each psql call also pays for a process and a connection; the same ideal
# without that (median `select 1`) is the stricter yardstick.
conn=$(runs "$PSQL" "$src" -X -q -A -t -c "select 1")
n_counts=$(( $(echo "$tables" | wc -l) * 2 ))
ideal_nc=$(echo "m = $max - $conn; x = ($sum - $n_counts * $conn) / $CORES; if (m > x) m else x" | bc -l)

seq_all() {
	for side in "$src" "$dst"; do
		for t in $tables; do count1 "$side" "$t"; done
	done
}
seq=$(runs seq_all)
pgc=$(runs "$PGCUTOVER" -c "$cfg" counts --exact)

est_run() {
	"$PGCUTOVER" -c "$cfg" counts --timing 2>&1 >/dev/null |
		sed -n 's/.*(\([0-9.]*\) ms after connecting).*/\1/p' | sort -n | tail -1
}
est=$(i=0; while [ $i -lt "$RUNS" ]; do est_run; i=$((i + 1)); done | median)

printf 'rows counted (both sides): %d over %d tables x 2, %d cores\n' "$total_rows" "$(echo "$tables" | wc -l)" "$CORES"
printf 'single psql counts: sum %d ms, slowest %d ms; ideal %.0f ms\n' "$sum" "$max" "$ideal"
printf 'sequential psql counts: %d ms\n' "$seq"
printf 'pgcutover counts --exact: %d ms\n' "$pgc"
printf 'ratio pgc/ideal: %.2f (goal <= 1.2)\n' "$(echo "$pgc / $ideal" | bc -l)"
printf 'ratio pgc/sequential: %.2f (goal <= 0.6)\n' "$(echo "$pgc / $seq" | bc -l)"
printf 'psql connect+exit overhead: %d ms per call; ideal without it %.0f ms; ratio pgc/that: %.2f\n' \
	"$conn" "$ideal_nc" "$(echo "$pgc / $ideal_nc" | bc -l)"
printf 'estimates after connecting: %s ms (goal <= 100)\n' "$est"
