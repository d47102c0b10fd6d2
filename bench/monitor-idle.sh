#!/bin/sh
# bench/monitor-idle.sh -- issue 7's monitor and interactive replay figures
# on a state with 1,000,000 events (bench/replay_gen.c):
#   monitor idle CPU  `pgcutover monitor` left alone for IDLE_S seconds in a
#                     tmux pane: CPU% from /proc/PID/stat (utime + stime),
#                     against the 1% target
#   replay open       `pgcutover replay STATE` on a terminal: launch to the
#                     first screen (polled every POLL_S, so +- that)
#   replay keys       ] [ , . and t TIME Enter in REPLAY mode: input read to
#                     frame written, from the console's own trace
#                     (PGCUTOVER_UI_TRACE), against the 200 ms seek target
#   usage: bench/monitor-idle.sh [BUILD_DIR]   env: N=1000000 IDLE_S=30
set -e
B=$(cd "${1:-${top_builddir:-.}}" && pwd)
S=$(cd "$(dirname "$0")/.." && pwd)
P=${PGCUTOVER:-$B/pgcutover}
N=${N:-1000000}
IDLE_S=${IDLE_S:-30}
POLL_S=0.01
CPU_TARGET_PCT=1
SEEK_TARGET_MS=200
[ -x "$P" ] && [ -f "$B/libpgccore.a" ] || { echo "bench/monitor-idle.sh: build first ($B)" >&2; exit 1; }
command -v tmux >/dev/null 2>&1 || { echo "bench/monitor-idle.sh: needs tmux" >&2; exit 1; }
T=$(mktemp -d)
SOCK="pgc-bench-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT
# replay keeps its checkpoint snapshots in the cache directory: this run's own
export PGCUTOVER_CACHE_DIR="${PGCUTOVER_CACHE_DIR:-$T/cache}"
${CC:-cc} -std=c11 -O2 -I"$S/include" -I"$B" "$S/bench/replay_gen.c" "$B/libpgccore.a" \
	-lsqlite3 -lcjson -lcrypto -lm -o "$T/gen"
sh "$S/bench/gen-runbook.sh" "${ITEMS:-500}" >"$T/rb.md"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
screen() { tm capture-pane -p -t b 2>/dev/null; }
wait_screen() {
	_end=$(( $(date +%s) + ${2:-60} ))
	until screen | grep -Eq -- "$1"; do
		[ "$(date +%s)" -ge "$_end" ] && { echo "bench: timed out waiting for '$1'" >&2; screen >&2; exit 1; }
		sleep "$POLL_S"
	done
}
# The pgcutover process in the pane (its parent is the pane's shell).
pane_pid() {
	_pp=$(tm display-message -p -t b '#{pane_pid}')
	for _s in /proc/[0-9]*/stat; do
		read -r _st < "$_s" 2>/dev/null || continue
		case "$_st" in *"(pgcutover) "*) ;; *) continue ;; esac
		set -- ${_st#*) }
		[ "$2" = "$_pp" ] && { _p=${_s#/proc/}; echo "${_p%/stat}"; return 0; }
	done
	return 1
}
# utime + stime of a process, in clock ticks (fields 14 and 15).
cpu_ticks() { set -- $(cut -d')' -f2 "/proc/$1/stat"); echo $(( ${12} + ${13} )); }
run_in_pane() {
	if tm has-session -t b 2>/dev/null; then
		tm respawn-pane -k -t b "$1"
	else
		tm new-session -d -s b -x 120 -y 40 "$1"
	fi
}

echo "monitor/replay bench: $N events ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
t0=$(now); "$T/gen" "$T/rb.md" "$T/s.db" "$N"; t1=$(now)
echo "  generate          $(ms "$t0" "$t1") ms"
t0=$(now); "$P" -q -r "$T/rb.md" replay "$T/s.db" --event 1 --json >/dev/null; t1=$(now)
echo "  index             $(ms "$t0" "$t1") ms  (checkpoint snapshots, once)"

# ---- monitor idle ----
# the monitor wants a config (no source, target or credentials in it)
printf '{"runbook": "rb.md", "state": "s.db"}\n' >"$T/pgcutover.json"
run_in_pane "env TERM=xterm-256color LANG=C.UTF-8 '$P' -c '$T/pgcutover.json' monitor; sleep 600"
wait_screen MONITOR
pid=$(pane_pid)
sleep 2   # past the first draws and the first follow
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$pid"); t0=$(now)
sleep "$IDLE_S"
c1=$(cpu_ticks "$pid"); t1=$(now)
awk -v c=$((c1 - c0)) -v hz="$hz" -v ns=$((t1 - t0)) -v t="$CPU_TARGET_PCT" 'BEGIN {
	pct = c / hz / (ns / 1e9) * 100
	printf "  monitor idle      %.3f%% CPU over %.0f s (%d ticks at %d Hz): %.2fx of the %d%% target\n", pct, ns / 1e9, c, hz, pct / t, t }'
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
echo "  monitor RSS       $((rss / 1024)) MB"

# ---- interactive replay ----
trace="$T/trace"
: >"$trace"
t0=$(now)
run_in_pane "env TERM=xterm-256color LANG=C.UTF-8 PGCUTOVER_UI_TRACE='$trace' '$P' -q -r '$T/rb.md' replay '$T/s.db'; sleep 600"
wait_screen "event 0/[0-9]+ "
t1=$(now)
echo "  replay open       $(ms "$t0" "$t1") ms wall to the first screen (launch, runbook, last ledger for the phase marks; times looked up by id)"
worst=0
key() {   # key LABEL KEYS... : one batch, timed by the console itself
	_label=$1; shift
	_before=$(wc -l <"$trace")
	tm send-keys -t b "$@"
	_end=$(( $(date +%s) + 30 ))
	until [ "$(wc -l <"$trace")" -gt "$_before" ]; do
		[ "$(date +%s)" -ge "$_end" ] && { echo "bench: no frame for $_label" >&2; exit 1; }
		sleep "$POLL_S"
	done
	sleep 0.2   # the whole batch (t, the time, Enter) lands in one or more lines
	_ms=$(tail -n +$((_before + 1)) "$trace" | awk '{ s += $1 } END { printf "%d", s }')
	[ "$_ms" -gt "$worst" ] && worst=$_ms
	printf '  replay %-10s %4d ms  (%s)\n' "$_label" "$_ms" "$(screen | grep -o 'event [0-9]*/[0-9]*' | head -1)"
}
key "]" "]"
key "] again" "]"
key "." "."
key "," ","
key "[" "["
first=$(sqlite3 "$T/s.db" 'SELECT min(ts) FROM events' 2>/dev/null || echo)
last=$(sqlite3 "$T/s.db" 'SELECT max(ts) FROM events' 2>/dev/null || echo)
if [ -n "$first" ] && [ -n "$last" ]; then
	for f in 0.37 0.81 0.12; do
		# to the millisecond: the generator writes a whole night in seconds
		at=$(awk -v a="$first" -v b="$last" -v f="$f" 'BEGIN { printf "%.3f", a + f * (b - a) }')
		tm send-keys -t b t
		wait_screen 'Go to a time' 10
		tm send-keys -t b -l "$(date -u -d "@$at" '+%Y-%m-%dT%H:%M:%S.%3NZ')"
		key "t seek" Enter
	done
fi
awk -v w="$worst" -v t="$SEEK_TARGET_MS" 'BEGIN { printf "  replay worst key  %d ms (%.2fx of the %d ms target)\n", w, w / t, t }'
