#!/bin/sh
# console_counts_cancel.sh -- asking again cancels what is in flight: a
# table whose count(*) takes a minute (a view over pg_sleep) is being
# counted on a real cluster; r makes the console cancel that query (the
# server's pg_stat_activity shows it gone within seconds, replaced by the
# new refresh's) while the console keeps answering keys; quitting cancels
# the last one too, so nothing of pgcutover's is left running.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql "$side" "create view slow as select 1 as z from pg_sleep(60);" >/dev/null
done
printf '# Slow\n\n## Phase 1: Copy\n\n- [ ] copy\n' > "$E2E_DIR/runbook.md"
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "slow"}], "statement_timeout_ms": 120000}
JSON
# the pgcutover count of the view running on the source: "pid start"
running() {
	pg_psql src "select pid || ' ' || extract(epoch from query_start) from pg_stat_activity
	             where application_name = 'pgcutover' and state = 'active' and query ilike '%slow%'" 2>/dev/null | head -1
}
wait_running() {
	_end=$(( $(date +%s) + ${2:-15} ))
	while :; do
		cur=$(running)
		[ -n "$cur" ] && [ "$cur" != "$1" ] && { echo "$cur"; return 0; }
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
}

console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
first=$(wait_running "" 20); ok $? "the count of the slow view runs on the source ($first)"
keys r
second=$(wait_running "$first" 10); ok $? "r: the query in flight is cancelled and a new one runs ($second)"
keys '?'
wait_screen 'Keys' 2; ok $? "the console answers keys meanwhile"
keys Escape
keys q
is "$(wait_exit 20)" 0 "quit"
end=$(( $(date +%s) + 10 ))
while [ -n "$(running)" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(running)" "" "after quitting no pgcutover query is left running"
done_testing
