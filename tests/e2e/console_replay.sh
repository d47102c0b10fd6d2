#!/bin/sh
# console_replay.sh -- `pgcutover replay STATE|LOG.jsonl` on a terminal: the
# console in REPLAY mode over a recorded migration (real ticks, a real
# command run, real row counts from PostgreSQL).  Stepping and seeking move
# the cursor and every pane with it (checklist ticks, the row counts, the
# command's output, the event strip); playing reaches the final screen the
# driver had, checked against `status --json`; -i cuts idle gaps as
# `replay --timeline -i` does; events appended meanwhile extend the timeline;
# a JSONL export replays the same; Space plays
# (it is Tick elsewhere) and nothing is written to the state.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
. "$top_srcdir/tests/e2e/console.inc"

pg_start one || exit 1
pg_psql one "create database shop_old" >/dev/null && pg_psql one "create database shop_new" >/dev/null
OLD=$(pg_conninfo one | sed 's/dbname=postgres/dbname=shop_old/')
NEW=$(pg_conninfo one | sed 's/dbname=postgres/dbname=shop_new/')
ROWS=37
psql_db() { (cd / && pg_as_user "$(pg_psql_bin)" -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" >/dev/null); }
psql_db "$OLD" "create table customers(id int primary key); insert into customers select generate_series(1, $ROWS)"
psql_db "$NEW" "create table customers(id int primary key)"

cat > "$E2E_DIR/runbook.md" <<'RB'
# Shop DB: old → new

## Phase 1: Schema

- [ ] Create roles on the target
- [ ] Apply the schema dump

## Phase 3: Data Migration

- [ ] Copy customers
  ```bash
  echo copying customers; echo copied all rows
  ```
- [ ] Check row counts
- [ ] Point the app at the new database
  ```bash
  USE_NEW_DB=true
  ```
RB
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" &
httpd=$!
pg_atexit "kill $httpd 2>/dev/null"
i=0; while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$E2E_DIR/port")"
cat > "$CFG" <<JS
{"runbook": "runbook.md", "state": "state.db", "source": "$OLD", "target": "$NEW",
 "tables": ["customers"], "env_file": ".env", "flags": ["USE_NEW_DB"],
 "health": ["$BASE/ok", "$BASE/fail"]}
JS
echo "USE_NEW_DB=false" > "$E2E_DIR/.env"
cd "$E2E_DIR" || exit 1

# The recorded migration: one driver at a time, headless.
# (counts exits 1 when the sides differ: the snapshot is recorded all the same)
pgc --operator bob tick 1.1 >/dev/null 2>&1 &&
pgc --operator bob tick 1.2 >/dev/null 2>&1
pgc --operator bob counts --exact >/dev/null 2>&1
is "$?" 1 "first part recorded (ticks, counts before the copy: they differ)"
pgc --operator bob health >/dev/null 2>&1
isnt "$?" 0 "a health run recorded (one check fails)"
pgc --operator bob run 3.1 --yes >/dev/null 2>&1
psql_db "$NEW" "insert into customers select generate_series(1, $ROWS)"
pgc --operator bob counts --exact >/dev/null 2>&1 &&
pgc --operator bob tick 3.1 >/dev/null 2>&1 &&
pgc --operator bob note "copy checked" >/dev/null 2>&1 &&
pgc --operator bob run 3.3 --yes >/dev/null 2>&1
ok $? "second part recorded (command, copy, counts after, tick, note, a flag set)"
N=$(pgc log --json | jq length)
LOG_BEFORE=$(pgc log --json | jq -c .)

replay_start() {
	pane_run "cd '$E2E_DIR' && env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator carol replay $*"
}
cursor_is() { wait_screen "event $1/$N " 5; }
# The rail's done/total per phase, as drawn, against `status --json`.
rail_figures() { screen | grep -oE '^  [^ ]+ [0-9]+/[0-9]+' | grep -oE '[0-9]+/[0-9]+' | tr '\n' ' '; }
want_figures=$(pgc status --json | jq -r '[.phases[] | "\(.done)/\(.total)"] | join(" ")')" "

replay_start state.db
wait_screen 'REPLAY'; ok $? "replay opens the console in REPLAY mode"
cursor_is 0; ok $? "the cursor starts before the first event"
wait_screen '\[ \] Create roles'; ok $? "nothing is ticked before the first event"
wait_screen 'no counts recorded yet'; ok $? "no counts before the first snapshot"
wait_screen 'flags: USE_NEW_DB=not set yet'; ok $? "no flag set before the first event"
wait_screen 'health: none run yet'; ok $? "no health run before the first event"

keys ']'
id11=$(pgc log --json | jq '[.[] | select(.kind == "tick" and .item == "1.1")][0].id')
cursor_is "$id11"; ok $? "] goes to the first phase start (the first tick, event $id11)"
wait_screen '\[x\] Create roles.*bob'; ok $? "the checklist shows the tick at that event"
keys ','
cursor_is $((id11 - 1)); ok $? ", steps back one event"
wait_screen '\[ \] Create roles'; ok $? "the tick is gone again"
keys '.'
cursor_is "$id11"; ok $? ". steps forward one event"

# Counts as of each snapshot: before the copy the target is empty.
c1=$(pgc log --json | jq '[.[] | select(.kind == "counts")][0].id')
c2=$(pgc log --json | jq '[.[] | select(.kind == "counts")][1].id')
start=$(pgc log --json | jq '[.[] | select(.kind == "command_start")][0].id')
i=$id11; while [ "$i" -lt "$c1" ]; do keys '.'; i=$((i + 1)); done
cursor_is "$c1"; ok $? "stepped to the first counts snapshot"
wait_screen "custom[^ ]* +$ROWS +0 +DIFF"; ok $? "the side pane shows the counts of then (target empty)"
wait_screen 'no command run before the cursor'; ok $? "no command before it started"
i=$c1; while [ "$i" -lt "$c2" ]; do keys '.'; i=$((i + 1)); done
cursor_is "$c2"; ok $? "stepped to the second snapshot"
wait_screen "custom[^ ]* +$ROWS +$ROWS +="; ok $? "the side pane shows the copy done"
wait_screen "3.1 exit 0 after .*: copied all rows  .echo copying customers"
ok $? "the command run before the cursor and its last output line"
keys '['
wait_screen 'phase 3 starts|phase 1 starts'; ok $? "[ goes to the previous phase start"

# t: a time; the cursor lands where `replay --at` says.
at=$(pgc log --json | jq -r --argjson id "$start" '.[] | select(.id == $id) | .ts')
want=$(pgc replay --at "$at" --json | jq .replay.event_id)
keys t
wait_screen 'Go to a time'; ok $? "t asks for a time"
text "$at"; keys Enter
cursor_is "$want"; ok $? "t $at puts the cursor on event $want, as replay --at does"
keys t; text "not a time"; keys Enter
wait_screen "cannot read 'not a time' as a time"; ok $? "a bad time is refused with the reason"

# Play to the end, fast: the final screen is the driver's.
keys '>' '>' '>'
wait_screen 'Replay paused 10x'; ok $? "> raises the speed (1, 2, 5, 10x)"
keys '<'
wait_screen 'Replay paused 5x'; ok $? "< lowers it"
keys Space
wait_screen 'Replay playing 5x' 5; ok $? "Space plays (it is not Tick here)"
cursor_is "$N" 20; ok $? "playing reaches the last event"
wait_screen 'end of the log'; ok $? "and stops there"
is "$(rail_figures)" "$want_figures" "every phase's done/total is what status --json says at the end"
wait_screen "flags: USE_NEW_DB=true \\(bob [0-9:]+\\)"; ok $? "the flag as pgcutover set it, by whom and when"
wait_screen "health: 1/2 ok at [0-9:]+ \\(failing: [^)]*fail" 2; ok $? "the last health run: one of two failing"
keys H
wait_screen "REPLAY mode: H shows today's health"; ok $? "H (today's servers) is not used in a replay"
last_kind=$(pgc log --json | jq -r '.[-1].kind')
screen | grep -A1 'Events (newest first)' | tail -1 | grep -q "$last_kind"
ok $? "the newest event in the strip is the log's last ($last_kind)"
keys q
is "$(wait_exit)" 0 "q quits"
is "$(pgc log --json | jq -c .)" "$LOG_BEFORE" "replaying wrote nothing to the state"

# -i: idle gaps cut, the length the timeline command reports.
sleep 2; pgc --operator bob note "after a pause" >/dev/null 2>&1
N=$(pgc log --json | jq length)
len=$(pgc replay --timeline -i 0.5 --json | jq '.length_s | floor')
hms=$(printf '%d:%02d:%02d' $((len / 3600)) $((len % 3600 / 60)) $((len % 60)))
replay_start state.db -i 0.5
wait_screen "/$hms \\(idle cut\\)"; ok $? "-i 0.5: the timeline is $hms long, as replay --timeline -i says"
# A migration still being driven: its new events extend the timeline.
pgc --operator bob note "while replaying" >/dev/null 2>&1
wait_screen "event 0/$((N + 1)) " 5; r=$?
ok $r "an event appended meanwhile extends the timeline; the cursor stays"
[ "$r" = 0 ] || screen | sed 's/^/#   /' >&2
N=$((N + 1))
keys q; wait_exit >/dev/null

# A JSONL export replays the same way.
pgc export --format jsonl > log.jsonl
ok $? "export the log as JSONL"
want_figures=$(pgc status --json | jq -r '[.phases[] | "\(.done)/\(.total)"] | join(" ")')" "
replay_start log.jsonl
cursor_is 0; ok $? "a JSONL log opens at the start"
keys '>' '>' '>' '>' '>' '>' Space
cursor_is "$N" 20; ok $? "and plays to its end"
is "$(rail_figures)" "$want_figures" "to the same final figures"
keys ','
cursor_is $((N - 1)); ok $? "stepping back works on JSONL"
keys q
r=$(wait_exit)
is "$r" 0 "q quits the JSONL replay"
[ "$r" = 0 ] || screen | sed 's/^/#   /' >&2

# A long log: more events than the console loads up front (times are then
# looked up by id as the cursor moves).
W=${top_builddir:-.}/tests/helpers/state_writer
if [ -x "$W" ]; then
	"$W" --batch 50000 "$E2E_DIR/long.db" 120000 >/dev/null 2>&1
	ok $? "a long log written (tests/helpers/state_writer)"
	N=$(pgc replay long.db --json | jq .replay.events_total)
	at=$(pgc replay long.db --event 60000 --json | jq -r .replay.at)
	want=$(pgc replay long.db --at "$at" --json | jq .replay.event_id)
	replay_start long.db
	cursor_is 0; ok $? "the long log opens at the start ($N events)"
	keys '.'
	cursor_is 1; ok $? ". steps to its first event"
	keys t; wait_screen 'Go to a time'; text "$at"; keys Enter
	cursor_is "$want"; ok $? "t $at: event $want, as replay --at says"
	keys '>' '>' '>' '>' '>' '>' '>' '>' '>' Space
	cursor_is "$N" 30; ok $? "played at 1000x to its end"
	keys q
	is "$(wait_exit)" 0 "q quits"
else
	diag "long log not replayed: tests/helpers/state_writer not built (make check builds it)"
fi
done_testing
