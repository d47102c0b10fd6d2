#!/bin/sh
# check.sh -- benchmark of `pgcutover check` on a generated 10,000-item
# runbook (bench/gen-runbook.sh) against the 50 ms target of issue 3.
# Uses hyperfine when installed, a timed loop otherwise.  Prints the mean
# wall time, the CPU time (user+sys, less disturbed by a busy machine), the
# start-up cost of the binary alone (`pgcutover -V`) for scale, and the
# ratio to the target (below 1.00 meets it).
# usage: bench/check.sh [PGCUTOVER] [ITEMS]
here=$(cd "$(dirname "$0")" && pwd)
PGCUTOVER=${1:-${PGCUTOVER:-./pgcutover}}
ITEMS=${2:-10000}
TARGET_MS=50
RUNS=${RUNS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$here/gen-runbook.sh" "$ITEMS" >"$tmp/runbook.md"
got=$("$PGCUTOVER" check --json "$tmp/runbook.md" |
      sed -n 's/^[[:space:]]*"items":[[:space:]]*\([0-9]*\),*$/\1/p' | head -1)
if [ "$got" != "$ITEMS" ]; then
	echo "check read ${got:-no} items, expected $ITEMS" >&2
	exit 1
fi
size=$(wc -c <"$tmp/runbook.md" | tr -d ' ')

# json_field FILE INDEX KEY: a number from hyperfine's export, in ms
json_field() {
	awk -v want="$2" -v key="\"$3\":" '
		/"command":/ { idx++ }
		idx == want && $1 == key { v = $2; sub(/,$/, "", v); printf "%.2f", v * 1000; exit }' "$1"
}

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/h.json" \
		"$PGCUTOVER -V" "$PGCUTOVER check --json $tmp/runbook.md" >/dev/null 2>&1 || exit 1
	base=$(json_field "$tmp/h.json" 1 mean)
	wall=$(json_field "$tmp/h.json" 2 mean)
	user=$(json_field "$tmp/h.json" 2 user)
	sys=$(json_field "$tmp/h.json" 2 system)
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	how="hyperfine, $RUNS runs"
else
	loop() {   # loop CMD...: mean wall ms over RUNS runs
		start=$(date +%s%N); i=0
		while [ $i -lt "$RUNS" ]; do "$@" >/dev/null; i=$((i + 1)); done
		end=$(date +%s%N)
		awk -v s="$start" -v e="$end" -v r="$RUNS" 'BEGIN { printf "%.2f", (e - s) / r / 1e6 }'
	}
	base=$(loop "$PGCUTOVER" -V)
	wall=$(loop "$PGCUTOVER" check --json "$tmp/runbook.md")
	cpu="n/a"
	how="shell loop, $RUNS runs"
fi
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
awk -v wall="$wall" -v cpu="$cpu" -v base="$base" -v t="$TARGET_MS" -v n="$ITEMS" -v how="$how" \
    -v size="$size" -v load="$load" 'BEGIN {
	printf "pgcutover check, %d-item runbook (%d bytes), %s, load average %s\n", n, size, how, load
	printf "  wall  %8.2f ms   ratio to the %d ms target: %.2f (%s)\n", wall, t, wall / t,
	       wall < t ? "meets it" : "misses it"
	if (cpu != "n/a")
		printf "  cpu   %8.2f ms   ratio to the %d ms target: %.2f (user+sys)\n", cpu, t, cpu / t
	printf "  start %8.2f ms   (pgcutover -V: process start-up alone, for scale)\n", base
}'
