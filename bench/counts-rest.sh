#!/bin/sh
# counts-rest.sh -- `pgcutover counts` with a REST (PostgREST) source and
# `count: planned` over many tables, against the plain alternative run
# beside it: one `curl` HEAD per table with the same Prefer header, 4 at a
# time (xargs -P4), pool_size 4 for pgcutover (issue 20's table).
#
#   PGCUTOVER=./pgcutover sh bench/counts-rest.sh
#   BEFORE=/path/to/older/pgcutover ...  that binary too, in the same runs
#
# Starts two throw-away clusters (tests/lib/pg.sh) and the loopback
# PostgREST test server (tests/lib/postgrest-mini.py) on the source, makes
# TABLES small tables on both, and prints medians of RUNS (interleaved),
# the ratio pgcutover/curl, and how many requests each sent (the server's
# log).  The test server is not PostgREST (it asks psql for each answer):
# the ratio, not the times, is the figure.  Needs python3, curl, jq.
set -u
: "${PGCUTOVER:=pgcutover}"
TABLES=${TABLES:-300}
RUNS=${RUNS:-3}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
export top_srcdir
case "$PGCUTOVER" in */*) PGCUTOVER=$(cd "$(dirname "$PGCUTOVER")" && pwd)/$(basename "$PGCUTOVER") ;; esac

skip_all() { echo "counts-rest.sh: $*" >&2; exit 2; }
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
for tool in curl jq xargs; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is needed"
done
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { _t0=$(now_ms); "$@"; _t1=$(now_ms); echo $((_t1 - _t0)); }

pg_start src >/dev/null || exit 1
pg_start dst >/dev/null || exit 1
DIR=$PGC_TMP
awk -v n="$TABLES" 'BEGIN { for (i = 1; i <= n; i++)
	printf "create table t%03d(id int primary key); insert into t%03d select generate_series(1, %d);\n", i, i, i * 11 }' \
	> "$DIR/tables.sql"
pg_psql_file src "$DIR/tables.sql" >/dev/null
pg_psql_file dst "$DIR/tables.sql" >/dev/null
pg_psql src "analyze" >/dev/null
pg_psql dst "analyze" >/dev/null
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
rest_start api src --lifetime 3000 || exit 1

tables_json=$(awk -v n="$TABLES" 'BEGIN { for (i = 1; i <= n; i++) printf "%s{\"name\": \"t%03d\"}", (i > 1 ? ", " : ""), i }')
printf '# Bench\n\n## Phase 1: Counts\n\n- [ ] count\n' > "$DIR/runbook.md"
cat > "$DIR/pgcutover.json" <<EOF
{"runbook": "runbook.md",
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY", "count": "planned"}},
 "target": "$PG_DST_CONNINFO", "pool_size": 4, "tables": [$tables_json]}
EOF
awk -v n="$TABLES" -v u="$REST_API_URL" 'BEGIN { for (i = 1; i <= n; i++) printf "%s/rest/v1/t%03d?select=*&limit=1\n", u, i }' > "$DIR/urls"

pgc() { "$PGCUTOVER" -c "$DIR/pgcutover.json" counts >/dev/null 2>&1; }
before() { "$BEFORE" -c "$DIR/pgcutover.json" counts >/dev/null 2>&1; }
curls() {
	xargs -P 4 -n 1 curl -s -o /dev/null -I -H "apikey: $SUPABASE_KEY" -H "Prefer: count=planned" < "$DIR/urls"
}
requests() {  # requests CMD: how many requests CMD sent
	_n0=$(wc -l < "$REST_API_LOG")
	"$@"
	echo $(($(wc -l < "$REST_API_LOG") - _n0))
}
pgc; curls   # warm-up
n_pgc=$(requests pgc)
n_curl=$(requests curls)
[ -n "${BEFORE:-}" ] && n_before=$(requests before)
: > "$DIR/a"; : > "$DIR/c"; : > "$DIR/a0"
i=0
while [ $i -lt "$RUNS" ]; do
	ms pgc >> "$DIR/a"
	ms curls >> "$DIR/c"
	[ -n "${BEFORE:-}" ] && ms before >> "$DIR/a0"
	i=$((i + 1))
done
a=$(median < "$DIR/a"); c=$(median < "$DIR/c")
printf 'REST source, count planned, %d tables: pgcutover %.2f s (%d requests), %d curl HEADs 4 at a time %.2f s (%d requests), ratio %.2f\n' \
	"$TABLES" "$(echo "$a / 1000" | bc -l)" "$n_pgc" "$TABLES" "$(echo "$c / 1000" | bc -l)" "$n_curl" "$(echo "$a / $c" | bc -l)"
if [ -n "${BEFORE:-}" ]; then
	a0=$(median < "$DIR/a0")
	printf 'before (%s): %.2f s (%d requests), ratio %.2f\n' "$BEFORE" "$(echo "$a0 / 1000" | bc -l)" "$n_before" "$(echo "$a0 / $c" | bc -l)"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
