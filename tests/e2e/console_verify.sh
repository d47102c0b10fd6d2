#!/bin/sh
# console_verify.sh -- V opens the row-level verify screen on real
# clusters: each table's progress (state, bar, rows, rows/s, ETA) while
# the run goes on, then the result with what differs (the changed row and
# its column) and the summary; the run is recorded like `pgcutover
# verify`'s.  V again starts a new run; Esc cancels it while a slow
# table's query is in flight -- the screen says cancelled, the console
# keeps answering keys and the server's query is gone -- and a second Esc
# closes the screen.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
SLOW_S=6
for side in src dst; do
	pg_psql "$side" "create table items(id int primary key, label text);
	                 insert into items select g, 'item ' || g from generate_series(1, 2000) g;
	                 create view slow as select 1 as z from pg_sleep($SLOW_S);" >/dev/null
done
pg_psql dst "update items set label = 'X' where id = 1717" >/dev/null
printf '# Check\n\n## Phase 1: Copy\n\n- [ ] copy\n' > "$E2E_DIR/runbook.md"
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "items"}, {"name": "slow"}], "statement_timeout_ms": 120000}
JSON
# a pgcutover query on the slow view, running on the source
running() {
	pg_psql src "select count(*) from pg_stat_activity
	             where application_name = 'pgcutover' and state = 'active' and query ilike '%slow%'" 2>/dev/null
}

console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys V
wait_screen 'Row-level verify' 5; ok $? "V opens the verify screen"
wait_screen 'verifying\.\.\. 1/2 tables done' 10; ok $? "progress: one table done, one running"
wait_screen 'items +mismatched +\[#+\] 100% +2000 ' 5; ok $? "items: state, a full bar and its rows while the other runs"
wait_screen 'slow +checking' 5; ok $? "slow: still checking"
wait_screen '1/2 tables equal; items: 0 missing, 0 extra, 1 changed' $((SLOW_S + 10)); ok $? "the result: the summary"
wait_screen 'items: changed 1717\(label\)' 2; ok $? "the result: the changed row and its column"
is "$(pgc log --json | jq '[.[] | select(.kind == "verify")] | length')" 1 "the run is recorded"

keys V
wait_screen 'verifying\.\.\.' 5; ok $? "V again starts a new run"
wait_screen 'V hide +Esc cancel' 2; ok $? "while it runs the screen offers V hide and Esc cancel"
keys V
wait_screen_not 'Row-level verify' 5; ok $? "V hides the screen"
wait_screen 'verify goes on in the background' 2; ok $? "...and says the run goes on"
keys V
wait_screen 'verifying\.\.\.' 5; ok $? "V shows the run again, still going"
end=$(( $(date +%s) + 10 ))
while [ "$(running)" = 0 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(running)" 1 "the slow table's query runs on the source"
keys Escape
wait_screen 'slow +cancelled' 5; ok $? "Esc cancels the run: the table says cancelled"
end=$(( $(date +%s) + 10 ))
while [ "$(running)" != 0 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(running)" 0 "the server's query is cancelled, well before it would end"
wait_screen 'Row-level verify' 1; ok $? "the screen stays, showing what was cancelled"
keys Escape
wait_screen_not 'Row-level verify' 5; ok $? "a second Esc closes it"
keys '?'
wait_screen 'Keys' 3; ok $? "the console answers keys"
keys Escape
keys q
is "$(wait_exit 20)" 0 "quit"
done_testing
