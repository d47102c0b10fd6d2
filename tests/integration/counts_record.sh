#!/bin/sh
# counts_record.sh -- every completed `pgcutover counts` snapshot is one
# EV_COUNTS event in the state (not one per table), with the figures the
# command printed; --watch repeats and prints one JSON object per refresh;
# interrupting a count cancels the query on the server instead of leaving
# it running.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

N_A=11
N_B=23
for side in src dst; do
	pg_psql "$side" "create table a(id int primary key); create table b(id int primary key);
	                 insert into a select generate_series(1, $N_A); insert into b select generate_series(1, $N_B);
	                 create view slow as select g from generate_series(1, 100) g where pg_sleep(0.1) is not null"
done
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<EOF
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "a"}, {"name": "b"}]}
EOF

# Without a state file nothing is created.
"$PGCUTOVER" -c "$cfg" counts --exact >/dev/null 2>&1
is "$?" 0 "counts without a state file"
[ ! -e "$PGC_TMP/state.db" ]; ok $? "counts does not create a state file"

"$PGCUTOVER" -c "$cfg" --operator tester note "starting the check" >/dev/null 2>&1
[ -e "$PGC_TMP/state.db" ]; ok $? "state created by another command"

"$PGCUTOVER" -c "$cfg" --operator tester counts --exact >/dev/null 2>&1
is "$?" 0 "first snapshot matches"
pg_psql dst "insert into b values ($((N_B + 1)))"
"$PGCUTOVER" -c "$cfg" --operator tester counts --exact >/dev/null 2>&1
is "$?" 1 "second snapshot differs"

log=$("$PGCUTOVER" -c "$cfg" log --json)
counts=$(printf '%s' "$log" | jq -c '[.[] | select(.kind == "counts")]')
is "$(printf '%s' "$counts" | jq length)" 2 "one event per snapshot"
payload1=$(printf '%s' "$counts" | jq -c '.[0].payload | if type == "string" then fromjson else . end')
payload2=$(printf '%s' "$counts" | jq -c '.[1].payload | if type == "string" then fromjson else . end')
is "$(printf '%s' "$payload1" | jq -r '"\(.match) \(.tables | length)"')" "true 2" "first event: all tables, match"
is "$(printf '%s' "$payload2" | jq -r '.match')" false "second event: mismatch recorded"
is "$(printf '%s' "$payload2" | jq -r '.tables[] | select(.table == "b") | "\(.source) \(.target) \(.state)"')" \
	"$N_B $((N_B + 1)) mismatched" "second event carries the figures"
is "$(printf '%s' "$counts" | jq -r '.[1].operator')" tester "recorded with the operator"

# --watch: one JSON object per refresh, following changes.
: >"$PGC_TMP/watch.out"   # exists before the loop below reads it
"$PGCUTOVER" -c "$cfg" counts --json --exact --watch 1 >"$PGC_TMP/watch.out" 2>/dev/null &
pid=$!
i=0
while [ $i -lt 200 ] && [ "$(wc -l <"$PGC_TMP/watch.out")" -lt 1 ]; do sleep 0.1; i=$((i + 1)); done
pg_psql src "insert into b values ($((N_B + 1)))"
i=0
while [ $i -lt 200 ] && [ "$(wc -l <"$PGC_TMP/watch.out")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
lines=$(wc -l <"$PGC_TMP/watch.out")
[ "$lines" -ge 2 ]; ok $? "--watch printed a line per refresh ($lines)"
is "$(head -1 "$PGC_TMP/watch.out" | jq -r .match)" false "first refresh: b differs"
is "$(sed -n 2p "$PGC_TMP/watch.out" | jq -r '"\(.match) \(.tables[1].source)"')" "true $((N_B + 1))" \
	"a later refresh sees the source catch up"

# Interrupting a count cancels it on the server.
cat >"$PGC_TMP/slow.json" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "slow"}]}
EOF
"$PGCUTOVER" -c "$PGC_TMP/slow.json" counts --exact >/dev/null 2>&1 &
pid=$!
i=0
active() { pg_psql src "select count(*) from pg_stat_activity where application_name = 'pgcutover'
                        and state = 'active' and query like '%count(*)%slow%'"; }
while [ $i -lt 200 ] && [ "$(active)" -lt 1 ]; do sleep 0.1; i=$((i + 1)); done
is "$(active)" 1 "the slow count runs on the source"
kill -INT $pid
wait $pid
is "$?" 130 "interrupted before a snapshot: exit 130"
# Without a cancel the backend would go on for the rest of its 10 s.
i=0
while [ $i -lt 40 ] && [ "$(active)" -ne 0 ]; do sleep 0.1; i=$((i + 1)); done
is "$(active)" 0 "the query was cancelled on the server (it would run 10 s)"

done_testing
