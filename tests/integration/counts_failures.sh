#!/bin/sh
# counts_failures.sh -- `pgcutover counts` when things go wrong: a side that
# cannot be reached exits 69 and names the server (never the password), a
# statement timeout is a per-table error while the other tables are still
# counted, and a side stopped mid-refresh keeps the figures already in and
# names the server that went away.  Exit status: an error is never a
# difference (1): a timeout or a lock wait exits 75, a failing or lost
# server 69; a table missing on one side is a difference.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

N_CLIENTS=42
SLOW_ROWS=30
for side in src dst; do
	pg_psql "$side" "
		create table clients(id serial primary key, name text);
		insert into clients(name) select 'c' || g from generate_series(1, $N_CLIENTS) g;
		create view slow as select g from generate_series(1, $SLOW_ROWS) g where pg_sleep(0.1) is not null;"
done
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"

config() {  # config FILE SOURCE TARGET TABLES [EXTRA]
	cat >"$1" <<EOF
{"runbook": "runbook.md", "source": "$2", "target": "$3", "tables": $4 $5}
EOF
}

# --- unreachable: a socket directory that does not exist ---
NOWHERE="$PGC_TMP/nowhere"
config "$PGC_TMP/down.json" "$PG_SRC_CONNINFO" "host=$NOWHERE port=5999 dbname=app user=u" '[{"name": "clients"}]'
SECRET="s3cret-$(date +%s)"
out=$(PGPASSWORD=$SECRET "$PGCUTOVER" -c "$PGC_TMP/down.json" counts --json --exact 2>"$PGC_TMP/down.err"); rc=$?
err=$(cat "$PGC_TMP/down.err")
is "$rc" 69 "unreachable target: exit 69"
like "$err" "target unreachable: .*host=$NOWHERE port=5999 dbname=app" "the message names the server"
case "$out$err" in *"$SECRET"*) ok 1 "the password never appears" ;; *) ok 0 "the password never appears" ;; esac
is "$(printf '%s' "$out" | jq -r '.tables[0].source')" "$N_CLIENTS" "the reachable side is still counted"
like "$(printf '%s' "$out" | jq -r '.tables[0].target_error')" "host=$NOWHERE" "per-table error names the server"
is "$(printf '%s' "$out" | jq -r '.target.up')" false "target marked down"

"$PGCUTOVER" -c "$PGC_TMP/down.json" counts >/dev/null 2>&1
is "$?" 69 "unreachable target, text mode: exit 69"

# --- statement timeout: one table fails, the others are counted ---
config "$PGC_TMP/timeout.json" "$PG_SRC_CONNINFO" "$PG_DST_CONNINFO" \
	'[{"name": "clients"}, {"name": "slow"}]' ', "statement_timeout_ms": 300'
out=$("$PGCUTOVER" -c "$PGC_TMP/timeout.json" counts --json --exact); rc=$?
is "$rc" 75 "statement timeout: exit 75, worth retrying (not 1: an error is not a difference)"
is "$(printf '%s' "$out" | jq -r '.tables[1].state')" error "the slow table is in error"
like "$(printf '%s' "$out" | jq -r '.tables[1].source_error')" "statement timeout" "the error says statement timeout"
like "$(printf '%s' "$out" | jq -r '.tables[1].source_error')" "^source \\(host=" "and names the side and server"
is "$(printf '%s' "$out" | jq -r '.tables[0] | "\(.source) \(.target) \(.match)"')" "$N_CLIENTS $N_CLIENTS true" \
	"the other table is still counted"
# --timeout overrides the config: generous enough for the slow view.
out=$("$PGCUTOVER" -c "$PGC_TMP/timeout.json" counts --json --exact --timeout 60000); rc=$?
is "$rc" 0 "--timeout overrides statement_timeout_ms"
is "$(printf '%s' "$out" | jq -r '.tables[1].target')" "$SLOW_ROWS" "slow view counted with the longer timeout"

# --- a locked table: the count waits for the lock until the statement timeout ---
config "$PGC_TMP/locked.json" "$PG_SRC_CONNINFO" "$PG_DST_CONNINFO" \
	'[{"name": "clients"}]' ', "statement_timeout_ms": 500'
pg_psql dst "begin; lock table clients in access exclusive mode; select pg_sleep(6); commit" >/dev/null 2>&1 &
locker=$!
i=0
while [ $i -lt 100 ] && [ "$(pg_psql dst "select count(*) from pg_locks where relation = 'clients'::regclass and mode = 'AccessExclusiveLock' and granted")" != 1 ]; do
	sleep 0.05
	i=$((i + 1))
done
out=$("$PGCUTOVER" -c "$PGC_TMP/locked.json" counts --json --exact); rc=$?
is "$rc" 75 "a table locked past the statement timeout: exit 75"
like "$(printf '%s' "$out" | jq -r '.tables[0].target_error')" "statement timeout" "the error says statement timeout"
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
pg_psql dst "select pg_terminate_backend(pid) from pg_stat_activity where query like '%lock table clients%' and pid <> pg_backend_pid()" >/dev/null

# --- the server kills the count (the server stays up): a failing server, 69 ---
config "$PGC_TMP/killed.json" "$PG_SRC_CONNINFO" "$PG_DST_CONNINFO" '[{"name": "clients"}, {"name": "slow"}]'
"$PGCUTOVER" -c "$PGC_TMP/killed.json" counts --json --exact >"$PGC_TMP/killed.out" 2>/dev/null &
pid=$!
i=0
n=0
while [ $i -lt 200 ]; do
	n=$(pg_psql dst "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pgcutover'
	                 and state = 'active' and query like '%count(*)%slow%'" | grep -c t)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
	i=$((i + 1))
done
wait $pid
rc=$?
is "$rc" 69 "a count the server terminates: exit 69 (not 1)"
is "$(jq -r '.tables[1].state' "$PGC_TMP/killed.out")" error "the table is in error"
like "$(jq -r '.tables[1].target_error' "$PGC_TMP/killed.out")" "terminating connection" "the error says why"

# --- a table missing on the target ---
pg_psql src "create table only_here(id int); insert into only_here values (1), (2)"
config "$PGC_TMP/ghost.json" "$PG_SRC_CONNINFO" "$PG_DST_CONNINFO" '[{"name": "clients"}, {"name": "only_here"}]'
out=$("$PGCUTOVER" -c "$PGC_TMP/ghost.json" counts --json --exact); rc=$?
is "$rc" 1 "table missing on the target: exit 1"
like "$(printf '%s' "$out" | jq -r '.tables[1].target_error')" "table only_here does not exist" \
	"the error says the table does not exist"
is "$(printf '%s' "$out" | jq -r '.tables[1] | "\(.source) \(.state)"')" "2 error" "the source side is still counted"
like "$(printf '%s' "$out" | jq -r .summary)" "only_here: target error" "summary names the table"

# --- a side stopped mid-refresh ---
config "$PGC_TMP/stop.json" "$PG_SRC_CONNINFO" "$PG_DST_CONNINFO" '[{"name": "clients"}, {"name": "slow"}]'
"$PGCUTOVER" -c "$PGC_TMP/stop.json" counts --json --exact >"$PGC_TMP/stop.out" 2>"$PGC_TMP/stop.err" &
pid=$!
# Wait until the target is counting the slow view, then kill the server.
i=0
while [ $i -lt 200 ]; do
	n=$(pg_psql dst "select count(*) from pg_stat_activity where application_name = 'pgcutover'
	                 and state = 'active' and query like '%count(*)%slow%'")
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
	i=$((i + 1))
done
(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$PG_DST_DATA" -m immediate -w stop) >/dev/null 2>&1
wait $pid
rc=$?
out=$(cat "$PGC_TMP/stop.out")
is "$rc" 69 "target stopped mid-refresh: exit 69"
is "$(printf '%s' "$out" | jq -r '.tables[0].target')" "$N_CLIENTS" "figures counted before the stop are kept"
is "$(printf '%s' "$out" | jq -r '.tables[1].state')" error "the table in flight is in error"
like "$(printf '%s' "$out" | jq -r '.tables[1].target_error')" "^target \\(host=$PGC_TMP/pg port=$PG_DST_PORT" \
	"the error names the server that went away"
is "$(printf '%s' "$out" | jq -r '.tables[1].source')" "$SLOW_ROWS" "the source finished its count"
like "$(cat "$PGC_TMP/stop.err")" "target unreachable" "stderr says the target is unreachable"

done_testing
