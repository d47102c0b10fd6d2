#!/bin/sh
# console_events_counts.sh -- the events pane is not flooded by the
# console's periodic counts snapshots (issue 13): a run of them is one line
# ("counts ×4, last 02:05: 1 differ, 1 equal") while the full log (L) keeps
# every one; a tick's line shows its item's text.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
pg_psql src "create table clients(id serial primary key); insert into clients select from generate_series(1, 30);
	create table orders(id serial primary key); insert into orders select from generate_series(1, 20);" >/dev/null
pg_psql dst "create table clients(id serial primary key); insert into clients select from generate_series(1, 30);
	create table orders(id serial primary key); insert into orders select from generate_series(1, 17);" >/dev/null

cat > "$E2E_DIR/runbook.md" <<'RB'
# Shop DB move

## Phase 0: Access

- [ ] Jump host provisioned for the night shift

## Phase 1: Copy

- [ ] Copy the data
RB
cat > "$CFG" <<EOF2
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "clients"}, {"name": "orders"}]
}
EOF2

n_counts() { pgc log --json | jq '[.[] | select(.kind == "counts")] | length'; }
# the strip's lines about counts (the strip is the screen's bottom rows)
strip_counts() { screen | tail -n 7 | grep -Ec '^ *[0-9:]+ +alice +counts'; }

E2E_COLS=100 E2E_ROWS=30 console_start
wait_screen 'Counts live/15s' 20; ok $? "console opens with live counts"
keys "<"
wait_screen 'Counts live/5s' 5; ok $? "<: the counts refresh every 5 s"
WANT=4
end=$(( $(date +%s) + 40 ))
while [ "$(n_counts)" -lt "$WANT" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
got=$(n_counts)
[ "$got" -ge "$WANT" ]; ok $? "at least $WANT counts snapshots recorded ($got)"
sleep 1
is "$(strip_counts)" 1 "the events pane shows one line for the run of counts snapshots"
like "$(screen | tail -n 7)" "counts ×[0-9]+, last [0-9]{2}:[0-9]{2}: 1 differ, 1 equal" \
	"the line says how many, the last one's time and its verdict"
n=$(screen | tail -n 7 | grep -Eo 'counts ×[0-9]+' | grep -Eo '[0-9]+$')
[ "${n:-0}" -ge "$WANT" ]; ok $? "... counting every snapshot of the run (×$n)"

# a tick shows its item's text
keys 0 Space
wait_screen 'tick +0\.1 "Jump host provisioned for the night shift"' 10
ok $? "a tick's line in the events pane shows the item's text"

# the full log keeps every snapshot
keys L
wait_screen 'Log' 5
n_log=$(screen | grep -Ec 'alice +counts')
[ "$n_log" -ge 2 ]; ok $? "L: the full log lists the snapshots one by one ($n_log shown)"
keys Escape q

done_testing
