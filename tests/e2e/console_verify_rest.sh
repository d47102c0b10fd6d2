#!/bin/sh
# console_verify_rest.sh -- V with a Supabase/PostgREST source: the verify
# screen shows each table's progress while the source's pages come over
# HTTP (rows, rows/s against the API's estimate), then what differs (the
# changed row and its column, the missing one) and the summary; the run is
# recorded like `pgcutover verify`'s; V again starts a new run and Esc
# cancels it between pages -- the screen says cancelled, the console keeps
# answering keys; the API key is never on the screen.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
for side in src dst; do
	pg_psql "$side" "create table items(id int primary key, label text);
	                 insert into items select g, 'item ' || g from generate_series(1, 3000) g;
	                 create table tags(id int primary key, t text);
	                 insert into tags select g, 't' || g from generate_series(1, 20) g; analyze" >/dev/null
done
pg_psql dst "update items set label = 'X' where id = 1717; delete from tags where id = 4" >/dev/null
rest_start api src || exit 1
printf '# Check\n\n## Phase 1: Copy\n\n- [ ] copy\n' > "$E2E_DIR/runbook.md"
# small pages with a rest between them: the run takes a few seconds
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "state": "state.db",
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY"}},
 "target": "$PG_DST_CONNINFO", "verify": {"page_rows": 100, "pause_ms": 150},
 "tables": [{"name": "items"}, {"name": "tags"}]}
JSON

console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys V
wait_screen 'Row-level verify' 5; ok $? "V opens the verify screen"
wait_screen 'items +checking +\[[^]]*\] +[0-9]+% +[0-9]+ ' 10; ok $? "items: progress while its pages come"
wait_screen 'tags +mismatched' 10; ok $? "tags: done before items, mismatched"
wait_screen '1/2 tables equal|0/2 tables equal' 30; ok $? "the result: the summary"
wait_screen 'items: changed 1717\(label\)' 2; ok $? "the result: the changed row and its column"
wait_screen 'tags: missing 4' 2; ok $? "the result: the missing row"
! screen | grep -q "$SUPABASE_KEY"; ok $? "the key is not on the screen"
is "$(pgc log --json | jq '[.[] | select(.kind == "verify")] | length')" 1 "the run is recorded"

keys V
wait_screen 'verifying\.\.\.' 5; ok $? "V again starts a new run"
wait_screen 'items +checking' 5; ok $? "items is being paged"
keys Escape
wait_screen 'items +cancelled' 5; ok $? "Esc cancels the run between pages: the table says cancelled"
n1=$(grep -c 'GET /rest/v1/items?select=' "$REST_API_LOG")
sleep 1
n2=$(grep -c 'GET /rest/v1/items?select=' "$REST_API_LOG")
is "$n2" "$n1" "no page is asked for after the cancel"
keys Escape
wait_screen_not 'Row-level verify' 5; ok $? "a second Esc closes it"
keys '?'
wait_screen 'Keys' 3; ok $? "the console answers keys"
keys Escape
keys q
is "$(wait_exit 20)" 0 "quit"
done_testing
