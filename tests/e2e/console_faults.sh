#!/bin/sh
# console_faults.sh -- faults met through the console in tmux, not only
# headless: a REST source that hangs and one table whose answer is garbage,
# health checks that hang and that answer bytes that are not HTTP, the
# target database lost (pg_ctl stop -m immediate) while an exact count
# waits on it, a resize storm, a 20x10 terminal, TERM=dumb, a full disk
# under the state (a small tmpfs; skipped where mount is not allowed), and
# SIGHUP while a command runs (the terminal gone: the command stopped, its
# end recorded, then session_end).  After each: the console still answers
# a key, says what happened, records nothing wrong, and the state verifies.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"
. "$top_srcdir/tests/lib/actions.sh"

pg_start src || exit 1
pg_start dst || exit 1
for c in src dst; do
	pg_psql "$c" "create table t_ok(id int primary key); insert into t_ok select generate_series(1, 50);
		create table t_hang(id int primary key); create table t_junk(id int primary key);" >/dev/null
done
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
rest_start api src --slow-table t_hang --slow-seconds 60 --garbage-table t_junk || exit 1
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" &
hsrv=$!
pg_atexit "kill $hsrv 2>/dev/null"
i=0
while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
H="http://127.0.0.1:$(cat "$E2E_DIR/port")"

D=$E2E_DIR/a
act_fixture "$D" 60
CFG=$D/pgcutover.json
jq --arg api "$REST_API_URL" --arg dst "$PG_DST_CONNINFO" --arg h "$H" '. + {
	source: {supabase: {url: $api, key_env: "SUPABASE_KEY"}}, target: $dst,
	tables: ["t_ok", "t_hang", "t_junk"], statement_timeout_ms: 2000,
	health: [{name: "hung", url: ($h + "/hang"), timeout_ms: 1500},
	         {name: "junk", url: ($h + "/garbage"), timeout_ms: 1500},
	         {name: "fine", url: ($h + "/ok")}]}' "$CFG" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
verify() {  # verify NAME: the chain and SQLite's own check after a fault
	out=$(pgc log --verify 2>&1); like "$out" 'chain intact' "$1: log --verify, chain intact"
	is "$(sqlite3 "$D/state.db" 'PRAGMA integrity_check')" ok "$1: integrity_check ok"
}
answers() {  # answers NAME: ? opens the help, Esc closes it
	keys '?'
	wait_screen '─ Keys ─' 10; ok $? "$1: the console answers a key"
	keys Escape
	wait_screen_not '─ Keys ─' 5
}
last() { pgc log --json | jq -c "[.[] | select(.kind == \"$1\")][-1].payload"; }

# ---- REST source: one table hangs, one answers garbage ----
E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens on a REST source"
answers "REST source hanging"
wait_screen 't_hang +\? +0 ERR' 20; ok $? "the hung table: no figure, ERR, once the timeout fires"
like "$(screen)" 'supabase: t_hang: no answer' "the pane says the source did not answer"
wait_screen 't_junk +\? +0 ERR' 5; ok $? "the garbage table: no figure, ERR"
like "$(screen)" 't_ok +50 +50 =' "the sound table is still counted"
c=$(last counts)
is "$(printf '%s' "$c" | jq -r '[.tables[] | select(.table != "t_ok") | "\(.source) \(.state)"] | join(",")')" \
	"null error,null error" "log: the hung and garbage tables recorded as errors without a figure"
is "$(printf '%s' "$c" | jq -r .match)" false "log: the counts not recorded as matching"
err=$(pgc counts 2>&1)
like "$err" 't_junk: .*HTTP 200 without a valid Content-Range' "headless: the garbage reply is named"
unlike "$err" "$(printf '\033')" "headless: the garbage's escape sequence is not printed"

# ---- health: one hangs, one is not HTTP ----
keys H
wait_screen 'Health checks' 10
keys Escape   # the checks go on in the loop
answers "health check hanging"
keys H
wait_screen 'FAIL +hung' 15; ok $? "the hung check fails on its timeout"
like "$(screen)" 'timed out after [0-9]+ milli' "and says it timed out, and after how long"
wait_screen 'FAIL +junk' 5; ok $? "the garbage check fails"
like "$(screen)" 'the answer is not HTTP' "and says the answer is not HTTP"
like "$(screen)" 'PASS +fine' "the sound check passes"
is "$(last health | jq -r '[.checks[] | "\(.name):\(.ok)"] | join(" ")')" "hung:false junk:false fine:true" \
	"log: the health run recorded as it went"
keys Escape

# ---- a resize storm, then 20x10 ----
for s in 80x24 200x60 81x25 30x12 150x40 79x23 120x36 90x30 100x28 120x36 \
	101x31 60x20 140x50 80x24 120x36 95x33 110x29 85x26 120x36 120x36; do
	tm resize-window -t e2e -x "${s%x*}" -y "${s#*x}"
done
wait_screen 'DRIVER' 10; ok $? "after 20 resizes in a row the console is drawn"
answers "resize storm"
tm resize-window -t e2e -x 20 -y 10
wait_screen 'Terminal is 20' 10; ok $? "20x10: the too-small notice"
like "$(screen)" 'to 80×24' "the size it asks for is not cut at 20 columns"
keys q
is "$(wait_exit 15)" 0 "q quits from the notice"
verify "REST and health faults"

# ---- TERM=dumb ----
n0=$(pgc log --json | jq length)
E2E_TERM=dumb console_start
is "$(wait_exit 15)" 64 "TERM=dumb: refused as a usage error"
like "$(screen)" 'needs a terminal that can move its cursor' "and says why"
is "$(pgc log --json | jq length)" "$n0" "TERM=dumb: nothing recorded"

# ---- the target lost while an exact count waits on it ----
jq '.tables = ["t_ok"] | .statement_timeout_ms = 60000' "$CFG" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20
wait_screen 't_ok +50 +50 =' 20; ok $? "counts match before the fault"
# a session holding an exclusive lock: count(*) on the target waits
"$(pg_psql_bin)" -X -q "$PG_DST_CONNINFO" -c 'begin; lock table t_ok in access exclusive mode; select pg_sleep(60)' \
	>/dev/null 2>&1 &
locker=$!
pg_atexit "kill $locker 2>/dev/null"
i=0
until [ "$(pg_psql dst "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and relation = 't_ok'::regclass")" = 1 ] ||
	[ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
keys e
i=0
until [ "$(pg_psql dst "select count(*) from pg_stat_activity where wait_event_type = 'Lock'")" -ge 1 ] ||
	[ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
[ $i -lt 100 ]; ok $? "the exact count waits on the target"
n_counts=$(pgc log --json | jq '[.[] | select(.kind == "counts")] | length')
(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$PG_DST_DATA" -m immediate -w stop) >/dev/null 2>&1
ok $? "pg_ctl stop -m immediate on the target mid-count"
wait_screen 'target unreachable: [a-z]' 20
ok $? "the console says the target is unreachable, and why, in the counts pane"
like "$(screen)" 't_ok +50 +50 ERR' "the table's last figures marked ERR"
diag "$(screen | grep -E 'target|ERR|t_ok|NOT' | head -3)"
diag "$(pgc counts 2>&1 | tail -2)"
answers "target lost"
c=$(pgc log --json | jq -c "[.[] | select(.kind == \"counts\")][$n_counts:] | map(.payload)")
is "$(printf '%s' "$c" | jq '[.[] | select(.match == true)] | length')" 0 "log: no counts recorded as matching after the loss"
keys q
is "$(wait_exit 15)" 0 "quit"
verify "target lost"
pg_start dst >/dev/null 2>&1

# ---- a full disk under the state ----
# under $PGC_TMP: pg.sh's clean-up unmounts it (pg_atexit) before removing that
DISK=$PGC_TMP/disk
if mkdir -p "$DISK" && mount -t tmpfs -o size=1m tmpfs "$DISK" 2>/dev/null; then
	pg_atexit "umount '$DISK' 2>/dev/null"
	jq --arg s "$DISK/state.db" '.state = $s | .tables = ["t_ok"] | del(.health)' "$CFG" >"$D/disk.json"
	E2E_COLS=120 E2E_ROWS=36 CFG=$D/disk.json console_start
	wait_screen 'DRIVER' 20; ok $? "console opens with its state on a 1 MB tmpfs"
	keys 1
	wait_screen 'Phase 1 · Preparation' 5
	dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null
	keys Space
	wait_screen 'NOT recorded' 10; ok $? "disk full: the tick is NOT recorded, and the console says so"
	# the status line itself, so a failure shows what it said instead
	like "$(screen | grep -A1 'NOT recorded')" 'NOT recorded: .*(full|space)' "and says the disk is full"
	answers "disk full"
	rm -f "$DISK/fill"
	keys Space
	wait_screen 'ticked 1\.1' 10; ok $? "space again: the tick is recorded"
	keys q
	is "$(wait_exit 15)" 0 "quit"
	is "$("$PGCUTOVER" -c "$D/disk.json" log --json | jq '[.[] | select(.kind == "tick")] | length')" 1 \
		"log: one tick, the refused one not there"
	out=$("$PGCUTOVER" -c "$D/disk.json" log --verify 2>&1); like "$out" 'chain intact' "disk full: chain intact"
	is "$(sqlite3 "$DISK/state.db" 'PRAGMA integrity_check')" ok "disk full: integrity_check ok"
	umount "$DISK"
else
	ok 0 "# SKIP a full disk: cannot mount a tmpfs here (not root, or no mount namespace)"
fi

# ---- SIGHUP while a command runs ----
rm -f "$D/sleeper.pid"
E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20
keys 1 /
text 'Sleep a long time'
keys Enter
wait_screen 'found in 1\.5' 5
keys x
wait_screen 'Run 1\.5\?' 5
text yes; keys Enter
wait_screen 'running for' 10; ok $? "a command runs"
end=$(( $(date +%s) + 10 )); while [ ! -s "$D/sleeper.pid" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
sleeper=$(cat "$D/sleeper.pid" 2>/dev/null)
kill -HUP "$(console_pid)"
is "$(wait_exit 15)" 129 "SIGHUP: the console exits 128+1"
end=$(( $(date +%s) + 10 )); while act_alive "$sleeper" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
act_alive "$sleeper"; isnt $? 0 "the command's processes are stopped"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "command_end" and .item == "1.5")][-1].payload.status')" cancelled \
	"log: the command's end, cancelled"
is "$(pgc log --json | jq -r '[.[] | select(.kind != "lease_released")][-1] | "\(.kind) \(.payload.reason)"')" \
	"session_end SIGHUP" "log: session_end SIGHUP is the session's last event, after the command's end"
verify "SIGHUP"
done_testing
