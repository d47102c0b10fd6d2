#!/bin/sh
# verify-rest.sh -- what `pgcutover verify` costs with a Supabase/PostgREST
# source, against the floor of just reading the same pages.
#
#   ROWS=200000 PGCUTOVER=_build/pgcutover sh bench/verify-rest.sh
#
# Starts two throw-away clusters (tests/lib/pg.sh), loads the same ROWS rows
# of a 5-column table (bigint key, int, text, timestamptz, numeric) into
# both, serves the source through tests/lib/postgrest-mini.py (max-rows
# 1000, as Supabase's default), then measures (median of RUNS):
#   fetch  the floor: curl reading every keyset page of the table's
#          columns as text (select=...::text, order=id.asc, id=gt.<last>,
#          Range 0-999), one after the other, the last key grepped from
#          each -- what any client must pay the API, nothing compared
#   ident  `pgcutover verify --table t` on identical data (process start to
#          exit): the same pages, hashed, plus the target's ranges over SQL,
#          and its client max RSS (/usr/bin/time -v)
#   diff   the same after 10 scattered differences on the target: all found
# and prints ident/fetch, diff/ident and the RSS.  The floor starts a curl
# and two greps per page; verify keeps one connection and overlaps the
# target's range queries with the next page, so ident/fetch may be below 1.
# The test server starts a
# psql per page, so the API's own cost dominates: the ratio says what
# pgcutover adds on top of reading the pages, not how fast a real
# PostgREST is.  Needs psql, python3 (the test server), curl, jq and /usr/bin/time.
set -u
ROWS=${ROWS:-200000}
RUNS=${RUNS:-3}
PGCUTOVER=${PGCUTOVER:-_build/pgcutover}
case "$PGCUTOVER" in /*) ;; *) PGCUTOVER=$PWD/$PGCUTOVER ;; esac
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
for tool in jq python3 curl /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || { echo "verify-rest.sh: $tool is needed" >&2; exit 2; }
done
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
pg_start src || exit 1
pg_start dst || exit 1
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for side in src dst; do
	pg_psql "$side" "create table t(id bigint primary key, a int, b text, c timestamptz, d numeric(12,2));
	                 insert into t select g, g % 1000, 'row ' || g, timestamptz '2024-01-01' + g * interval '1 second',
	                        g / 100.0 from generate_series(1, $ROWS) g" && pg_psql "$side" "vacuum analyze t" &
done
wait
rest_start api src --max-rows 1000 --lifetime 3600 || exit 1

# the floor: curl per page (one process each), the last key read from the
# page's text (json_agg renders "id" as the last member of each object)
cat >"$PGC_TMP/fetch.sh" <<'SH'
sel=$(printf 'a::text,b::text,c::text,d::text,id::text' | sed 's/,/%2C/g; s/:/%3A/g')
last="" rows=0
while :; do
	q="select=$sel&order=id.asc${last:+&id=gt.$last}"
	curl -sf -o "$2" -H "apikey: $SUPABASE_KEY" -H "Accept: application/json" \
		-H "Range-Unit: items" -H "Range: 0-999" "$1/rest/v1/t?$q" || exit 1
	n=$(grep -o '"id" *: *"[0-9]*"' "$2" | wc -l)
	[ "$n" -eq 0 ] && break
	rows=$((rows + n))
	last=$(grep -o '"id" *: *"[0-9]*"' "$2" | tail -1 | tr -dc 0-9)
done
echo "$rows"
SH
fetch_once() {
	f0=$(now_ms)
	n=$(sh "$PGC_TMP/fetch.sh" "$REST_API_URL" "$PGC_TMP/page.json") || { echo "verify-rest.sh: fetch failed" >&2; exit 1; }
	f1=$(now_ms)
	[ "$n" = "$ROWS" ] || { echo "verify-rest.sh: fetched $n rows, not $ROWS" >&2; exit 1; }
	echo $((f1 - f0))
}
cfg="$PGC_TMP/pgcutover.json"
printf '# Bench\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY"}},
 "target": "$PG_DST_CONNINFO", "tables": [{"name": "t"}], "statement_timeout_ms": 0}
JSON
verify_once() {
	v0=$(now_ms)
	/usr/bin/time -v "$PGCUTOVER" -c "$cfg" verify --json >"$PGC_TMP/out.json" 2>"$PGC_TMP/time.txt"
	v1=$(now_ms)
	rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$PGC_TMP/time.txt")
	echo "$((v1 - v0)) $rss"
}

fetch_once >/dev/null   # warm caches
fetch=$(for i in $(seq "$RUNS"); do fetch_once; done | median)
: >"$PGC_TMP/ident"
for i in $(seq "$RUNS"); do verify_once >>"$PGC_TMP/ident"; done
ident=$(cut -d' ' -f1 "$PGC_TMP/ident" | median)
rss1=$(cut -d' ' -f2 "$PGC_TMP/ident" | sort -n | tail -1)
eq=$(jq -r .equal "$PGC_TMP/out.json")
[ "$eq" = true ] || { echo "verify-rest.sh: identical tables not found equal" >&2; cat "$PGC_TMP/out.json" >&2; exit 1; }
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

echo "rows:                   $ROWS (5 columns), pages of 1000, $RUNS runs each, median; $(nproc) cores"
echo "fetch (pages only):     ${fetch} ms"
echo "verify, identical:      ${ident} ms (equal: $eq)"
echo "verify, 10 differences: ${diff} ms (found: $found of 10)"
awk -v a="$ident" -v b="$fetch" 'BEGIN { printf "ident/fetch:            %.2f\n", a / b }'
awk -v a="$diff" -v b="$ident" 'BEGIN { printf "diff/ident:             %.2f\n", a / b }'
awk -v a="$ident" -v r="$ROWS" 'BEGIN { printf "rows/s:                 %.0f\n", r / (a / 1000) }'
awk -v a="$rss1" -v b="$rss2" 'BEGIN { printf "client max RSS:         %.1f MB identical, %.1f MB with differences\n", a / 1024, b / 1024 }'
