#!/bin/sh
# rest_errors.sh -- how `pgcutover counts` reports a Supabase/PostgREST
# source that says no: a wrong key (gateway 401, no code: exit 69), a table
# the server does not have (404 PGRST205 shown with its message and hint),
# a server error (500 with code and message as sent), a response slower than
# the timeout, nothing listening, and an unset key variable.  The server is
# tests/lib/postgrest-mini.py over a real PostgreSQL cluster; the key is
# checked to appear in none of the output.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v jq >/dev/null 2>&1 || skip_all "jq is needed to read --json output"

pg_start src
pg_start dst
for db in src dst; do
	pg_psql $db "create table clients(id int primary key); insert into clients select generate_series(1, 12);
	create table audit(id int primary key); create table slowpoke(id int primary key);
	create table echo(id int primary key);
	create table flaky(id int primary key); insert into flaky select generate_series(1, 5);
	create schema sales; create table sales.orders(id int primary key);
	insert into sales.orders select generate_series(1, 17);
	create schema hidden; create table hidden.secret(id int primary key);"
done
pg_psql dst "create table ghost(id int primary key)"

SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
SLOW_S=6
SLOW_TIMEOUT_MS=1500
# Generous for everything but the slow case: the test server runs psql per
# request and CI machines can be loaded.
TIMEOUT_MS=30000
rest_start api src --fail-table audit --slow-table slowpoke --slow-seconds $SLOW_S \
	--echo-key-table echo --flaky-table flaky --schemas public,sales
ok $? "PostgREST test server starts"

dir=$PGC_TMP/work
mkdir -p "$dir"
cp "$top_srcdir/examples/booking-runbook.md" "$dir/runbook.md"
write_config() {  # write_config URL TABLE...
	_url=$1; shift
	_tables=$(printf '"%s",' "$@")
	cat >"$dir/pgcutover.json" <<EOF
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": {"supabase": {"url": "$_url", "key_env": "SUPABASE_KEY"}},
  "target": "$PG_DST_CONNINFO",
  "tables": [${_tables%,}],
  "statement_timeout_ms": $TIMEOUT_MS
}
EOF
}
n=0
run_counts() {  # output in $out (stdout+stderr), exit status in $rc
	n=$((n + 1))
	"$PGCUTOVER" -c "$dir/pgcutover.json" counts --json --exact >"$dir/out$n" 2>"$dir/err$n"
	rc=$?
	out=$(cat "$dir/out$n" "$dir/err$n")
}
src_error() { jq -r --arg t "$1" '.tables[] | select(.table == $t) | .source_error' "$dir/out$n"; }

# Baseline: the right key works; another schema goes in Accept-Profile.
write_config "$REST_API_URL" clients sales.orders
run_counts
is "$rc" 0 "right key: counts match, exit 0"
is "$(jq -r '.tables[1].source' "$dir/out$n")" "$(pg_psql src 'select count(*) from sales.orders')" \
	"sales.orders counted from its schema"
like "$(grep 'orders' "$REST_API_LOG" | head -1)" '^HEAD /rest/v1/orders\?.* profile=sales$' \
	"schema sent as Accept-Profile, table alone in the path"

# A schema the server does not expose: 406 PGRST106 with its hint.
write_config "$REST_API_URL" hidden.secret
run_counts
[ "$rc" -ne 0 ]; ok $? "unexposed schema: non-zero exit ($rc)"
like "$(src_error hidden.secret)" 'HTTP 406 PGRST106: Invalid schema: hidden \(hint: Only the following schemas are exposed: public, sales\)' \
	"406 PGRST106 shown with message and hint"

# A server that quotes the key back: the message is shown with the key masked.
write_config "$REST_API_URL" echo
run_counts
like "$(src_error echo)" 'HTTP 400 PGRST100: rejected apikey \*\*\* for this table \(details: apikey=\*\*\*\)' \
	"key quoted by the server is masked as *** in message and details"

# Wrong key: the gateway's 401 has message and hint but no code.
write_config "$REST_API_URL" clients
good_key=$SUPABASE_KEY
SUPABASE_KEY=$(rest_new_key sb)
bad_key=$SUPABASE_KEY
run_counts
is "$rc" 69 "wrong key: source unusable, exit 69"
like "$out" 'HTTP 401' "401 status shown"
like "$out" 'Invalid API key' "gateway message shown as sent"
like "$out" 'Double check your Supabase' "gateway hint shown as sent"
like "$(src_error clients)" '^.+$' "the table carries the source error in JSON"
SUPABASE_KEY=$good_key

# Unset key variable: a configuration error, before any request.
lines_before=$(wc -l <"$REST_API_LOG")
( unset SUPABASE_KEY; "$PGCUTOVER" -c "$dir/pgcutover.json" counts --json --exact >"$dir/unset.out" 2>&1 )
rc=$?
is "$rc" 78 "unset key variable: configuration error, exit 78"
like "$(cat "$dir/unset.out")" 'SUPABASE_KEY' "the message names the variable"
is "$(wc -l <"$REST_API_LOG")" "$lines_before" "no request was sent without a key"

# A table PostgREST does not know: 404 PGRST205 with message and hint.
write_config "$REST_API_URL" clients ghost
run_counts
[ "$rc" -ne 0 ]; ok $? "missing table: non-zero exit ($rc)"
like "$(src_error ghost)" 'PGRST205' "PGRST205 code shown"
like "$(src_error ghost)" "Could not find the table 'public.ghost' in the schema cache" \
	"PostgREST message shown as sent"
like "$(src_error ghost)" 'HTTP 404' "404 status shown"
is "$(jq -r '.tables[0].source' "$dir/out$n")" \
	"$(pg_psql src 'select count(*) from clients')" "the other table is still counted"
like "$(grep 'ghost' "$REST_API_LOG" | tail -1)" '^GET /rest/v1/ghost\?select=\*&limit=0 status=404' \
	"after the bodiless HEAD, a GET with limit=0 fetched the error body"

# A server error: 500 with the body's code and message.
write_config "$REST_API_URL" audit
run_counts
is "$rc" 69 "500 from the server: exit 69"
like "$(src_error audit)" 'HTTP 500 XX000: internal error \(postgrest-mini --fail-table\)' \
	"500 shown with code and message"

# A 503 once: retried after a backoff, then counted.
write_config "$REST_API_URL" flaky
run_counts
is "$rc" 0 "503 then success: retried, counts match, exit 0"
grep 'flaky' "$REST_API_LOG" | sed 's/ apikey.*//' >"$dir/flaky.log"
is "$(head -2 "$dir/flaky.log" | tr '\n' ' ')" \
	"HEAD /rest/v1/flaky?select=*&limit=1 status=503 HEAD /rest/v1/flaky?select=*&limit=1 status=206 " \
	"the 503 HEAD was sent again and answered 206"

# Slower than the timeout: a timeout error, well before the server answers.
TIMEOUT_MS=$SLOW_TIMEOUT_MS
write_config "$REST_API_URL" slowpoke
start=$(date +%s)
run_counts
took=$(( $(date +%s) - start ))
is "$rc" 69 "slow answer: exit 69"
like "$(src_error slowpoke)" "no answer within $SLOW_TIMEOUT_MS ms" "timeout error names the limit"
[ "$took" -lt "$SLOW_S" ]; ok $? "gave up before the server's $SLOW_S s answer (took ${took}s)"

# Nothing listening: refused, retried with backoff, reported.
rest_stop api
write_config "$REST_API_URL" clients
run_counts
is "$rc" 69 "server down: exit 69"
like "$out" "cannot reach $REST_API_URL" "connection error names the server"

# None of that output carries either key.
leaks=0
for key in "$good_key" "$bad_key"; do
	for f in "$dir"/out* "$dir"/err* "$dir/unset.out" "$REST_API_LOG"; do
		grep -qaF "$key" "$f" && { diag "key found in $f"; leaks=1; }
	done
done
is "$leaks" 0 "no key in any output or log"

done_testing
