#!/bin/sh
# console_goboard.sh -- the console's go/no-go board (B) against two real
# clusters: before a freeze is proven every input is red or stale, verify
# says "not configured", and the board is recorded (go_board); x and Space
# on the switch item are refused and ask for a reason (one confirmation
# style: type it, Enter), which is recorded with the board's values (x
# then runs it, as `pgcutover run --override` does); after
# `freeze check` proves the freeze and exact counts are taken, B shows GO.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql "$side" "create table clients(id serial primary key, name text);
	                 insert into clients(name) select 'c' || g from generate_series(1, 20) g" >/dev/null
done
cat > "$E2E_DIR/runbook.md" <<'RB'
# Shop DB move

## Phase 1: Cutover

- [ ] Stop the app
- [ ] Flip the app
  ```bash
  USE_NEW_DB=true
  ```
RB
printf 'USE_NEW_DB=false\n' >"$E2E_DIR/.env"
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": ["clients"], "env_file": ".env", "flags": ["USE_NEW_DB"], "freeze": {"quiet_s": 2}, "switch": {}}
JSON
nboards() { pgc log --json | jq '[.[] | select(.kind == "go_board")] | length'; }

console_start
wait_screen 'DRIVER' 15; ok $? "console opens"
keys B
wait_screen 'Go/no-go for the switch 1.2' 10; ok $? "B opens the board, naming the switch item"
wait_screen 'NO +freeze +- +no freeze check recorded' 10; ok $? "freeze: none recorded, red"
wait_screen '- +verify +- +not run \(optional' 5; ok $? "verify: none run, optional (grey)"
wait_screen 'NO-GO' 10; ok $? "no-go"
i=0
while [ "$(nboards)" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(nboards)" 1 "the board is recorded once its checks are done"
keys Escape
keys Down Down x
wait_screen '1.2 is the switch, gated on the go/no-go board: the board is red' 10; ok $? "x on the switch: the board is red, said"
wait_screen '1.2 is the switch and the board is not go: why run it anyway' 5; ok $? "...and a reason asked for, as run --override takes one"
keys Escape
wait_screen 'not run; nothing changed' 5; ok $? "Esc: nothing run"
grep -q '^USE_NEW_DB=false' "$E2E_DIR/.env"; ok $? "nothing run, the flag not flipped"
keys Escape
keys Space
wait_screen 'recorded with the board.s values; Esc: nothing is recorded' 10; ok $? "Space on the switch: refused, asks for a reason"
text "owner accepts the risk"
keys Enter
wait_screen 'ticked 1.2' 10; ok $? "ticked with the typed reason"
dec=$(pgc log --json | jq -c '[.[] | select(.kind == "go_decision")] | last')
is "$(printf '%s' "$dec" | jq -r '"\(.payload.decision)|\(.payload.reason)|\(.payload.board.inputs.verify.value)"')" \
	"override|owner accepts the risk|not run (optional: pgcutover verify, V)" "the decision, its reason and the board's values are recorded"

# x with a reason: the same decision as `pgcutover run --override REASON`
keys x
wait_screen 'why run it anyway' 10; ok $? "x on the switch again: a reason asked for"
text "rehearsal: flip anyway"
keys Enter
wait_screen 'type the item id or yes' 5; ok $? "then the usual typed confirmation"
text yes
keys Enter
i=0
while ! grep -q '^USE_NEW_DB=true' "$E2E_DIR/.env" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '^USE_NEW_DB=true' "$E2E_DIR/.env"; ok $? "the switch ran: the flag flipped"
dec=$(pgc log --json | jq -c '[.[] | select(.kind == "go_decision")] | last')
is "$(printf '%s' "$dec" | jq -r '"\(.payload.decision)|\(.payload.reason)"')" "override|rehearsal: flip anyway" \
	"the console's override recorded as the headless one is"
keys Escape
printf 'USE_NEW_DB=false\n' >"$E2E_DIR/.env"

pgc freeze check >/dev/null; is "$?" 0 "freeze proven (nothing writes)"
pgc counts --exact >/dev/null; is "$?" 0 "exact counts after the freeze"
keys B
wait_screen 'ok +counts' 10; ok $? "counts after the freeze: ok"
wait_screen 'ok +sequences' 15; ok $? "sequences checked"
wait_screen '[^-]GO( |$)' 15; ok $? "the board says GO"
keys Escape
keys q
wait_exit 10 >/dev/null
done_testing
