#!/bin/sh
# counts-many.sh -- `pgcutover counts --exact` over many tables against the
# best plain alternative run beside it (issue 20's table).
#
#   PGCUTOVER=./pgcutover sh bench/counts-many.sh
#   BEFORE=/path/to/older/pgcutover ...  also times that binary, interleaved
#     in the same runs, for before/after figures of one run
#
# Starts two throw-away PostgreSQL clusters (tests/lib/pg.sh), builds the
# same TABLES tables on both (default 300: BIG of them with 0.5-1.4M rows
# times SCALE, the rest 0-5,000 rows), then makes DIFFER of them differ on
# the target (a few rows fewer); each row has two ints and PAD bytes of text, VACUUM ANALYZEs, and measures, median of
# RUNS, the runs interleaved (A B A B ...):
#   pgc     pgcutover counts --exact (the config's defaults)
#   pgc1    the same with pool_size 1 and parallel plans off in the conninfo
#   psql2   two psql sessions at once, one per side, each counting every
#           table in turn with parallel plans off (the best alternative
#           measured on a 2-core machine)
# and prints each time with the ratio to psql2.  ONE=ROWS adds the one-big-
# table case (ROWS rows on each side): pgcutover against one psql count per
# side, at once, with the server's default (parallel) plans.
# KEEP=1 leaves the clusters running and prints how to reach them.
# Needs PostgreSQL server binaries, psql, jq, GNU date.
set -u
: "${PGCUTOVER:=pgcutover}"
TABLES=${TABLES:-300}
BIG=${BIG:-20}
DIFFER=${DIFFER:-33}
SCALE=${SCALE:-1}
RUNS=${RUNS:-3}
ONE=${ONE:-0}
PAD=${PAD:-60}   # bytes of text per row, about what a real row carries
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
export top_srcdir
case "$PGCUTOVER" in */*) PGCUTOVER=$(cd "$(dirname "$PGCUTOVER")" && pwd)/$(basename "$PGCUTOVER") ;; esac

skip_all() { echo "counts-many.sh: $*" >&2; exit 2; }
. "$top_srcdir/tests/lib/pg.sh"
pg_require
for tool in jq; do
	command -v "$tool" >/dev/null 2>&1 || { echo "counts-many.sh: $tool is needed" >&2; exit 2; }
done
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

t_build=$(now_ms)
pg_start src >/dev/null || { echo "counts-many.sh: source cluster did not start" >&2; exit 1; }
pg_start dst >/dev/null || { echo "counts-many.sh: target cluster did not start" >&2; exit 1; }
PSQL=$(pg_psql_bin)
DIR=$PGC_TMP

# The tables: t001..tNNN; the BIG ones spread through the list.  The rows
# of table i are fixed by i, so both sides build the same data; the target
# then loses rows in DIFFER tables.
awk -v n="$TABLES" -v big="$BIG" -v scale="$SCALE" -v pad="$PAD" 'BEGIN {
	srand(20);
	step = int(n / (big ? big : 1));
	for (i = 1; i <= n; i++) {
		isbig = big && (i % step == 1) && int(i / step) < big;
		rows = isbig ? int((500000 + ((i * 7919) % 900001)) * scale) : (i * 37) % 5001;
		printf "create table t%03d (id int, v int, note text);\n", i;
		printf "insert into t%03d select g, g %% 97, repeat(chr(97 + g %% 26), %d) from generate_series(1, %d) g;\n", i, pad, rows;
	}
}' > "$DIR/build.sql"
awk -v n="$TABLES" -v differ="$DIFFER" 'BEGIN {
	step = int(n / (differ ? differ : 1));
	for (k = 0; k < differ; k++)
		printf "delete from t%03d where id <= %d;\n", k * step + 2, (k % 5) + 1;
}' > "$DIR/differ.sql"
# Both sides build at once (one backend each).
pg_psql_file src "$DIR/build.sql" >/dev/null &
b1=$!
pg_psql_file dst "$DIR/build.sql" >/dev/null &
b2=$!
wait $b1 && wait $b2 || { echo "counts-many.sh: building the tables failed" >&2; exit 1; }
pg_psql_file dst "$DIR/differ.sql" >/dev/null
pg_psql src "vacuum analyze" >/dev/null &
b1=$!
pg_psql dst "vacuum analyze" >/dev/null
wait $b1
rows=$(pg_psql src "select sum(n_live_tup) from pg_stat_user_tables")
t_built=$(now_ms)

SRC=$(pg_conninfo src)
DST=$(pg_conninfo dst)
tables_json=$(awk -v n="$TABLES" 'BEGIN { for (i = 1; i <= n; i++) printf "%s{\"name\": \"t%03d\"}", (i > 1 ? ", " : ""), i }')
printf '# Bench\n\n## Phase 1: Counts\n\n- [ ] count\n' > "$DIR/runbook.md"
printf '{"runbook": "runbook.md", "source": "%s", "target": "%s", "tables": [%s]}\n' "$SRC" "$DST" "$tables_json" > "$DIR/pgcutover.json"
printf '{"runbook": "runbook.md", "source": "%s options=%s", "target": "%s options=%s", "pool_size": 1, "tables": [%s]}\n' \
	"$SRC" "'-c max_parallel_workers_per_gather=0'" "$DST" "'-c max_parallel_workers_per_gather=0'" \
	"$tables_json" > "$DIR/pgcutover1.json"
awk -v n="$TABLES" 'BEGIN { print "set max_parallel_workers_per_gather = 0;";
	for (i = 1; i <= n; i++) printf "select count(*) from t%03d;\n", i }' > "$DIR/serial.sql"

pgc() { "$PGCUTOVER" -c "$DIR/pgcutover.json" counts --exact >/dev/null 2>&1; }
pgc1() { "$PGCUTOVER" -c "$DIR/pgcutover1.json" counts --exact >/dev/null 2>&1; }
before() { "$BEFORE" -c "$DIR/pgcutover.json" counts --exact >/dev/null 2>&1; }
before1() { "$BEFORE" -c "$DIR/pgcutover1.json" counts --exact >/dev/null 2>&1; }
psql2() {
	"$PSQL" "$SRC" -X -q -A -t -f "$DIR/serial.sql" >/dev/null 2>&1 &
	_p=$!
	"$PSQL" "$DST" -X -q -A -t -f "$DIR/serial.sql" >/dev/null 2>&1
	wait $_p
}
ms() { _t0=$(now_ms); "$@"; _t1=$(now_ms); echo $((_t1 - _t0)); }

pgc; pgc1; psql2   # warm-up: caches, hint bits
# Each must have counted every table, or its time means nothing.
"$PSQL" "$SRC" -X -q -A -t -f "$DIR/serial.sql" > "$DIR/psql.out" 2>&1
[ "$(grep -c '^[0-9][0-9]*$' "$DIR/psql.out")" = "$TABLES" ] ||
	{ echo "counts-many.sh: psql did not count every table:" >&2; tail -5 "$DIR/psql.out" >&2; exit 1; }
for c in pgcutover pgcutover1; do
	"$PGCUTOVER" -c "$DIR/$c.json" counts --exact --json > "$DIR/$c.out" 2>&1
	[ "$(jq '[.tables[] | select(.exact)] | length' "$DIR/$c.out" 2>/dev/null)" = "$TABLES" ] ||
		{ echo "counts-many.sh: pgcutover ($c.json) did not count every table exactly:" >&2; tail -5 "$DIR/$c.out" >&2; exit 1; }
done
differing=$(grep -c . "$DIR/differ.sql")
i=0
: > "$DIR/a"; : > "$DIR/b"; : > "$DIR/c"; : > "$DIR/a0"; : > "$DIR/b0"
[ -n "${BEFORE:-}" ] && { before; before1; }
while [ $i -lt "$RUNS" ]; do
	ms pgc >> "$DIR/a"
	ms pgc1 >> "$DIR/b"
	ms psql2 >> "$DIR/c"
	if [ -n "${BEFORE:-}" ]; then
		ms before >> "$DIR/a0"
		ms before1 >> "$DIR/b0"
	fi
	i=$((i + 1))
done
a=$(median < "$DIR/a"); b=$(median < "$DIR/b"); c=$(median < "$DIR/c")
printf 'pair: %d tables per side, %s rows per side, %d differing, built in %.1f s; %d cores; medians of %d\n' \
	"$TABLES" "$rows" "$differing" "$(echo "($t_built - $t_build) / 1000" | bc -l)" "$(nproc)" "$RUNS"
printf 'counts --exact, %d tables: pgcutover %.2f s, two psql sessions at once (serial plans) %.2f s, ratio %.2f (goal <= 1.2)\n' \
	"$TABLES" "$(echo "$a / 1000" | bc -l)" "$(echo "$c / 1000" | bc -l)" "$(echo "$a / $c" | bc -l)"
printf 'same, pool_size 1 + parallel off in the conninfo: pgcutover %.2f s, psql %.2f s, ratio %.2f\n' \
	"$(echo "$b / 1000" | bc -l)" "$(echo "$c / 1000" | bc -l)" "$(echo "$b / $c" | bc -l)"
if [ -n "${BEFORE:-}" ]; then
	a0=$(median < "$DIR/a0"); b0=$(median < "$DIR/b0")
	printf 'before (%s): counts --exact %.2f s, ratio %.2f; pool_size 1 + parallel off %.2f s, ratio %.2f\n' \
		"$BEFORE" "$(echo "$a0 / 1000" | bc -l)" "$(echo "$a0 / $c" | bc -l)" \
		"$(echo "$b0 / 1000" | bc -l)" "$(echo "$b0 / $c" | bc -l)"
fi
"$PGCUTOVER" -c "$DIR/pgcutover.json" counts --exact --timing 2>&1 >/dev/null | grep 'at once' | sed 's/^timing: /pgcutover: /'
"$PGCUTOVER" -c "$DIR/pgcutover.json" counts --exact --json > "$DIR/pgc.json" 2>/dev/null
printf 'pgcutover found %s of %d tables differing, all exact: %s (exit %s)\n' \
	"$(jq '[.tables[] | select(.match == false)] | length' "$DIR/pgc.json")" "$differing" \
	"$(jq .exact "$DIR/pgc.json")" "$("$PGCUTOVER" -c "$DIR/pgcutover.json" counts --exact >/dev/null 2>&1; echo $?)"

if [ "$ONE" -gt 0 ]; then
	for side in src dst; do
		{ pg_psql $side "create table one (id int, v int, note text); insert into one select g, g % 97, repeat('x', $PAD) from generate_series(1, $ONE) g" &&
		  pg_psql $side "vacuum analyze one"; } >/dev/null &
	done
	wait
	[ "$(pg_psql dst "select count(*) from one")" = "$ONE" ] || { echo "counts-many.sh: building table one failed" >&2; exit 1; }
	printf '{"runbook": "runbook.md", "source": "%s", "target": "%s", "tables": [{"name": "one"}]}\n' "$SRC" "$DST" > "$DIR/one.json"
	one_pgc() { "$PGCUTOVER" -c "$DIR/one.json" counts --exact >/dev/null 2>&1; }
	one_psql() {
		"$PSQL" "$SRC" -X -q -A -t -c "select count(*) from one" >/dev/null 2>&1 &
		_p=$!
		"$PSQL" "$DST" -X -q -A -t -c "select count(*) from one" >/dev/null 2>&1
		wait $_p
	}
	one_before() { "$BEFORE" -c "$DIR/one.json" counts --exact >/dev/null 2>&1; }
	one_pgc; one_psql
	: > "$DIR/d"; : > "$DIR/e"; : > "$DIR/d0"
	i=0
	while [ $i -lt "$RUNS" ]; do
		ms one_pgc >> "$DIR/d"
		ms one_psql >> "$DIR/e"
		[ -n "${BEFORE:-}" ] && ms one_before >> "$DIR/d0"
		i=$((i + 1))
	done
	d=$(median < "$DIR/d"); e=$(median < "$DIR/e")
	if [ -n "${BEFORE:-}" ]; then
		d0=$(median < "$DIR/d0")
		printf 'before: one table %.2f s, ratio %.2f\n' "$(echo "$d0 / 1000" | bc -l)" "$(echo "$d0 / $e" | bc -l)"
	fi
	printf 'one table of %d rows per side: pgcutover %.2f s, psql per side at once (default plans) %.2f s, ratio %.2f\n' \
		"$ONE" "$(echo "$d / 1000" | bc -l)" "$(echo "$e / 1000" | bc -l)" "$(echo "$d / $e" | bc -l)"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
if [ "${KEEP:-0}" = 1 ]; then
	echo "clusters kept: config $DIR/pgcutover.json; press Enter to stop them"
	read -r _
fi
