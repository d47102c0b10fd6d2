#!/bin/sh
# console_gate.sh -- the console never misstates where the cutover is
# (issue 13, items 1 and 5), against two real clusters:
# - the header names the phases in progress ("phases 3, 5 in progress"),
#   not the first phase nobody started, and `status` says the same;
# - ticking a gated phase's last item while three tables differ asks for a
#   reason naming every one of them (target - source, largest first); Esc
#   records nothing (no tick, no phase_override; `status` not done), and
#   the phase's rail row then says "blocked:" with every differing table,
#   cut with "+N more" on a narrow terminal; `status` (text and --json)
#   says blocked and by which tables.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1

# three tables short on the target by different amounts, one matched
N=100
BK=25 DC=12 RM=40
mk() {  # mk SIDE SHORT_BK SHORT_DC SHORT_RM
	pg_psql "$1" "
		create table bk(id serial primary key); create table dc(id serial primary key);
		create table rm(id serial primary key); create table ok(id serial primary key);
		insert into bk select from generate_series(1, $N - $2);
		insert into dc select from generate_series(1, $N - $3);
		insert into rm select from generate_series(1, $N - $4);
		insert into ok select from generate_series(1, $N);"
}
mk src 0 0 0
mk dst "$BK" "$DC" "$RM"

cat > "$E2E_DIR/runbook.md" <<'RB'
# Gate night

## Phase 1: Prep

- [ ] Announce the window

## Phase 2: Copy

- [ ] Copy the data
- [ ] Check the counts

## Phase 3: Switch

- [ ] Point the app
- [ ] Watch the errors

## Phase 5: After

- [ ] Clean up
- [ ] Write the report
RB
cat > "$CFG" <<EOF
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": ["bk", "dc", "ok", "rm"],
  "gates": ["2"]
}
EOF

# ---- item 5: the header names the phases in progress ----
# phase 1 never started; 3 has a tick, then 5 too
pgc tick 3.1 >/dev/null
E2E_COLS=160 E2E_ROWS=40 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
wait_screen 'phase 3 in progress [0-9]' 10; ok $? "header: the phase in progress, with its time"
unlike "$(screen | head -2)" 'phase 1 not started' "header: not 'phase 1 not started'"
keys q
is "$(wait_exit 15)" 0 "quit"

pgc tick 5.1 >/dev/null
is "$(pgc status --json | jq -r '[.phases[] | select(.status == "in_progress") | .id] | join(",")')" "3,5" \
	"fixture: phases 3 and 5 in progress, phase 1 never started"
console_start
wait_screen 'phases 3, 5 in progress' 10; ok $? "header: phases 3, 5 in progress"
like "$(screen | head -2)" 'phases 3, 5 in progress' "it is the header that says so"
is "$(pgc status --json | jq -r .current)" "phases 3, 5 in progress" "status --json: current"
is "$(pgc status --json | jq -r '.in_progress | join(",")')" "3,5" "status --json: in_progress"
like "$(pgc status)" 'now: phases 3, 5 in progress' "status: the same words"
keys q
is "$(wait_exit 15)" 0 "quit"

# ---- item 1: Esc at the gate records nothing; the rail says blocked ----
pgc tick 1.1 >/dev/null
pgc tick 2.1 >/dev/null
pgc counts --exact >/dev/null
is "$?" 1 "counts --exact: three tables differ (exit 1)"
n_before=$(pgc log --json | jq length)

E2E_COLS=160 E2E_ROWS=40 console_start
wait_screen 'DRIVER' 20
keys 2
wait_screen 'Phase 2 · Copy'; ok $? "phase 2 selected"
keys /
text "Check the counts"
keys Enter
wait_screen 'found in 2\.2'
keys Space
wait_screen "gated on row counts: rm -$RM, bk -$BK, dc -$DC\\. Reason:" 10
ok $? "the gate prompt names every differing table, largest difference first"
screen > "$E2E_DIR/prompt.txt"
keys Escape
wait_screen 'cancelled; nothing recorded' 5; ok $? "Esc: cancelled"
is "$(pgc log --json | jq '[.[] | select(.kind == "tick" and .item == "2.2")] | length')" 0 "Esc: no tick of 2.2 in the log"
is "$(pgc log --json | jq '[.[] | select(.kind == "phase_override" and .phase == "2")] | length')" 0 "Esc: no phase_override in the log"
is "$(pgc log --json | jq '[.[] | select(.kind == "tick" or .kind == "phase_override" or .kind == "phase_complete")] | length')" \
	"$(pgc log --json | jq --argjson n "$n_before" '[.[:$n][] | select(.kind == "tick" or .kind == "phase_override" or .kind == "phase_complete")] | length')" \
	"Esc: no tick, override or completion after it at all"
isnt "$(pgc status --json | jq -r '.phases[] | select(.id == "2") | .status')" done "status: phase 2 is not done"
wait_screen "blocked: rm -$RM, bk -$BK, dc -$DC" 5; ok $? "the rail: phase 2 blocked by every differing table"
unlike "$(screen)" '2/2 done' "the rail does not say 2/2 done"
screen > "$E2E_DIR/rail.txt"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "2") | .blocked')" true "status --json: blocked"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "2") | [.blocked_by[] | "\(.table) \(.difference)"] | join(", ")')" \
	"rm -$RM, bk -$BK, dc -$DC" "status --json: blocked_by every differing table with its difference"
like "$(pgc status)" "2 +blocked .*
 +blocked by its counts gate: rm -$RM, bk -$BK, dc -$DC" "status: blocked, and by which tables"

# a narrow terminal: the rail cuts the list with "+N more"
tm resize-window -t e2e -x 80 -y 24
wait_screen "blocked: rm -$RM(, bk -$BK)? \\+[12] more" 10; ok $? "80 columns: the rail cuts the list with +N more"
screen > "$E2E_DIR/rail80.txt"
grep -A1 'gated on row counts' "$E2E_DIR/prompt.txt" | sed "s/^/# prompt: /"
for f in rail rail80; do
	head -12 "$E2E_DIR/$f.txt" | sed "s/^/# $f: /"
done
keys q
is "$(wait_exit 15)" 0 "quit"

# ---- a gate is decided on fresh exact counts, never on estimates ----
# The console's periodic refresh records estimates (issue 20): Space on the
# gated last item then takes exact counts instead of asking for an override
# on figures that are not evidence; Space again decides on them.
console_start
wait_screen 'DRIVER' 20
keys 2
wait_screen 'Phase 2 · Copy'
keys '<' '<'    # refresh every 5 s
last_exact() { pgc log --json | jq -r '[.[] | select(.kind == "counts")] | last | .payload.exact'; }
i=0
while [ "$(last_exact)" != false ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
is "$(last_exact)" false "the periodic refresh recorded estimates"
keys /
text "Check the counts"
keys Enter
wait_screen 'found in 2\.2'
keys Space
wait_screen 'exact counts started' 10; ok $? "Space on estimates: exact counts started, no override asked"
unlike "$(screen)" 'Reason:' "no reason prompt on estimates"
i=0
while [ "$(last_exact)" != true ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
is "$(last_exact)" true "the exact counts are recorded"
keys '>' '>' '>' '>'    # refresh every 5 min: the exact counts stay the last
keys Space
wait_screen "gated on row counts: rm -$RM, bk -$BK, dc -$DC\\. Reason:" 10
ok $? "Space again: the gate, decided on them, names every differing table"
keys Escape
wait_screen 'cancelled; nothing recorded' 5
keys q
is "$(wait_exit 15)" 0 "quit"

# once the target catches up, the phase is no longer blocked
pg_psql dst "insert into bk select from generate_series(1, $BK); insert into dc select from generate_series(1, $DC);
	insert into rm select from generate_series(1, $RM);"
pgc counts --exact >/dev/null
is "$?" 0 "counts --exact: the target caught up"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "2") | .blocked')" false "status --json: not blocked once the counts match"

done_testing
