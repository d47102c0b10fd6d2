#!/bin/sh
# freeze.sh -- the write-freeze proof, measured (issue 18):
#
#   PGCUTOVER=./_build/pgcutover sh bench/freeze.sh
#
# 1. latency: a writer (its own connection) inserts rows stamped with
#    clock_timestamp() every 0.1 s; `pgcutover freeze watch --window W`
#    runs; the writer stops.  latency = when the watch exits - the last
#    row's stamp (read from the table: independent of pgcutover's clock).
#    Goal: W + under 2 s.  Alongside, the alternative an operator has
#    today: a shell loop of `select count(*)` every second, quiet when the
#    count stayed the same for W s (one table, no names, and blind to an
#    open transaction); its latency is printed for comparison.  RUNS runs,
#    medians.
# 2. load: a source with 300 tables; `freeze watch --window L` with nothing
#    writing; pgcutover's own count of queries and their mean time
#    (queries, query_ms_mean in its JSON), checked against the server's
#    count of transactions committed in the database meanwhile
#    (pg_stat_database.xact_commit, an independent figure) and against
#    pg_stat_statements' mean time of the same query.
set -u
PGCUTOVER=${PGCUTOVER:-./_build/pgcutover}
case "$PGCUTOVER" in /*) ;; *) PGCUTOVER=$PWD/$PGCUTOVER ;; esac
W=${WINDOW:-10}
L=${LOAD_WINDOW:-20}
RUNS=${RUNS:-3}
NTABLES=${TABLES:-300}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
skip_all() { echo "freeze.sh: $*" >&2; exit 2; }
. "$top_srcdir/tests/lib/pg.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq is needed"
PG_SRC_CONF="shared_preload_libraries = 'pg_stat_statements'"
pg_start src || exit 1
pg_start dst || exit 1
PSQL=$(pg_psql_bin)
pg_psql src "create table w(id bigserial primary key, ts timestamptz not null default clock_timestamp())" >/dev/null
cfg="$PGC_TMP/pgcutover.json"
printf '# B\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "state": "$PGC_TMP/state.db", "tables": [{"name": "w"}]}
JSON
now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The count(*) poller: exits when the count stayed the same for W s.
naive_watch() {
	last=""; since=$(date +%s)
	while :; do
		c=$(pg_psql src "select count(*) from w")
		t=$(date +%s)
		if [ "$c" != "$last" ]; then last=$c; since=$t; elif [ $((t - since)) -ge "$W" ]; then break; fi
		sleep 1
	done
	now >"$PGC_TMP/naive.end"
}

: >"$PGC_TMP/lat.pgc"; : >"$PGC_TMP/lat.naive"
r=0
while [ $r -lt "$RUNS" ]; do
	rm -f "$PGC_TMP/stop"
	(while [ ! -e "$PGC_TMP/stop" ]; do echo "insert into w default values;"; sleep 0.1; done |
		"$PSQL" "$PG_SRC_CONNINFO application_name=bench-writer" -X -q >/dev/null 2>&1) &
	writer=$!
	sleep 1
	( "$PGCUTOVER" -c "$cfg" freeze watch --window "$W" >"$PGC_TMP/watch.out" 2>&1; now >"$PGC_TMP/pgc.end" ) &
	pgc=$!
	naive_watch &
	naive=$!
	sleep 3
	touch "$PGC_TMP/stop"; wait "$writer"
	wait "$pgc"; wait "$naive"
	last=$(pg_psql src "select extract(epoch from max(ts)) from w")
	echo "$(cat "$PGC_TMP/pgc.end") - $last" | bc -l >>"$PGC_TMP/lat.pgc"
	echo "$(cat "$PGC_TMP/naive.end") - $last" | bc -l >>"$PGC_TMP/lat.naive"
	grep -q "FREEZE PROVEN" "$PGC_TMP/watch.out" || { echo "freeze.sh: the watch did not prove the freeze:" >&2; cat "$PGC_TMP/watch.out" >&2; exit 1; }
	r=$((r + 1))
done
pl=$(median <"$PGC_TMP/lat.pgc"); nl=$(median <"$PGC_TMP/lat.naive")
printf 'latency  window %d s, %d runs: pgcutover freeze watch %.2f s (window + %.2f s, goal < 2 s); count(*) poller %.2f s (window + %.2f s); ratio pgcutover/poller %.2f\n' \
	"$W" "$RUNS" "$pl" "$(echo "$pl - $W" | bc -l)" "$nl" "$(echo "$nl - $W" | bc -l)" "$(echo "$pl / $nl" | bc -l)"
printf 'latency  runs (s): pgcutover %s; poller %s\n' "$(tr '\n' ' ' <"$PGC_TMP/lat.pgc")" "$(tr '\n' ' ' <"$PGC_TMP/lat.naive")"

# 2. load on a source with NTABLES tables.
"$PSQL" "$PG_SRC_CONNINFO" -X -q -A -t -c "select format('create table t%s(id int primary key, v text);', g) from generate_series(1, $NTABLES) g" |
	"$PSQL" "$PG_SRC_CONNINFO" -X -q -v ON_ERROR_STOP=1 >/dev/null || exit 1
pg_psql src "create extension if not exists pg_stat_statements; select pg_stat_statements_reset()" >/dev/null
x0=$(pg_psql src "select xact_commit from pg_stat_database where datname = current_database()")
out=$("$PGCUTOVER" -c "$cfg" freeze watch --window "$L" --json)
sleep 1   # the server's counters of the last sample
x1=$(pg_psql src "select xact_commit from pg_stat_database where datname = current_database()")
q=$(printf '%s' "$out" | jq -r .queries); qm=$(printf '%s' "$out" | jq -r .query_ms_mean); ws=$(printf '%s' "$out" | jq -r .watched_s)
ntab=$(pg_psql src "select count(*) from pg_stat_user_tables")
ss=$(pg_psql src "select calls || ' calls, mean ' || round(mean_exec_time::numeric, 3) || ' ms' from pg_stat_statements where query like '%pg_stat_user_tables%' order by calls desc limit 1")
printf 'load     %d tables, %.1f s: %d queries (%.2f/s), mean %.2f ms as pgcutover timed them (round trip)\n' \
	"$ntab" "$ws" "$q" "$(echo "$q / $ws" | bc -l)" "$qm"
printf "load     server side: %d transactions committed meanwhile (pgcutover's, this script's psql and autovacuum's), pg_stat_statements (execution only): %s\n" \
	"$((x1 - x0))" "$ss"
