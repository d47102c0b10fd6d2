#!/bin/sh
# bench/replay.sh -- issue 7's replay benchmark: a state with 1,000,000
# events (bench/replay_gen.c, through the state batch API), then
#   open + derive the final state  (`status --json`: newest snapshot + fold)
#   seek to random times           (`replay --at T --json`)
# each printed in ms against the 200 ms target.  The first replay of a long
# state leaves checkpoint snapshots (in the cache) every REPLAY_SNAPSHOT_EVERY
# events (timed separately as "index"); the cold open (no snapshot at all)
# is printed for comparison.  Times are whole processes: exec, runbook
# parse, SQLite open, fold, JSON.
#   usage: bench/replay.sh [BUILD_DIR]    env: N=1000000 SEEKS=5
set -e
B=$(cd "${1:-${top_builddir:-.}}" && pwd)
S=$(cd "$(dirname "$0")/.." && pwd)
P=${PGCUTOVER:-$B/pgcutover}
N=${N:-1000000}
SEEKS=${SEEKS:-5}
TARGET_MS=200
[ -x "$P" ] && [ -f "$B/libpgccore.a" ] || { echo "bench/replay.sh: build first ($B)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# replay keeps its checkpoint snapshots in the cache directory: this run's own
export PGCUTOVER_CACHE_DIR="${PGCUTOVER_CACHE_DIR:-$T/cache}"
${CC:-cc} -std=c11 -O2 -I"$S/include" -I"$B" "$S/bench/replay_gen.c" "$B/libpgccore.a" \
	-lsqlite3 -lcjson -lcrypto -lm -o "$T/gen"
# A runbook of real size (500 items) from the check bench's generator.
sh "$S/bench/gen-runbook.sh" "${ITEMS:-500}" >"$T/rb.md"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
# CPU ms (user + sys) of this shell's finished children so far; `times` must
# run in this shell, not in a $(...) subshell, hence the files.  On a loaded machine the wall
# time is mostly waiting for a CPU; the CPU time is what pgcutover costs.
child_cpu() { times >"$T/times"; awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%d\n", n * 1000 }' "$T/times"; }

echo "replay bench: $N events ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
t0=$(now); "$T/gen" "$T/rb.md" "$T/s.db" "$N"; t1=$(now)
echo "  generate      $(ms "$t0" "$t1") ms  ($(du -m "$T/s.db" | cut -f1) MB)"
t0=$(now); "$P" -q -r "$T/rb.md" replay "$T/s.db" --event 1 --json >/dev/null; t1=$(now)
echo "  index         $(ms "$t0" "$t1") ms  (first replay: checkpoint snapshots, once)"
first=$(sqlite3 "$T/s.db" 'SELECT min(ts) FROM events') 2>/dev/null || first=
last=$(sqlite3 "$T/s.db" 'SELECT max(ts) FROM events') 2>/dev/null || last=
worst=0 worst_cpu=0
t0=$(now); "$P" -V >/dev/null; t1=$(now)
echo "  exec baseline $(ms "$t0" "$t1") ms wall  (pgcutover -V: what starting a process costs here now)"
child_cpu >"$T/c0"; t0=$(now); "$P" -q -r "$T/rb.md" -s "$T/s.db" status --json >"$T/status.json"; t1=$(now); child_cpu >"$T/c1"; c0=$(cat "$T/c0") c1=$(cat "$T/c1")
open_ms=$(ms "$t0" "$t1") cpu=$((c1 - c0))
echo "  open+final    $open_ms ms wall, $cpu ms CPU  (status --json: $(jq -c '[.items_done, .last_event_id]' "$T/status.json"))"
[ "$open_ms" -gt "$worst" ] && worst=$open_ms
[ "$cpu" -gt "$worst_cpu" ] && worst_cpu=$cpu
i=0
while [ "$i" -lt "$SEEKS" ]; do
	at=$(awk -v a="$first" -v b="$last" -v s="$i$$" 'BEGIN { srand(s); printf "%.6f", a + rand() * (b - a) }')
	child_cpu >"$T/c0"; t0=$(now); "$P" -q -r "$T/rb.md" replay "$T/s.db" --at "$at" --json >"$T/seek.json"; t1=$(now); child_cpu >"$T/c1"; c0=$(cat "$T/c0") c1=$(cat "$T/c1")
	out=$(cat "$T/seek.json")
	m=$(ms "$t0" "$t1") cpu=$((c1 - c0))
	[ "$m" -gt "$worst" ] && worst=$m
	[ "$cpu" -gt "$worst_cpu" ] && worst_cpu=$cpu
	echo "  seek          $m ms wall, $cpu ms CPU  (event $(printf '%s' "$out" | jq .replay.event_id), $(printf '%s' "$out" | jq .items_done) done)"
	i=$((i + 1))
done
awk -v w="$worst" -v c="$worst_cpu" -v t="$TARGET_MS" 'BEGIN { printf "  worst %d ms wall (%.2fx of the %d ms target), %d ms CPU (%.2fx)\n", w, w / t, t, c, c / t }'

# The same log as a JSONL export (what leaves the jump host).  Its first
# replay imports it, checking the chain, into a cached state (timed as
# "jsonl import", once); later seeks read that cache.  The same seeks with
# the log read into memory (no usable cache directory) are printed after.
t0=$(now); "$P" -q -r "$T/rb.md" -s "$T/s.db" export --format jsonl -o "$T/log.jsonl"; t1=$(now)
echo "  jsonl export  $(ms "$t0" "$t1") ms  ($(du -m "$T/log.jsonl" | cut -f1) MB)"
t0=$(now); PGCUTOVER_CACHE_DIR=$T/cache "$P" -q -r "$T/rb.md" replay "$T/log.jsonl" --event 1 --json >/dev/null; t1=$(now)
echo "  jsonl import  $(ms "$t0" "$t1") ms  (first replay: chain checked, cached state + checkpoint snapshots, once)"
jsonl_seeks() {  # LABEL COUNT CACHE_DIR
	jworst=0
	i=0
	while [ "$i" -lt "$2" ]; do
		at=$(awk -v a="$first" -v b="$last" -v s="7$i$$" 'BEGIN { srand(s); printf "%.6f", a + rand() * (b - a) }')
		t0=$(now)
		if [ -x /usr/bin/time ]; then   # Debian's package time: peak RSS
			PGCUTOVER_CACHE_DIR=$3 /usr/bin/time -f '%M' -o "$T/rss" \
				"$P" -q -r "$T/rb.md" replay "$T/log.jsonl" --at "$at" --json >"$T/seek.json"
			rss="peak RSS $(( $(tail -1 "$T/rss") / 1024 )) MB"
		else
			PGCUTOVER_CACHE_DIR=$3 "$P" -q -r "$T/rb.md" replay "$T/log.jsonl" --at "$at" --json >"$T/seek.json"
			rss="peak RSS not measured (no /usr/bin/time)"
		fi
		t1=$(now)
		m=$(ms "$t0" "$t1")
		[ "$m" -gt "$jworst" ] && jworst=$m
		echo "  $1 seek $m ms wall, $rss  (event $(jq .replay.event_id "$T/seek.json"))"
		i=$((i + 1))
	done
	awk -v w="$jworst" -v t="$TARGET_MS" -v l="$1" 'BEGIN { printf "  %s worst %d ms wall (%.2fx of the %d ms target)\n", l, w, w / t, t }'
}
jsonl_seeks "jsonl cached" "$SEEKS" "$T/cache"
jsonl_seeks "jsonl in memory" "${MEM_SEEKS:-2}" /dev/null/none
