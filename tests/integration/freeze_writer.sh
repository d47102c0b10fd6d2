#!/bin/sh
# freeze_writer.sh -- `pgcutover freeze`: a writer that keeps inserting
# after the stop (its own role and application_name, one connection) makes
# `freeze check` exit 1 naming the table, the role and the application;
# `freeze watch` prints who still writes and ends proven once the writer
# stopped and the quiet window passed; a session of an ignored role (the
# hosted defaults: supabase_admin) holding a written transaction in a schema
# outside the comparison is shown as ignored and does not count; an app
# session idle in a written transaction does; `freeze apply` is refused
# without a confirmation, shows its SQL on --dry-run, makes the role's new
# transactions read-only with --yes, and `freeze release` undoes it; all of
# it recorded.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
PSQL=$(pg_psql_bin)
pg_psql src "create role app_user login; create role supabase_admin login;
             create table clients(id serial primary key, email text);
             grant insert, select on clients to app_user; grant usage on sequence clients_id_seq to app_user;
             create schema auth; create table auth.users(id int); grant all on schema auth to supabase_admin;
             grant all on auth.users to supabase_admin" >/dev/null

cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "state": "$PGC_TMP/state.db", "tables": [{"name": "clients"}]}
JSON
printf '# Runbook\n\n## Phase 1\n\n- [ ] Stop all PM2 services\n' >"$PGC_TMP/runbook.md"
field() { printf '%s' "$1" | jq -r "$2"; }
QUIET=3

# The writer: one connection as app_user, application_name shop-api,
# inserting every 0.2 s until $PGC_TMP/stop exists.
start_writer() {
	rm -f "$PGC_TMP/stop"
	(while [ ! -e "$PGC_TMP/stop" ]; do
		echo "insert into clients(email) values ('w');"
		sleep 0.2
	done | "$PSQL" "$PG_SRC_CONNINFO user=app_user application_name=shop-api" -X -q >/dev/null 2>&1) &
	WRITER=$!
	i=0
	while [ $i -lt 100 ] && [ "$(pg_psql src "select count(*) from clients")" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_writer() { touch "$PGC_TMP/stop"; wait "$WRITER" 2>/dev/null; }
pg_atexit 'touch "$PGC_TMP/stop" 2>/dev/null'

start_writer
out=$("$PGCUTOVER" -c "$cfg" freeze check --window $QUIET); rc=$?
is "$rc" 1 "check with a writer running: exit 1"
like "$out" "WRITE SEEN: public.clients \\+[0-9]+" "names the table written"
like "$out" "app_user@local \\(shop-api\\) x1" "names the role, client and application_name"
like "$out" "ignoring sessions of \\(hosted defaults.*supabase_admin.*authenticator.*rdsadmin" "the ignore list is shown"

out=$("$PGCUTOVER" -c "$cfg" freeze check --window $QUIET --json); rc=$?
is "$rc" 1 "check --json with a writer: exit 1"
is "$(field "$out" '.verdict')" write_seen "verdict write_seen"
is "$(field "$out" '.written[0].table')" public.clients "the written table"
is "$(field "$out" '.sessions[] | select(.role == "app_user") | "\(.application_name) \(.ignored)"')" "shop-api false" \
	"the writer's session, not ignored"

# Watch: the writer stops a little after; the watch says who writes, then
# proves the freeze.
( sleep 2; touch "$PGC_TMP/stop" ) &
t0=$(date +%s)
out=$("$PGCUTOVER" -c "$cfg" freeze watch --window $QUIET); rc=$?
t1=$(date +%s)
wait "$WRITER" 2>/dev/null
is "$rc" 0 "watch: exit 0 once proven"
like "$out" "WRITE SEEN: public.clients" "watch printed the writes while they happened"
like "$out" "FREEZE PROVEN: quiet for [0-9]+ s" "then proved the freeze"
ok "$([ $((t1 - t0)) -ge $QUIET ] && echo 0 || echo 1)" "it took at least the quiet window ($((t1 - t0)) s)"

# Nothing writes: an ignored role's written transaction in another schema
# does not count, and is shown.
"$PSQL" "$PG_SRC_CONNINFO user=supabase_admin application_name=realtime" -X -q \
	-c "begin" -c "insert into auth.users values (1)" -c "select pg_sleep(30)" >/dev/null 2>&1 &
IGN=$!
pg_atexit "kill $IGN 2>/dev/null"
i=0
while [ $i -lt 100 ] && [ "$(pg_psql src "select count(*) from pg_stat_activity where usename = 'supabase_admin' and backend_xid is not null")" != 1 ]; do sleep 0.1; i=$((i + 1)); done
out=$("$PGCUTOVER" -c "$cfg" freeze check --window $QUIET); rc=$?
is "$rc" 0 "check with only an ignored writer: exit 0"
like "$out" "ignored sessions: supabase_admin@local \\(realtime\\) x1 \\(1 writing\\)" "the ignored session is shown, not silent"
pg_psql src "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'supabase_admin'" >/dev/null
wait "$IGN" 2>/dev/null

# An app session idle in a transaction that wrote: its counters are not
# reported until it ends, so the open write counts by itself.
"$PSQL" "$PG_SRC_CONNINFO user=app_user application_name=shop-worker" -X -q \
	-c "begin" -c "insert into clients(email) values ('x')" -c "select pg_sleep(30)" >/dev/null 2>&1 &
OPEN=$!
pg_atexit "kill $OPEN 2>/dev/null"
i=0
while [ $i -lt 100 ] && [ "$(pg_psql src "select count(*) from pg_stat_activity where application_name = 'shop-worker' and backend_xid is not null")" != 1 ]; do sleep 0.1; i=$((i + 1)); done
out=$("$PGCUTOVER" -c "$cfg" freeze check --window $QUIET); rc=$?
is "$rc" 1 "an app session idle in a written transaction: exit 1"
like "$out" "app_user@local \\(shop-worker\\) writing in an open transaction x1" "named as writing in an open transaction"

# Enforcement.
out=$("$PGCUTOVER" -c "$cfg" freeze apply --roles app_user </dev/null 2>&1); rc=$?
is "$rc" 64 "apply without --yes and without a terminal: exit 64"
is "$(pg_psql src "select count(*) from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = 'app_user'")" 0 \
	"nothing set when refused"
out=$("$PGCUTOVER" -c "$cfg" freeze apply --roles app_user --dry-run); rc=$?
is "$rc" 0 "apply --dry-run: exit 0"
like "$out" "ALTER ROLE \"app_user\" SET default_transaction_read_only = on" "dry run shows the ALTER ROLE"
like "$out" "pg_terminate_backend.*usename = 'app_user'" "and the session kill"
out=$("$PGCUTOVER" -c "$cfg" freeze apply --roles app_user --yes); rc=$?
is "$rc" 0 "apply --yes: exit 0"
wait "$OPEN" 2>/dev/null
is "$(pg_psql src "select count(*) from pg_stat_activity where usename = 'app_user'")" 0 "the role's sessions were ended"
got=$("$PSQL" "$PG_SRC_CONNINFO user=app_user" -X -q -A -t -c "insert into clients(email) values ('late')" 2>&1)
like "$got" "read-only transaction" "a new transaction of the role cannot write"
out=$("$PGCUTOVER" -c "$cfg" freeze release --yes); rc=$?
is "$rc" 0 "release (the roles last applied): exit 0"
got=$("$PSQL" "$PG_SRC_CONNINFO user=app_user" -X -q -A -t -c "insert into clients(email) values ('after') returning email" 2>&1)
is "$got" after "after release the role writes again"

# A phase rollback undoes the freeze too.
"$PGCUTOVER" -c "$cfg" freeze apply --roles app_user --yes >/dev/null; is "$?" 0 "applied again"
out=$("$PGCUTOVER" -c "$cfg" rollback 1 --dry-run); rc=$?
like "$out" "role app_user is read-only on the source \\(freeze apply\\): the rollback releases it" "the rollback plan says it releases the freeze"
out=$("$PGCUTOVER" -c "$cfg" rollback 1 --yes); rc=$?
is "$rc" 0 "phase rollback: exit 0"
like "$out" "write freeze released on the source" "says the freeze was released"
got=$("$PSQL" "$PG_SRC_CONNINFO user=app_user" -X -q -A -t -c "insert into clients(email) values ('rolled') returning email" 2>&1)
is "$got" rolled "after the phase rollback the role writes again"

log=$("$PGCUTOVER" -c "$cfg" log --json)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind == "freeze")] | length')" 5 "every check and watch recorded"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind == "freeze") | .payload.verdict] | join(" ")')" \
	"write_seen write_seen proven proven write_seen" "with their verdicts"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind == "freeze_applied")][0] | .payload.statements[1]')" \
	"ALTER ROLE \"app_user\" SET default_transaction_read_only = on" "apply recorded with its statements"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind == "freeze_released") | .payload.roles[0]] | join(" ")')" "app_user app_user" \
	"release and the rollback's release recorded with the role"
done_testing
