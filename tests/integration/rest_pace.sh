#!/bin/sh
# rest_pace.sh -- a REST source at scale (issue 20): a request's timeout
# runs from when it is sent, not while it waits behind pool_size others;
# `count: planned` sends one request per table; an exact REST figure is
# compared with an exact PostgreSQL one, never with an estimate as if both
# were exact.  A PostgREST-compatible server (tests/lib/postgrest-mini.py)
# answers over loopback from a real cluster; the target is a second one.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v jq >/dev/null 2>&1 || skip_all "jq is needed to read --json output"

pg_start src
pg_start dst
N_SLOW=6
SLOW_S=0.6
TIMEOUT_MS=1500     # > one slow answer, < all of them one after another
i=1
sql=""
while [ $i -le $N_SLOW ]; do
	sql="$sql create table slow$i(id int); insert into slow$i select generate_series(1, $i);"
	i=$((i + 1))
done
sql="$sql create table big(id int); insert into big select generate_series(1, 200000);"
pg_psql src "$sql" >/dev/null
pg_psql dst "$sql" >/dev/null
pg_psql src "insert into big select generate_series(1, 40)" >/dev/null
pg_psql dst "insert into big select generate_series(1, 40)" >/dev/null
# The target's estimate of big: what ANALYZE saw before the last 40 rows
# (its live-tuple counter reset), so it is 40 short of count(*).
pg_psql dst "delete from big where id > 199960 and id <= 200000" >/dev/null
pg_psql dst "analyze big" >/dev/null
pg_psql dst "insert into big select generate_series(199961, 200000)" >/dev/null
pg_psql dst "select pg_stat_reset_single_table_counters('big'::regclass)" >/dev/null

SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
slow_args=""
i=1
while [ $i -le $N_SLOW ]; do slow_args="$slow_args --slow-table slow$i"; i=$((i + 1)); done
rest_start api src $slow_args --slow-seconds $SLOW_S
ok $? "PostgREST test server starts on loopback"

printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
write_config() {  # write_config FILE TABLES_JSON POOL [COUNT_MODE]
	_count=""
	[ -n "${4:-}" ] && _count=", \"count\": \"$4\""
	cat >"$1" <<EOF
{"runbook": "runbook.md",
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY"$_count}},
 "target": "$PG_DST_CONNINFO", "tables": [$2], "pool_size": $3,
 "statement_timeout_ms": $TIMEOUT_MS}
EOF
}
slow_json=""
i=1
while [ $i -le $N_SLOW ]; do
	slow_json="$slow_json${slow_json:+, }{\"name\": \"slow$i\"}"
	i=$((i + 1))
done

# 1. Queued requests: one at a time, each answer takes SLOW_S, the queue
# takes N_SLOW * SLOW_S > TIMEOUT_MS; none may time out waiting.
cfg=$PGC_TMP/slow.json
write_config "$cfg" "$slow_json" 1
t0=$(date +%s%3N)
out=$("$PGCUTOVER" -c "$cfg" counts --exact --json 2>"$PGC_TMP/err"); rc=$?
t1=$(date +%s%3N)
is "$rc" 0 "$N_SLOW slow tables behind pool_size 1: every one answered, exit 0"
is "$(echo "$out" | jq '[.tables[] | select(.match and .exact)] | length')" "$N_SLOW" \
	"every table exact and equal, none 'no answer within $TIMEOUT_MS ms'"
[ $((t1 - t0)) -ge $((N_SLOW * 500)) ]
ok $? "the requests went one at a time ($((t1 - t0)) ms for $N_SLOW answers of ${SLOW_S} s)"
log=$PGC_TMP/rest-api/requests.log
# A request that really gets no answer in time still times out.
write_config "$cfg" '{"name": "slow1"}' 1
sed -i "s/\"statement_timeout_ms\": $TIMEOUT_MS/\"statement_timeout_ms\": 300/" "$cfg"
"$PGCUTOVER" -c "$cfg" counts --exact --json >/dev/null 2>&1; rc=$?
isnt "$rc" 0 "a request not answered within its own timeout still fails"
isnt "$rc" 1 "and that is not reported as a difference"

# 2. count: planned, an estimates refresh: one request per table.
cfg=$PGC_TMP/planned.json
write_config "$cfg" '{"name": "slow1"}, {"name": "slow2"}, {"name": "slow3"}, {"name": "big"}' 4 planned
sleep 1   # the timed-out request above is still answered (and logged) by the server
: >"$log"
out=$("$PGCUTOVER" -c "$cfg" counts --json 2>"$PGC_TMP/err")
# The server logs a request after its answer is sent: wait for the lines.
i=0
while [ "$(grep -c '^HEAD ' "$log")" -lt 4 ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5   # and for any request beyond them
is "$(grep -c '^HEAD ' "$log")" 4 "count planned: 4 tables, 4 requests"
is "$(grep -c 'prefer=count=planned' "$log")" 4 "each of them count=planned"
is "$(echo "$out" | jq '[.tables[] | select(.exact)] | length')" 0 \
	"planned figures are shown as estimates on both sides (like with like)"

# 3. An exact REST figure beside a PostgreSQL estimate 40 rows short.
est=$(pg_psql dst "select reltuples::bigint from pg_class where relname = 'big'")
n=$(pg_psql dst "select count(*) from big")
[ "$est" -ne "$n" ]
ok $? "the target's estimate ($est) differs from its count(*) ($n)"
cfg=$PGC_TMP/exact.json
write_config "$cfg" '{"name": "big"}' 4
out=$("$PGCUTOVER" -c "$cfg" counts --json 2>"$PGC_TMP/err"); rc=$?
is "$rc" 0 "identical data, REST exact source, estimates refresh: exit 0, not a false difference"
is "$(echo "$out" | jq -c '.tables[0] | [.source, .target, .exact, .match]')" "[$n,$n,true,true]" \
	"the target was counted exactly to compare with the exact REST figure"
done_testing
