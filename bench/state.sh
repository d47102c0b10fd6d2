#!/bin/sh
# bench/state.sh -- issue 3's state benchmark: append 100,000 events to a new
# state file, then `pgcutover log --verify` over them; prints the seconds and
# the ratio to the 2 s target.  The events go in one transaction (how an
# import writes); a sample of events each in its own fsynced transaction (how
# commands write) is timed too and extrapolated, since 100,000 fsyncs
# measure the disk, not pgcutover.
#   usage: bench/state.sh [BUILD_DIR]     (default: current directory)
#   env:   N=100000  SAMPLE=300
set -e
B=$(cd "${1:-${top_builddir:-.}}" && pwd)
P=${PGCUTOVER:-$B/pgcutover}
W=$B/tests/helpers/state_writer
N=${N:-100000}
SAMPLE=${SAMPLE:-300}
TARGET=2
[ -x "$W" ] || make -s -C "$B" tests/helpers/state_writer
[ -x "$P" ] || { echo "bench/state.sh: $P not built" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
# CPU seconds (user + sys) used so far by this shell's finished children;
# `times` must run in this shell, not in a $(...) subshell.
child_cpu() { times >"$T/times"; awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } print n }' "$T/times"; }

echo "state bench: $N events ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
set -- $("$W" --batch "$N" "$T/s.db" "$N")
append_wall=$2 append_cpu=$3
child_cpu >"$T/c0"
t0=$(now)
"$P" -s "$T/s.db" log --verify >"$T/verify.out"
t1=$(now)
child_cpu >"$T/c1"
c0=$(cat "$T/c0") c1=$(cat "$T/c1")
verify_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
verify_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
sed -n '1s/^/  /p' "$T/verify.out"
set -- $("$W" "$T/one.db" "$SAMPLE")
one_wall=$2 one_cpu=$3
awk -v n="$N" -v aw="$append_wall" -v ac="$append_cpu" -v vw="$verify_wall" -v vc="$verify_cpu" -v t="$TARGET" \
    -v s="$SAMPLE" -v ow="$one_wall" -v oc="$one_cpu" 'BEGIN {
	total = aw + vw
	cpu = ac + vc
	printf "  append %d events, one transaction: %.3f s wall (%.3f s CPU)\n", n, aw, ac
	printf "  pgcutover log --verify:            %.3f s wall (%.3f s CPU)\n", vw, vc
	printf "  total %.3f s wall; target %d s; ratio %.2f (%s)\n", total, t, total / t,
	       total <= t ? "within target" : "OVER target"
	printf "  total %.3f s CPU; ratio %.2f (wall above CPU means the machine was busy)\n", cpu, cpu / t
	printf "  one fsynced transaction per event: %d events in %.3f s wall (%.3f s CPU) = %.2f ms each;\n",
	       s, ow, oc, ow / s * 1000
	printf "    %d such appends would take about %.0f s\n", n, ow / s * n
}'
