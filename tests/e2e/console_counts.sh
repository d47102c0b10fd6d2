#!/bin/sh
# console_counts.sh -- the console's live row counts against two real
# clusters: the side pane's summary and verdicts, r picks up rows inserted
# on the target, e asks for count(*) of every table, + and - change the
# refresh interval shown in the pane title, a differing table gets a detail
# line with its delta; a phase gated on counts ("gates") is refused while a
# table differs and completed only with an override reason, which
# `log --json` records; once the counts match the gate passes on its own;
# p shows schema and sequence parity, flagging a sequence behind max(id);
# a monitor shows the recorded counts, and with --live counts itself
# without recording.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1

N_CLIENTS=40
N_ORDERS=90
MISSING=25
pg_psql src "
	create table clients(id serial primary key, name text);
	create table orders(id serial primary key, client int);
	insert into clients(name) select 'c' || g from generate_series(1, $N_CLIENTS) g;
	insert into orders(client) select g % 7 from generate_series(1, $N_ORDERS) g;"
pg_psql dst "
	create table clients(id serial primary key, name text);
	create table orders(id serial primary key, client int);
	insert into clients(name) select 'c' || g from generate_series(1, $N_CLIENTS) g;
	insert into orders(client) select g % 7 from generate_series(1, $((N_ORDERS - MISSING))) g;"

cat > "$E2E_DIR/runbook.md" <<'RB'
# Shop DB move

## Phase 0: Access

- [x] Jump host provisioned

## Phase 1: Copy

- [ ] Copy the data
- [ ] Check the counts
RB
cat > "$CFG" <<EOF
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "clients"}, {"name": "orders"}],
  "gates": ["1"]
}
EOF

E2E_COLS=150 E2E_ROWS=40 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
wait_screen 'Counts live/15s' 20; ok $? "pane title says the live counts and the 15 s interval"
wait_screen 'orders +'"$N_ORDERS"' +'"$((N_ORDERS - MISSING))"' DIFF' 20
ok $? "orders: both figures and DIFF"
wait_screen 'clients +'"$N_CLIENTS"' +'"$N_CLIENTS"' =' 5; ok $? "clients: both figures and ="
like "$(screen)" '1 differ · 1 equal' "summary line counts the tables that differ and that match"
like "$(screen)" "-$MISSING [0-9.]+%" "a differing table has a detail line with its delta and %"

# r: a refresh now picks up rows inserted on the target
ADDED=10
pg_psql dst "insert into orders(client) select 1 from generate_series(1, $ADDED) g;"
keys r
wait_screen 'counts refresh asked' 5; ok $? "r: the status line says a refresh was asked"
wait_screen 'orders +'"$N_ORDERS"' +'"$((N_ORDERS - MISSING + ADDED))"' DIFF' 10
ok $? "r: the new target figure is shown"

# e: exact counts of every table, recorded as a new exact snapshot
last_id=$(pgc log --json | jq '[.[].id] | max')
keys e
wait_screen 'exact counts' 5; ok $? "e: exact counts asked"
exact_after() { pgc log --json | jq --argjson l "$last_id" '[.[] | select(.kind == "counts" and .id > $l and .payload.exact == true)] | length'; }
end=$(( $(date +%s) + 15 ))
while [ "$(exact_after)" -eq 0 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
[ "$(exact_after)" -gt 0 ]; ok $? "e: an exact snapshot is recorded"

# > and <: the interval (+ and - step the load budget since issue 20)
keys '>'
wait_screen 'Counts live/30s' 5; ok $? ">: 30 s"
keys '>' '>' '>' '>'
wait_screen 'Counts live/off' 5; ok $? "> to the end: automatic refresh off"
wait_screen 'automatic counts refresh off' 5; ok $? "status line says refresh is off"
keys '<' '<' '<' '<' '<'
wait_screen 'Counts live/5s' 5; ok $? "<: back down to 5 s"

# p: schema and sequence parity, run in the background; a sequence left
# behind max(id) on the target is flagged
pg_psql dst "select setval('orders_id_seq', 1);" >/dev/null
keys p
wait_screen 'Schema and sequence parity' 5; ok $? "p opens the parity overlay"
wait_screen 'public\.orders_id_seq +last_value 1, max [0-9]+ +BEHIND' 30; ok $? "parity: the target's orders sequence is BEHIND"
wait_screen 'schema: equal; 1 SEQUENCE BEHIND OR UNCHECKED' 30; ok $? "parity: the check's verdict is shown"
like "$(screen)" 'tables +2 +2' "parity: table counts side by side"
keys Escape
wait_screen_not 'Schema and sequence parity' 5; ok $? "Esc closes the overlay"
pg_psql dst "select setval('orders_id_seq', (select max(id) from orders));" >/dev/null

# the gate: phase 1 cannot be completed while orders differ
keys 1
wait_screen 'Phase 1 · Copy'; ok $? "phase 1 selected"
keys Space
wait_screen '\[x\] Copy the data'; ok $? "tick the first item"
keys j Space
wait_screen 'gated on row counts: orders' 10; ok $? "ticking the last item asks: the phase is gated on counts"
keys Escape
wait_screen_not 'gated on row counts' 5
is "$(pgc status --json | jq -r '.phases[] | select(.id == "1") | .completed_at // "open"')" open \
	"Esc: the phase is not recorded complete"
is "$(pgc log --json | jq '[.[] | select((.kind == "tick" or .kind == "phase_override") and .phase == "1")] | length')" 1 \
	"Esc recorded nothing: only the first tick, no override (the last tick waits for the reason)"
keys Space
wait_screen 'gated on row counts: orders' 10; ok $? "Space on the item asks again"
text "orders short by design: archive rows stay behind"
keys Enter
wait_screen 'phase complete: 1' 10; ok $? "with a reason the tick and the phase are recorded"
ov=$(pgc log --json | jq -r '[.[] | select(.kind == "phase_override" and .phase == "1")][-1].payload | "\(.reason)|\(.gate)"')
like "$ov" '^orders short by design: archive rows stay behind\|orders: ' "log --json: the override's reason and the gate it overrode"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_complete" and .phase == "1")][-1].payload.gate_overridden | test("orders")')" true \
	"log --json: phase_complete says the gate was overridden"
keys q
is "$(wait_exit 15)" 0 "quit"

# once the target catches up the gate passes with no question
pg_psql dst "insert into orders(client) select 1 from generate_series(1, $((MISSING - ADDED))) g;"
pgc untick 1.2 --reason "recount after the catch-up" >/dev/null
pgc counts --exact >/dev/null
E2E_COLS=150 E2E_ROWS=40 console_start
wait_screen 'DRIVER' 20
keys 1
wait_screen 'Phase 1 · Copy'
keys /
text "Check the counts"
keys Enter
wait_screen 'found in 1\.2'
keys Space
wait_screen 'phase complete: 1' 10; ok $? "counts matched: ticking the last item completes the gated phase"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_complete" and .phase == "1")][-1].payload.gate')" "2/2 tables match" \
	"log --json: phase_complete records the gate it met"
keys q
wait_exit 15 >/dev/null

# monitor: the driver's recorded counts; with --live it counts itself and
# records nothing
n_counts=$(pgc log --json | jq '[.[] | select(.kind == "counts")] | length')
monitor() {
	pane_run "env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' monitor $*"
}
monitor
wait_screen 'MONITOR' 10; ok $? "monitor opens"
wait_screen 'Row counts' 5; ok $? "monitor: the recorded counts, no live counting"
keys r
wait_screen 'MONITOR mode: no live counts here' 5; ok $? "monitor: r says there are no live counts without --live"
keys q
wait_exit 10 >/dev/null
monitor --live
wait_screen 'MONITOR' 10
wait_screen 'Counts live/15s' 10; ok $? "monitor --live counts itself"
wait_screen 'orders +'"$N_ORDERS"' +'"$N_ORDERS"' =' 10; ok $? "monitor --live: live figures"
keys q
is "$(wait_exit 10)" 0 "monitor --live quits"
is "$(pgc log --json | jq '[.[] | select(.kind == "counts")] | length')" "$n_counts" "monitor --live recorded nothing"

done_testing
