#!/bin/sh
# console_freeze.sh -- the console's write-freeze watch (W) against a real
# source: a writer with its own role and application_name keeps inserting;
# W names the table and the session; once the writer stops, the watch says
# FREEZE PROVEN after the quiet window and the driver records it (a freeze
# event, mode console), which turns the go board's freeze input green; R on
# the phase after `freeze apply` releases the freeze with the rollback.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
PSQL=$(pg_psql_bin)
pg_psql src "create role app_user login; create table clients(id serial primary key, name text);
             grant insert on clients to app_user; grant usage on sequence clients_id_seq to app_user" >/dev/null
pg_psql dst "create table clients(id serial primary key, name text)" >/dev/null
printf '# Shop\n\n## Phase 1: Cutover\n\n- [ ] Stop the app\n' >"$E2E_DIR/runbook.md"
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": ["clients"], "freeze": {"quiet_s": 3}}
JSON
rm -f "$E2E_DIR/stop"
(while [ ! -e "$E2E_DIR/stop" ]; do echo "insert into clients(name) values ('w');"; sleep 0.2; done |
	"$PSQL" "$PG_SRC_CONNINFO user=app_user application_name=shop-api" -X -q >/dev/null 2>&1) &
WRITER=$!
pg_atexit "touch '$E2E_DIR/stop'"

console_start
wait_screen 'DRIVER' 15; ok $? "console opens"
keys W
wait_screen 'Write freeze: who still writes' 10; ok $? "W opens the freeze watch"
wait_screen 'last write seen: public.clients \+[0-9]+' 10; ok $? "the table written is named"
wait_screen 'app_user@local \(shop-api\) x1' 10; ok $? "and the writer's role, client and application_name"
wait_screen 'ignoring sessions of: supabase_admin' 5; ok $? "the ignore list is shown"
touch "$E2E_DIR/stop"; wait "$WRITER" 2>/dev/null
wait_screen 'FREEZE PROVEN: quiet for [0-9]+ s' 20; ok $? "proven once the writer stopped"
i=0
while [ "$(pgc log --json | jq '[.[] | select(.kind == "freeze")] | length')" -lt 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(pgc log --json | jq -r '[.[] | select(.kind == "freeze")] | last | "\(.payload.mode) \(.payload.verdict)"')" "console proven" \
	"the driver recorded the proof"
keys Escape
keys B
wait_screen 'ok +freeze +[0-9:]+ +proven: quiet' 10; ok $? "the go board's freeze input is green"
keys Escape

# R on the phase after freeze apply: the console's rollback releases the
# freeze as `pgcutover rollback` does (the same core, on the loop)
keys q
wait_exit 10 >/dev/null
touch "$E2E_DIR/stop"
pgc freeze apply --roles app_user --yes >/dev/null; is "$?" 0 "freeze applied to app_user (headless)"
console_start
wait_screen 'DRIVER' 15; ok $? "console opens again"
is "$(pg_psql src "select count(*) from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
                   where r.rolname = 'app_user' and 'default_transaction_read_only=on' = any(s.setconfig)")" 1 \
	"the role is read-only on the source"
keys h h R   # on the phases rail (list -> counts -> phases)
wait_screen 'Roll back phase 1: type the phase id or yes' 10; ok $? "R asks for the phase id"
text yes
keys Enter
wait_screen 'write freeze released on the source' 15; ok $? "the output says the freeze was released"
wait_screen 'phase 1 rolled back' 10; ok $? "then the phase is recorded rolled back"
is "$(pg_psql src "select count(*) from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
                   where r.rolname = 'app_user' and 'default_transaction_read_only=on' = any(s.setconfig)")" 0 \
	"the role writes again"
is "$(pgc log --json | jq '[.[] | select(.kind == "freeze_released")] | length')" 1 "the release is recorded"
keys Escape
keys q
wait_exit 10 >/dev/null
done_testing
