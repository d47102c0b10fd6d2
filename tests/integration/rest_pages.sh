#!/bin/sh
# rest_pages.sh -- data pages from the PostgREST test server
# (tests/lib/postgrest-mini.py), as `pgcutover verify` will read a
# Supabase source: select with casts and aliases, order, gt filters on int
# and text keys, an or/and tree on a composite key (quoted values with
# commas and escaped quotes), Range and limit/offset, the --max-rows cap
# with its Content-Range and 200/206/416, an unknown column (400 42703),
# and --session-timezone changing how timestamptz renders.  Every body is
# compared with what psql renders from the same cluster with json_agg.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v curl >/dev/null 2>&1 || skip_all "curl (the command) is needed to query the test server"
command -v jq >/dev/null 2>&1 || skip_all "jq is needed to read the JSON pages"

pg_start src
pg_psql src "create table items(id int primary key, amount numeric(12,2), name text, ts timestamptz, flag boolean);
insert into items select g, g * 1.5, case when g % 7 = 0 then null else 'n' || g end,
	timestamptz '2024-01-01 00:00:00+00' + g * interval '37 minutes', g % 2 = 0
	from generate_series(1, 2500) g;
create table pairs(a int, b text, v int, primary key (a, b));
insert into pairs select g / 10, 'k' || (g % 10), g from generate_series(0, 299) g;
insert into pairs values (7, 'k3,x', 1000), (7, 'k3\"q', 1001), (7, 'k3 z', 1002);
create table words(k text primary key, n int);
insert into words select md5(g::text), g from generate_series(1, 300) g;
insert into words values ('a,b', 1), ('a+b', 2), ('a.b', 3), ('a b', 4), ('a\"b', 5);
create table nothing(id int);
analyze"
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
MAX_ROWS=1000
rest_start api src --max-rows $MAX_ROWS
ok $? "server with --max-rows $MAX_ROWS starts"
# A zone with a half-hour offset, unlike any default the cluster may have.
TZ_OTHER=Asia/Kolkata
rest_start tz src --session-timezone $TZ_OTHER
ok $? "server with --session-timezone $TZ_OTHER (no max-rows) starts"

n_api=0
get() {  # get URL PATH?QUERY [curl args...] -> $status $range $body
	_u=$1 _p=$2
	shift 2
	[ "$_u" = "$REST_API_URL" ] && n_api=$((n_api + 1))
	: >"$PGC_TMP/body"
	curl -s -g -D "$PGC_TMP/hdr" -o "$PGC_TMP/body" -H "apikey: $SUPABASE_KEY" \
		-H "Accept: application/json" "$@" "$_u/rest/v1/$_p" >/dev/null 2>&1
	status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$PGC_TMP/hdr")
	range=$(sed -n 's/^Content-Range: *\([^\r]*\).*/\1/Ip' "$PGC_TMP/hdr")
	body=$(cat "$PGC_TMP/body")
}
rows() { pg_psql src "select coalesce(json_agg(_t), '[]') from ($1) _t"; }  # as PostgREST renders
R() { printf '%s\n' -H "Range-Unit: items" -H "Range: $1"; }
exact='Prefer: count=exact'

# 1. The probe: select=*, Range 0-0.
total=$(pg_psql src "select count(*) from items")
get "$REST_API_URL" 'items?select=*' -H "Range-Unit: items" -H "Range: 0-0" -H "$exact"
is "$status $range" "206 0-0/$total" "probe with count=exact: 206 and 0-0/$total"
is "$body" "$(rows 'select * from items limit 1')" "probe: one row, every column as PostgreSQL renders it to JSON"
get "$REST_API_URL" 'items?select=*' -H "Range-Unit: items" -H "Range: 0-0"
is "$status $range" "200 0-0/*" "probe without a count: 200 and 0-0/*"
get "$REST_API_URL" 'nothing?select=*' -H "Range-Unit: items" -H "Range: 0-0" -H "$exact"
is "$status $range $body" "200 */0 []" "probe of an empty table: 200, */0, []"
get "$REST_API_URL" 'nothing?select=*' -H "Range-Unit: items" -H "Range: 0-0"
is "$status $range $body" "200 */* []" "empty table, no count: */*"

# 2. Pages: casts, order, a gt filter on an int key.
sel='select=id::text,amount::text,name::text&order=id.asc'
get "$REST_API_URL" "items?$sel&id=gt.42" -H "Range-Unit: items" -H "Range: 0-999"
is "$status $range" "200 0-999/*" "page of 1000 without count: 200 and 0-999/*"
is "$body" "$(rows 'select id::text as id, amount::text as amount, name::text as name from items where id > 42 order by items.id limit 1000')" \
	"casts to text, order by id, id > 42: the rows psql gives"
is "$(jq -r '.[0].id | type' "$PGC_TMP/body")" "string" "a ::text column is a JSON string"
is "$(jq -r '[.[] | select(.name == null)] | length > 0' "$PGC_TMP/body")" "true" "NULL stays null after a cast"
left=$(pg_psql src "select count(*) from items where id > 42")
get "$REST_API_URL" "items?$sel&id=gt.42" -H "Range-Unit: items" -H "Range: 0-999" -H "$exact"
is "$status $range" "206 0-999/$left" "the count is of the filtered rows: 206 and 0-999/$left"
get "$REST_API_URL" 'items?select=ident:id::text,amount,flag&order=id.desc&id=lte.5' -H "$exact"
is "$body" "$(rows 'select id::text as ident, amount, flag from items where id <= 5 order by id desc')" \
	"alias:col::type, uncast numeric and boolean, desc order, lte"
is "$status $range" "200 0-4/5" "all filtered rows returned: 200 and 0-4/5"
is "$(jq -r '.[0].amount | type' "$PGC_TMP/body")" "number" "an uncast numeric is a JSON number"
get "$REST_API_URL" 'items?select=id,name&order=name.desc.nullslast,id.asc&id=lt.30'
is "$body" "$(rows 'select id, name from items where id < 30 order by name desc nulls last, id')" \
	"order name.desc.nullslast,id.asc"
get "$REST_API_URL" 'items?select=id&order=name.asc.nullsfirst,id&id=lt.30&flag=eq.true'
is "$body" "$(rows 'select id from items where id < 30 and flag = true order by name nulls first, id')" \
	"nullsfirst, and two filters (eq on a boolean) combined with AND"
get "$REST_API_URL" 'items?select=id&order=id&id=neq.3&id=gte.2&id=lt.8'
is "$body" "$(rows 'select id from items where id <> 3 and id >= 2 and id < 8 order by id')" \
	"neq, gte and lt on the same column"

# Text keys: values are URL-decoded, everything after the first dot is the value.
k=$(pg_psql src "select k from words where n = 150 and k ~ '^[0-9a-f]{32}$'")
get "$REST_API_URL" "words?select=k,n&order=k.asc&k=gt.$k" -H "Range-Unit: items" -H "Range: 0-49"
is "$body" "$(rows "select k, n from words where k > '$k' order by k limit 50")" "gt on a text key"
get "$REST_API_URL" 'words?select=k&order=k&k=eq.a%2Bb'
is "$body" '[{"k":"a+b"}]' "%2B decodes to +"
get "$REST_API_URL" 'words?select=k&order=k&k=eq.a.b'
is "$body" '[{"k":"a.b"}]' "a dot in the value stays in it"
get "$REST_API_URL" 'words?select=k&order=k&k=gte.a%20b&k=lte.a%2Cb'
is "$body" "$(rows "select k from words where k >= 'a b' and k <= 'a,b' order by k")" "space and comma in values"

# 3. A logic tree on a composite key (keyset pagination after (7, 'k3')).
get "$REST_API_URL" 'pairs?select=a,b,v&order=a.asc,b.asc&or=(a.gt.7,and(a.eq.7,b.gt.k3))' -H "Range: 0-49"
is "$body" "$(rows "select a, b, v from pairs where a > 7 or (a = 7 and b > 'k3') order by a, b limit 50")" \
	"or=(a.gt.7,and(a.eq.7,b.gt.k3))"
is "$(jq -r '.[0].b' "$PGC_TMP/body")" "k3 z" "the page starts right after the key (C order: 'k3 z')"
get "$REST_API_URL" 'pairs?select=a,b&order=a,b&or=(a.gt.7,and(a.eq.7,b.gt.%22k3,x%22))' -H "Range: 0-9"
is "$body" "$(rows "select a, b from pairs where a > 7 or (a = 7 and b > 'k3,x') order by a, b limit 10")" \
	"a double-quoted value holds a comma"
get "$REST_API_URL" 'pairs?select=a,b&order=a,b&or=(a.gt.7,and(a.eq.7,b.gte.%22k3%5C%22q%22))' -H "Range: 0-2"
is "$body" "$(rows "select a, b from pairs where a > 7 or (a = 7 and b >= 'k3\"q') order by a, b limit 3")" \
	"\\\" escapes a quote in a quoted value"
is "$(jq -r '.[0].b' "$PGC_TMP/body")" 'k3"q' "the quoted key is the first row"
get "$REST_API_URL" 'pairs?select=a,b&order=a,b&and=(a.gte.3,or(b.eq.k1,b.eq.k2),not.or(a.eq.4))&a=lt.6'
is "$body" "$(rows "select a, b from pairs where a >= 3 and (b = 'k1' or b = 'k2') and not (a = 4) and a < 6 order by a, b")" \
	"and=(...) with nested or and not.or, plus a filter"

# 4. Range and limit/offset; the max-rows cap.
get "$REST_API_URL" 'items?select=id&order=id&limit=1000&offset=2000' -H "$exact"
is "$status $range" "206 2000-2499/$total" "limit/offset: the last 500 rows, 2000-2499/$total"
is "$body" "$(rows 'select id from items order by id limit 1000 offset 2000')" "limit/offset rows"
get "$REST_API_URL" 'items?select=id&order=id' -H "Range-Unit: items" -H "Range: 2400-"
is "$status $range $(jq length "$PGC_TMP/body")" "200 2400-2499/* 100" "open Range 2400-: to the end"
get "$REST_API_URL" 'items?select=id&order=id' -H "Range-Unit: items" -H "Range: 0-4999"
is "$status $range $(jq length "$PGC_TMP/body")" "200 0-999/* $MAX_ROWS" \
	"Range 0-4999 capped by --max-rows: $MAX_ROWS rows, 0-999/*"
get "$REST_API_URL" 'items?select=id&order=id&offset=1500' -H "$exact"
is "$status $range $(jq length "$PGC_TMP/body")" "206 1500-2499/$total $MAX_ROWS" \
	"no range at all: still $MAX_ROWS rows, 206 with a count"
get "$REST_API_URL" 'items?select=id&order=id&limit=5000' -H "$exact"
is "$status $range" "206 0-999/$total" "limit=5000 capped: 0-999/$total"
is "$body" "$(rows 'select id from items order by id limit 1000')" "the capped page holds the first $MAX_ROWS rows"
get "$REST_API_URL" 'items?select=id&order=id&offset=5' -H "Range-Unit: items" -H "Range: 0-9"
is "$range $body" "$(printf '5-9/* %s' "$(rows 'select id from items order by id limit 5 offset 5')")" \
	"Range 0-9 with offset=5: their intersection, 5-9"
get "$REST_API_URL" 'items?select=id&order=id&offset=100' -H "Range-Unit: items" -H "Range: 0-9"
is "$status $(jq -r .code "$PGC_TMP/body")" "400 PGRST103" "Range 0-9 with offset=100: empty intersection, 400 PGRST103"
get "$REST_API_URL" 'items?select=id&order=id' -H "Range-Unit: items" -H "Range: 3000-3999" -H "$exact"
is "$status $range $(jq -r .code "$PGC_TMP/body")" "416 */$total PGRST103" "offset past the count: 416 PGRST103"
get "$REST_API_URL" 'items?select=id&order=id' -H "Range-Unit: items" -H "Range: 3000-3999"
is "$status $range $body" "200 */* []" "past the end without a count: 200, */*, []"
get "$REST_API_URL" 'items?select=id&id=gt.999999' -H "Range-Unit: items" -H "Range: 0-999" -H "$exact"
is "$status $range $body" "200 */0 []" "no row matches, count asked: */0 and []"
get "$REST_API_URL" 'items?select=id' -H "Range-Unit: items" -H "Range: 9-3"
is "$status $(jq -r .code "$PGC_TMP/body")" "400 PGRST103" "Range 9-3: 400 PGRST103"
get "$REST_TZ_URL" 'items?select=id&order=id' -H "Range-Unit: items" -H "Range: 0-4999" -H "$exact"
is "$status $range $(jq length "$PGC_TMP/body")" "200 0-$((total - 1))/$total $total" \
	"without --max-rows the whole table in one answer: 200"

# A whole keyset walk reproduces the table.
last=0 pages=0 : >"$PGC_TMP/walk"
while [ $pages -lt 10 ]; do
	get "$REST_API_URL" "items?select=id::text,amount::text&order=id.asc&id=gt.$last" -H "Range-Unit: items" -H "Range: 0-999"
	[ "$body" = "[]" ] && break
	jq -c '.[]' "$PGC_TMP/body" >>"$PGC_TMP/walk"
	last=$(jq -r '.[-1].id' "$PGC_TMP/body")
	pages=$((pages + 1))
done
is "$pages $(jq -s -c . "$PGC_TMP/walk" | md5sum)" \
	"$(( (total + MAX_ROWS - 1) / MAX_ROWS )) $(rows 'select id::text as id, amount::text as amount from items order by items.id' | jq -c . | md5sum)" \
	"keyset walk by id=gt.last in pages of $MAX_ROWS returns every row once, in order"

# 5. Errors.
get "$REST_API_URL" 'items?select=id,zzqqx::text&order=id' -H "Range: 0-9"
is "$status" 400 "unknown column in select: 400"
is "$(jq -c . "$PGC_TMP/body")" '{"code":"42703","details":null,"hint":null,"message":"column items.zzqqx does not exist"}' \
	"PostgreSQL's 42703 as PostgREST gives it"
get "$REST_API_URL" 'items?select=id&order=id&nope=gt.3'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 42703" "unknown column in a filter: 400 42703"
get "$REST_API_URL" 'items?select=id&order=nope.asc'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 42703" "unknown column in order: 400 42703"
get "$REST_API_URL" 'items?select=id&id=gt.abc'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 22P02" "a value the column's type refuses: 400 22P02"
get "$REST_API_URL" 'items?select=id::nosuchtype'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 42704" "unknown cast type: 400 42704"
get "$REST_API_URL" 'items?select=id&id=like.3'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 PGRST100" "operator not implemented: 400 PGRST100"
get "$REST_API_URL" 'items?select=id&or=(id.gt.3'
is "$status $(jq -r .code "$PGC_TMP/body")" "400 PGRST100" "unbalanced logic tree: 400 PGRST100"
get "$REST_API_URL" 'itemz?select=id' -H "Range: 0-9"
is "$status $(jq -r .code "$PGC_TMP/body")" "404 PGRST205" "unknown table: still 404 PGRST205"

# 6. --session-timezone: timestamptz renders in that zone.
want_default=$(pg_psql src "select ts::text from items where id = 1")
want_other=$(pg_psql src "set timezone = '$TZ_OTHER'; select ts::text from items where id = 1")
[ "$want_default" != "$want_other" ]
ok $? "the cluster's zone and $TZ_OTHER render differently ($want_default vs $want_other)"
get "$REST_API_URL" 'items?select=ts::text&id=eq.1'
is "$(jq -r '.[0].ts' "$PGC_TMP/body")" "$want_default" "default: the server's zone"
get "$REST_TZ_URL" 'items?select=ts::text&id=eq.1'
is "$(jq -r '.[0].ts' "$PGC_TMP/body")" "$want_other" "--session-timezone $TZ_OTHER: ts::text in that zone"
get "$REST_TZ_URL" 'items?select=ts&id=eq.1'
is "$body" "$(pg_psql src "set timezone = '$TZ_OTHER'; select coalesce(json_agg(_t), '[]') from (select ts from items where id = 1) _t")" \
	"and the uncast JSON timestamp too"

# 7. The log: one line per request, never the key.
is "$(wc -l <"$REST_API_LOG" | tr -d ' ')" "$n_api" "one log line per request ($n_api)"
grep -qF "$SUPABASE_KEY" "$REST_API_LOG" "$REST_TZ_LOG"; [ $? -eq 1 ]
ok $? "the key is in no log"
like "$(grep 'Range: 0-999\|range=0-999' "$REST_API_LOG" | head -1)" '^GET /rest/v1/items\?[^ ]+ status=200 apikey=present bearer=absent prefer=- range=0-999 profile=-$' \
	"a log line: method, path, status, auth presence, Prefer, Range, profile"

done_testing
