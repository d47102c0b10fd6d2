#!/bin/sh
# go_gate.sh -- the go/no-go board and the gate on the switch (issue 18
# item 4), on two real clusters: before any freeze the board is no-go and
# ticking the switch item (the cutover item that flips the .env flag) is
# refused; while a writer runs the freeze is not proven and the gate
# refuses; after the writer stops: freeze proven, sequences synced, `go`
# takes fresh exact counts and is go, verify grey until run, then its
# last recorded run (green when equal after the freeze, red on a difference); the
# tick is accepted and recorded with the board's values (go_decision); a
# no-go board with an override reason is accepted and the reason and the
# board are in the log and in `export --format md`; a postpone file holds
# the switch; a freeze check after the board makes it stale.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
PSQL=$(pg_psql_bin)
for side in src dst; do
	pg_psql "$side" "create table clients(id serial primary key, email text)" >/dev/null
done
# the app's role and grants on both sides (schema parity compares grants)
for side in src dst; do
	pg_psql "$side" "create role app_user login; grant insert, select on clients to app_user;
	             grant usage on sequence clients_id_seq to app_user" >/dev/null
done
pg_psql src "insert into clients(email) select 'c' || g from generate_series(1, 100) g" >/dev/null

cd "$PGC_TMP" || exit 1
printf 'USE_NEW_DB=false\n' >"$PGC_TMP/.env"
cat >"$PGC_TMP/runbook.md" <<'MD'
# Shop migration

## Phase 1: Cutover

- [ ] Stop all PM2 services
- [ ] Run final sync
- [ ] Switch the app to the new database
  ```bash
  USE_NEW_DB=true
  ```
- [ ] Start the services
MD
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "state": "$PGC_TMP/state.db", "tables": [{"name": "clients"}], "env_file": ".env",
 "flags": ["USE_NEW_DB"], "freeze": {"quiet_s": 3}, "switch": {"postpone_file": "$PGC_TMP/postpone"}}
JSON
P() { "$PGCUTOVER" -c "$cfg" "$@"; }
field() { printf '%s' "$1" | jq -r "$2"; }
copy_data() {
	pg_psql dst "truncate clients" >/dev/null
	pg_psql src "copy clients to stdout" | pg_psql dst "copy clients from stdin" >/dev/null
}

# With "switch": false the board is shown but gates nothing.
sed 's/"switch": {[^}]*}/"switch": false/; s/state\.db/nogate.db/' "$cfg" >"$PGC_TMP/nogate.json"
"$PGCUTOVER" -c "$PGC_TMP/nogate.json" go >/dev/null; is "$?" 1 "switch false: the board still says no-go"
"$PGCUTOVER" -c "$PGC_TMP/nogate.json" tick 1.3 >/dev/null; is "$?" 0 "and the item is not gated"
# Without a "switch" key the gate is on: the default
sed 's/, "switch": {[^}]*}//; s/state\.db/defgate.db/' "$cfg" >"$PGC_TMP/defgate.json"
"$PGCUTOVER" -c "$PGC_TMP/defgate.json" tick 1.3 >/dev/null 2>&1; is "$?" 64 "no switch key: the gate is on by default (refused, 64)"

P tick 1.1 >/dev/null
P tick 1.2 >/dev/null
out=$(P go --json); rc=$?
is "$rc" 1 "no freeze yet: no-go (exit 1)"
is "$(field "$out" '.switch_item')" 1.3 "the switch is the cutover item that flips the .env flag"
is "$(field "$out" '.inputs.freeze.status')" red "freeze red: none recorded"
is "$(field "$out" '.inputs.verify | "\(.status) \(.value)"')" "grey not run (optional: pgcutover verify, V)" "verify: none run, optional (grey)"
is "$(field "$out" '.inputs.counts | "\(.status) \(.stale)"')" "red true" "counts taken before any freeze: stale"
P tick 1.3 2>"$PGC_TMP/err"; rc=$?
is "$rc" 64 "tick of the switch refused while the board is red"
like "$(cat "$PGC_TMP/err")" "1.3 is the switch, gated on the go/no-go board: the board is red: freeze" "says why"

# A writer keeps writing after the stop: the freeze is not proven.
rm -f "$PGC_TMP/stop"
(while [ ! -e "$PGC_TMP/stop" ]; do echo "insert into clients(email) values ('w');"; sleep 0.2; done |
	"$PSQL" "$PG_SRC_CONNINFO user=app_user application_name=shop-api" -X -q >/dev/null 2>&1) &
WRITER=$!
pg_atexit 'touch "$PGC_TMP/stop"'
sleep 1
out=$(P freeze check); rc=$?
is "$rc" 1 "freeze check with the writer: exit 1"
like "$out" "app_user@local \\(shop-api\\)" "the writer named"
out=$(P go --json); rc=$?
is "$rc" 1 "go while a writer runs: no-go"
like "$(field "$out" '.inputs.freeze.value')" "write_seen" "the board's freeze input says a write was seen"
P tick 1.3 >/dev/null 2>&1; is "$?" 64 "the gate refuses while a writer runs"

touch "$PGC_TMP/stop"; wait "$WRITER" 2>/dev/null
last_write=$(date +%s)
out=$(P freeze check); rc=$?
is "$rc" 0 "after the writer stops: freeze proven"
copy_data
P sequences sync --yes >/dev/null; is "$?" 0 "sequences synced after the freeze"
out=$(P go --json); rc=$?
is "$rc" 0 "fresh evidence after the freeze: go"
is "$(field "$out" '[.inputs[] | select(.status == "red")] | length')" 0 "no red input"
is "$(field "$out" '.inputs.counts.value')" "every table equal (exact)" "fresh exact counts equal"
is "$(field "$out" '.inputs.sync.value')" "script sync (no subscription watched): counts equal" "script sync judged by the counts"
ok "$(field "$out" '.inputs.counts.measured_at > .freeze_at' | grep -q true; echo $?)" "counts measured after the freeze"
is "$(field "$out" '.inputs.postpone.status')" green "no postpone file"

touch "$PGC_TMP/postpone"
P tick 1.3 2>"$PGC_TMP/err"; rc=$?
is "$rc" 64 "a postpone file holds the switch"
like "$(cat "$PGC_TMP/err")" "postponed: .*postpone exists" "says so"
rm -f "$PGC_TMP/postpone"

# The downtime starting after the proof makes the proof stale.
P downtime start >/dev/null 2>&1
out=$(P go --json); rc=$?
is "$rc" 1 "downtime started after the proof: no-go"
is "$(field "$out" '.inputs.freeze.value')" "proven before the downtime started: stale, check again" "the freeze input says why"
P freeze check >/dev/null; is "$?" 0 "proven again, inside the downtime"
P go >/dev/null; is "$?" 0 "go again"
# verify: its last recorded run is an input, equal after the freeze green
P verify >/dev/null; is "$?" 0 "verify after the freeze: every row equal"
out=$(P go --json); rc=$?
is "$rc" 0 "go with verify equal"
is "$(field "$out" '.inputs.verify.status')" green "verify: green"
ok "$(field "$out" '.inputs.verify.measured_at > .freeze_at' | grep -q true; echo $?)" "verify measured after the freeze"
pg_psql dst "update clients set email = 'changed' where id = 7" >/dev/null
P verify >/dev/null; is "$?" 1 "verify finds the changed row"
out=$(P go --json); rc=$?
is "$rc" 1 "a verify difference: no-go"
is "$(field "$out" '.inputs.verify.status')" red "verify: red"
pg_psql dst "update clients set email = 'c7' where id = 7" >/dev/null
P verify >/dev/null; is "$?" 0 "the row put back: verify equal again"
P go >/dev/null; is "$?" 0 "and go"
out=$(P tick 1.3); rc=$?
is "$rc" 0 "the switch ticks on a go board"
dec=$(P log --json | jq -c '[.[] | select(.kind == "go_decision")] | last')
is "$(field "$dec" '"\(.item) \(.payload.decision) \(.payload.board.go)"')" "1.3 go true" "go_decision recorded with the board"
is "$(field "$dec" '.payload.board.inputs.freeze.status')" green "the board's values are in the decision"

# An override: the switch item unticked, a write seen, then ticked with a reason.
P untick 1.3 --reason "test the override" >/dev/null
(sleep 1.5; pg_psql src "insert into clients(email) values ('late')" >/dev/null) &
P freeze check >/dev/null; is "$?" 1 "a late write breaks the freeze"
wait
P tick 1.3 >/dev/null 2>&1; is "$?" 64 "a freeze check after the board makes it stale: refused"
P go >/dev/null; is "$?" 1 "the board is red again"
out=$(P tick 1.3 --override "the late row is a test row, accepted by the owner"); rc=$?
is "$rc" 0 "accepted with a typed override reason"
dec=$(P log --json | jq -c '[.[] | select(.kind == "go_decision")] | last')
is "$(field "$dec" '"\(.payload.decision)|\(.payload.reason)"')" "override|the late row is a test row, accepted by the owner" \
	"the override and its reason are recorded"
is "$(field "$dec" '.payload.board.go')" false "with the red board's values"
md=$(P export --format md)
like "$md" "go_decision" "export --format md shows the decision"
like "$md" "the late row is a test row" "and the reason"
like "$md" "  - freeze: red" "and the board's values"
like "$md" "## The switch: go/no-go decisions" "in a section of its own"

# run refuses too.
P untick 1.3 --reason again >/dev/null
P run 1.3 --yes 2>"$PGC_TMP/err"; rc=$?
is "$rc" 64 "run of the switch refused on a red board"
grep -q '^USE_NEW_DB=false' "$PGC_TMP/.env"; ok $? "and the flag was not flipped"
done_testing
