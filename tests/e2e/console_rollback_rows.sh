#!/bin/sh
# console_rollback_rows.sh -- R past the point of no return in the console
# says how many rows the target gained since it was ticked, from the counts
# recorded (two real clusters): exact counts before the tick and after rows
# were written on the target give the figure; rows written while the
# console is open count once `e` records a new snapshot; the rollback,
# confirmed twice, records the same figure in phase_rolled_back.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
N_ORDERS=40
for side in src dst; do
	pg_psql "$side" "create table orders(id serial primary key); insert into orders select from generate_series(1, $N_ORDERS);"
done
cat >"$E2E_DIR/runbook.md" <<'RB'
# Move

## Phase 5: Production Cutover

- [ ] Start all services on the new database

### 5.4 Rollback (if needed)

- [ ] Point the app back
  ```sh
  echo "app pointed back"
  ```
RB
cat >"$CFG" <<JSON
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "orders"}],
  "point_of_no_return": "5.1"
}
JSON

pgc note "cutover night" >/dev/null   # counts record only into a state that exists
pgc counts --exact >/dev/null
pgc tick 5.1 >/dev/null
GAINED=7
pg_psql dst "insert into orders select from generate_series(1, $GAINED);"
pgc counts --exact >/dev/null

E2E_COLS=150 E2E_ROWS=40 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 5
wait_screen 'Phase 5'
keys Tab Tab R
wait_screen 'type rollback to roll back anyway' 5; ok $? "R past the point of no return wants rollback typed"
like "$(screen)" "The target has gained $GAINED rows since" "the rows the target gained since the tick, from the recorded counts"
like "$(screen)" "target gained $GAINED rows since, not on the source; Esc: nothing is run" "and in the confirmation prompt, whole"
keys Escape Escape

# rows written while the console is open count once e records them
MORE=5
pg_psql dst "insert into orders select from generate_series(1, $MORE);"
last_id=$(pgc log --json | jq '[.[].id] | max')
keys e
end=$(( $(date +%s) + 15 ))
until [ "$(pgc log --json | jq --argjson l "$last_id" '[.[] | select(.kind == "counts" and .id > $l and .payload.exact == true)] | length')" -gt 0 ] ||
	[ "$(date +%s)" -ge "$end" ]; do sleep 0.2; done
keys R   # the rail still has the focus
wait_screen 'type rollback to roll back anyway' 5
like "$(screen)" "The target has gained $((GAINED + MORE)) rows since" "e: the new exact counts raise the figure"
text rollback
keys Enter
wait_screen 'type the phase id or yes' 5; ok $? "then the phase id"
text 5
keys Enter
wait_screen 'phase 5 rolled back' 20; ok $? "rolled back"
like "$(screen)" '│ app pointed back +│' "the rollback step's output in the pane"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_rolled_back")][-1].payload | "\(.past_point_of_no_return) \(.rows_gained)"')" \
	"true $((GAINED + MORE))" "log --json: phase_rolled_back past the point of no return, with the rows gained"
keys Escape
wait_screen '[0-9]+/[0-9]+ R rolled back' 5; ok $? "the rail shows phase 5 rolled back"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "5") | "\(.status) \(.done)"')" "rolled_back 0" \
	"status --json: phase 5 rolled back, reopened"
keys q
is "$(wait_exit 15)" 0 "quit"
done_testing
