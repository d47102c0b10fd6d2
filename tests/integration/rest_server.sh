#!/bin/sh
# rest_server.sh -- the PostgREST test server itself (tests/lib/postgrest-mini.py):
# the other REST tests are only as good as its imitation of PostgREST, so
# its answers are checked here with curl against a real cluster: the
# Content-Range forms, 200 vs 206, the gateway's 401
# without a code, 404 PGRST205, Prefer: count=estimated switching to the
# planner above max-rows, and that it exits when its parent goes away.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v curl >/dev/null 2>&1 || skip_all "curl (the command) is needed to query the test server"

pg_start src
pg_psql src "create table clients(id int primary key); insert into clients select generate_series(1, 41);
create table one(id int); insert into one values (1);
create table nothing(id int);
create table shrunk(id int); insert into shrunk select generate_series(1, 4000); analyze shrunk;
delete from shrunk where id > 1500;"
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
MAX_ROWS=1000
rest_start api src --max-rows $MAX_ROWS
ok $? "server starts"

req() {  # req METHOD TABLE PREFER [curl args...] -> headers+body in $dir/resp
	_m=$1 _t=$2 _p=$3; shift 3
	curl -s -D "$PGC_TMP/hdr" -o "$PGC_TMP/body" -X "$_m" \
		-H "apikey: $SUPABASE_KEY" -H "Prefer: count=$_p" "$@" \
		"$REST_API_URL/rest/v1/$_t?select=*&limit=1" >/dev/null 2>&1
	status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$PGC_TMP/hdr")
	range=$(sed -n 's/^Content-Range: *\([^\r]*\).*/\1/Ip' "$PGC_TMP/hdr")
}
head_req() { curl -s -I -H "apikey: $SUPABASE_KEY" -H "Prefer: count=$2" \
	"$REST_API_URL/rest/v1/$1?select=*&limit=1" >"$PGC_TMP/hdr" 2>/dev/null
	status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$PGC_TMP/hdr")
	range=$(sed -n 's/^Content-Range: *\([^\r]*\).*/\1/Ip' "$PGC_TMP/hdr"); }

n=$(pg_psql src "select count(*) from clients")
head_req clients exact
is "$status $range" "206 0-0/$n" "rows left out: 206 and 0-0/$n"
head_req one exact
is "$status $range" "200 0-0/1" "all rows returned: 200 and 0-0/1"
head_req nothing exact
is "$status $range" "200 */0" "empty table: */0"
head_req clients none
is "$status $range" "200 0-0/*" "no count asked: total is *"
req GET clients exact
is "$(cat "$PGC_TMP/body")" "$(pg_psql src "select json_agg(_t) from (select * from clients limit 1) _t")" \
	"GET returns limit rows, rendered by json_agg (rest_pages.sh checks pages)"

n=$(pg_psql src "select count(*) from shrunk")
planned=$(pg_psql src "explain (format json) select * from shrunk" | tr -d ' \n' |
	sed -n 's/.*"PlanRows":\([0-9]*\).*/\1/p')
[ "$planned" -gt 0 ] && [ "$planned" != "$n" ]
ok $? "planner ($planned) and count(*) ($n) differ after the delete, so the checks below tell them apart"
head_req shrunk exact
is "$range" "0-0/$n" "exact: count(*) ($n)"
head_req shrunk planned
is "$range" "0-0/$planned" "planned: the planner's rows ($planned)"
head_req shrunk estimated
is "$range" "0-0/$planned" "estimated above max-rows ($MAX_ROWS): planned figure"
head_req one estimated
is "$range" "0-0/1" "estimated below max-rows: exact figure"

curl -s -H "apikey: wrong" "$REST_API_URL/rest/v1/clients?select=*&limit=0" >"$PGC_TMP/b401"
is "$(jq -r 'has("code")' "$PGC_TMP/b401")" "false" "gateway 401 body has no code"
is "$(jq -r '.message' "$PGC_TMP/b401")" "Invalid API key" "gateway 401 message"
curl -s "$REST_API_URL/rest/v1/clients?select=*&limit=0" >"$PGC_TMP/b401b"
is "$(jq -r '.message' "$PGC_TMP/b401b")" "No API key found in request" "no apikey: 401"
curl -s -H "apikey: $SUPABASE_KEY" -H "Authorization: Bearer $SUPABASE_KEY" \
	"$REST_API_URL/rest/v1/clients?select=*&limit=0" -w '%{http_code}' -o /dev/null >"$PGC_TMP/code"
is "$(cat "$PGC_TMP/code")" "401" "an sb_ key as Bearer token is refused"
curl -s -H "apikey: $SUPABASE_KEY" "$REST_API_URL/rest/v1/client?select=*&limit=0" >"$PGC_TMP/b404"
is "$(jq -r '.code' "$PGC_TMP/b404")" "PGRST205" "unknown table: PGRST205"
is "$(jq -r '.hint' "$PGC_TMP/b404")" "Perhaps you meant the table 'public.clients'" "with a hint"
curl -s -I -H "apikey: $SUPABASE_KEY" "$REST_API_URL/rest/v1/client?select=*&limit=0" >"$PGC_TMP/h404"
like "$(head -1 "$PGC_TMP/h404")" '404' "HEAD of an unknown table: 404"

# The server exits when the process it watches ends.
sleep 60 &
watched=$!
python3 "$top_srcdir/tests/lib/postgrest-mini.py" --conninfo "$(pg_conninfo src)" \
	--parent-pid $watched --port-file "$PGC_TMP/p2" >/dev/null 2>&1 &
srv=$!
pg_atexit "kill $srv $watched 2>/dev/null"
i=0
while [ ! -s "$PGC_TMP/p2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $srv 2>/dev/null; ok $? "a second server runs while the process it watches lives"
kill $watched
i=0
while kill -0 $srv 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $srv 2>/dev/null; [ $? -ne 0 ]; ok $? "it exits when that process has gone"

done_testing
