#!/bin/sh
# console_counts_budget.sh -- the console is kind to production (issue 20):
# the counts pane's title shows the load budget of exact re-counts (10 % by
# default) and + / - step it; periodic refreshes are estimates plus exact
# re-counts within the budget; a table whose write counters have not moved
# since its last exact count (after the stats delay, shortened here through
# stats_delay_s) keeps that count, shown "exact, unchanged since HH:MM" in
# the full-screen view (C); a write ends that; such kept counts are
# recorded as estimates, so a gate needs fresh exact counts; < and > step
# the refresh interval.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql $side "create table quiet(id int); insert into quiet select generate_series(1, 30);
		create table busy(id int); insert into busy select generate_series(1, 20);" >/dev/null
done

cat > "$E2E_DIR/runbook.md" <<'RB'
# Ledger DB move

## Phase 1: Copy

- [ ] Copy the data
RB
cat > "$CFG" <<EOF2
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "quiet"}, {"name": "busy"}],
  "stats_delay_s": 2
}
EOF2

E2E_COLS=150 E2E_ROWS=40 console_start
wait_screen 'Counts live/15s 10%' 20; ok $? "the pane's title shows the default budget, 10%"
keys +
wait_screen 'Counts live/15s 20%' 5; ok $? "+: 20%"
wait_screen 'at most 20% of each server' 5; ok $? "the status line says what it means"
keys - - -
wait_screen 'Counts live/15s 0%' 5; ok $? "- three times: 0%"
wait_screen 'estimates only' 5; ok $? "0%: estimates only"
keys + +
wait_screen 'Counts live/15s 10%' 5; ok $? "+ twice: back to 10%"
keys '<'
wait_screen 'Counts live/5s 10%' 5; ok $? "<: the interval steps to 5 s"

# After the stats delay an unwritten table keeps its exact count.
keys C
wait_screen 'exact re-counts 10% of each server' 5; ok $? "C: the title says the budget"
wait_screen 'quiet .*exact, unchanged since [0-9]{2}:[0-9]{2}' 30
ok $? "quiet: exact, unchanged since its last count"
wait_screen 'busy .*exact, unchanged since [0-9]{2}:[0-9]{2}' 30
ok $? "busy: the same while nobody writes it"
last_counts() { pgc log --json | jq -c '[.[] | select(.kind == "counts")] | last | .payload.tables[] | select(.table == "quiet") | .exact'; }
is "$(last_counts)" "false" "a kept count is recorded as no fresh exact count (a gate needs e)"

pg_psql dst "insert into busy values (21)" >/dev/null
wait_screen 'busy +20 +21 +\+1 +exact ' 30; ok $? "busy written: counted again within the budget, +1"
like "$(screen | grep 'quiet ')" 'unchanged since' "quiet still keeps its count"
unlike "$(screen | grep 'busy ')" 'unchanged since' "busy no longer 'unchanged'"
done_testing
