#!/bin/sh
# verify.sh -- how long `pgcutover verify` takes on a big table against the
# best this machine can do, and what it costs the client.
#
#   ROWS=3000000 PGCUTOVER=_build/pgcutover sh bench/verify.sh
#
# Starts two throw-away clusters (tests/lib/pg.sh), loads the same ROWS
# rows of a 5-column table (bigint key, int, text, timestamptz, numeric)
# into both, warms the caches, then measures (median of RUNS):
#   base   one server-side whole-table count and sum of the same canonical
#          row-text hash verify computes, run on both servers at once
#          (psql, each alone on its server; wall time of the pair)
#   ident  `pgcutover verify --table t` on identical data (process start
#          to exit), and its client max RSS (/usr/bin/time -v)
#   ref    the same pair with the cheapest whole-table hash there is,
#          sum(hashtext(t::text)) (no canonical text: for scale only)
#   diff   the same after 10 scattered differences on the target (4 rows
#          changed, 3 deleted, 3 inserted): all 10 must be found
# and prints ident/base (goal <= 1.5), diff/ident (goal <= 2) and the max
# RSS (goal < 50 MB).  Then, with tmux and python3 there, the console's
# key-to-frame time while it verifies the same table in the background
# (bench/console.sh with COUNTS_FROM and VERIFY=1; goal p99 < 30 ms).
# Needs psql, jq, GNU date and /usr/bin/time.
set -u
ROWS=${ROWS:-3000000}
RUNS=${RUNS:-3}
PGCUTOVER=${PGCUTOVER:-_build/pgcutover}
case "$PGCUTOVER" in /*) ;; *) PGCUTOVER=$PWD/$PGCUTOVER ;; esac
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
for tool in jq /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || { echo "verify.sh: $tool is needed" >&2; exit 2; }
done
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_start src || exit 1
pg_start dst || exit 1
PSQL=$(pg_psql_bin)

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

t0=$(now_ms)
for side in src dst; do
	pg_psql "$side" "create table t(id bigint primary key, a int, b text, c timestamptz, d numeric(12,2));
	                 insert into t select g, g % 1000, 'row ' || g, timestamptz '2024-01-01' + g * interval '1 second',
	                        g / 100.0 from generate_series(1, $ROWS) g" &&
	pg_psql "$side" "vacuum analyze t" &
done
wait
[ "$(pg_psql src 'select count(*) from t')" = "$ROWS" ] && [ "$(pg_psql dst 'select count(*) from t')" = "$ROWS" ] ||
	{ echo "verify.sh: loading failed" >&2; exit 1; }
t1=$(now_ms)
echo "loaded $ROWS rows into each side in $(( (t1 - t0) / 1000 )) s"

# the canonical row text verify builds for t (columns in name order)
HASH="('x' || left(md5(ROW(a::text, b::text,
       to_char(c AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
       trim_scale(d)::text, id::text)::text), 16))::bit(64)::bigint"
BASE_SQL="set timezone = 'UTC'; select count(*), sum($HASH) from t"
REF_SQL="select count(*), sum(hashtext(t::text)) from t"

base_once() {
	_sql=${1:-$BASE_SQL}
	b0=$(now_ms)
	"$PSQL" "$PG_SRC_CONNINFO" -X -q -A -t -v ON_ERROR_STOP=1 -c "$_sql" >"$PGC_TMP/b1" &
	p1=$!
	"$PSQL" "$PG_DST_CONNINFO" -X -q -A -t -v ON_ERROR_STOP=1 -c "$_sql" >"$PGC_TMP/b2" &
	p2=$!
	wait $p1 && wait $p2 || { echo "verify.sh: the base query failed" >&2; exit 1; }
	b1=$(now_ms)
	echo $((b1 - b0))
}

cfg="$PGC_TMP/pgcutover.json"
printf '# Bench\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "t"}], "statement_timeout_ms": 0}
JSON
# verify once; prints "ms rss_kb", leaves the JSON in $PGC_TMP/out.json
verify_once() {
	v0=$(now_ms)
	/usr/bin/time -v "$PGCUTOVER" -c "$cfg" verify --json >"$PGC_TMP/out.json" 2>"$PGC_TMP/time.txt"
	v1=$(now_ms)
	rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$PGC_TMP/time.txt")
	echo "$((v1 - v0)) $rss"
}

base_once >/dev/null   # warm both caches
verify_once >/dev/null
base=$(for i in $(seq "$RUNS"); do base_once; done | median)
ref=$(for i in $(seq "$RUNS"); do base_once "$REF_SQL"; done | median)
: >"$PGC_TMP/ident"
for i in $(seq "$RUNS"); do verify_once >>"$PGC_TMP/ident"; done
ident=$(cut -d' ' -f1 "$PGC_TMP/ident" | median)
rss1=$(cut -d' ' -f2 "$PGC_TMP/ident" | sort -n | tail -1)
eq=$(jq -r .equal "$PGC_TMP/out.json")
[ "$eq" = true ] || { echo "verify.sh: identical tables not found equal" >&2; cat "$PGC_TMP/out.json" >&2; exit 1; }

pg_psql dst "update t set b = 'changed' where id in (17, $((ROWS / 3)), $((ROWS / 2)));
             update t set d = d + 1 where id = $((ROWS - 5));
             delete from t where id in (333, $((ROWS * 2 / 3)), $((ROWS - 100)));
             insert into t values ($((ROWS + 1)), 1, 'new', now(), 1), ($((ROWS + 50)), 2, 'new', now(), 2),
                                  ($((ROWS * 2)), 3, 'new', now(), 3)"
: >"$PGC_TMP/diff"
for i in $(seq "$RUNS"); do verify_once >>"$PGC_TMP/diff"; done
diff=$(cut -d' ' -f1 "$PGC_TMP/diff" | median)
rss2=$(cut -d' ' -f2 "$PGC_TMP/diff" | sort -n | tail -1)
found=$(jq '.tables[0] | .missing_n + .extra_n + .changed_n' "$PGC_TMP/out.json")

echo "rows:                  $ROWS (5 columns), $RUNS runs each, median; $(nproc) cores"
echo "base (whole-table hash, both servers at once): ${base} ms"
echo "ref (sum(hashtext(t::text)), both at once): ${ref} ms"
echo "verify, identical:     ${ident} ms (equal: $eq)"
echo "verify, 10 differences: ${diff} ms (found: $found of 10)"
awk -v a="$ident" -v b="$base" 'BEGIN { printf "ident/base:            %.2f (goal <= 1.5)\n", a / b }'
awk -v a="$diff" -v b="$ident" 'BEGIN { printf "diff/ident:            %.2f (goal <= 2)\n", a / b }'
awk -v a="$rss1" -v b="$rss2" 'BEGIN { printf "client max RSS:        %.1f MB identical, %.1f MB with differences (goal < 50)\n", a / 1024, b / 1024 }'
if command -v tmux >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	echo "console while verify runs in it:"
	COUNTS_FROM="$cfg" VERIFY=1 PGCUTOVER="$PGCUTOVER" sh "$top_srcdir/bench/console.sh" 2000 200 2>&1 |
		grep -E 'verify|cursor|tick|in-process|less|load average|RSS'
fi
