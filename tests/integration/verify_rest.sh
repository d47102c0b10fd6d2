#!/bin/sh
# verify_rest.sh -- `pgcutover verify` with a Supabase/PostgREST source: the
# source's rows come in keyset pages over HTTP (tests/lib/postgrest-mini.py
# answering from a real cluster) and are hashed by pgcutover, the target's
# rows of each page's key range come from SQL and are hashed the same way.
# Identical tables are equal (exit 0) through many pages, also when the
# server cuts pages short (max-rows); ten scattered rows changed, deleted
# and inserted are all named with the changed columns; the first and the
# last row; a column order that differs is no difference; NULL differs from
# ''; the source rendering timestamps in another time zone is no
# difference; a composite key (an or=(…) filter past a page) is an array; a
# text key; a table without a primary key gets a whole-table count and
# hash; a column on one side only is one schema difference; a table the
# source lacks is a difference, a wrong key an error; the run is recorded.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY

N_ITEMS=3000
for side in src dst; do
	pg_psql "$side" "
		create table items(id bigint primary key, label text, qty int, price numeric(10,2), ok boolean, ratio float8);
		insert into items select g, 'item ' || g, g % 17, g * 1.25, g % 2 = 0, g / 7.0
			from generate_series(1, $N_ITEMS) g;
		create table nulls(id int primary key, note text);
		insert into nulls values (1, ''), (2, NULL), (3, 'x');
		create table events(id int primary key, at timestamptz, d jsonb);
		insert into events values (1, '2024-03-01 07:00:00+00', '{\"b\": 1, \"a\": [1, 2]}'),
			(2, '2024-07-01 12:30:00.123456+00', NULL), (3, '1999-12-31 23:59:59.5+00', '{}');
		create table loose(a int, b text);
		insert into loose select g, 'b' || g from generate_series(1, 120) g;
		create table pairs(tenant int, n int, v text, primary key (tenant, n));
		insert into pairs select t, n, 'v' || t || '-' || n from generate_series(1, 3) t, generate_series(1, 40) n;
		create table words(w text primary key, n int);
		insert into words select 'w' || lpad(g::text, 6, '0'), g from generate_series(1, 500) g;
		create table wide(id int primary key, a text);
		insert into wide select g, 'a' || g from generate_series(1, 100) g;
		analyze;"
done
pg_psql dst "create table reordered(c text, b int, id int primary key, a text);
             insert into reordered(id, a, b, c) select g, 'a' || g, g, 'c' || g from generate_series(1, 300) g"
pg_psql src "create table reordered(id int primary key, a text, b int, c text);
             insert into reordered select g, 'a' || g, g, 'c' || g from generate_series(1, 300) g"
pg_psql dst "alter table wide add column extra int; create table only_target(id int primary key)"

# The API renders timestamps in another zone than the target's sessions,
# and cuts every page at 70 rows (as Supabase's max-rows does at 1000).
rest_start api src --session-timezone Asia/Kolkata --max-rows 70 --no-filter-table nulls_again || exit 1

printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
write_config() {  # write_config PAGE_ROWS
	cat >"$cfg" <<JSON
{"runbook": "runbook.md", "state": "state.db",
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY"}},
 "target": "$PG_DST_CONNINFO",
 "verify": {"page_rows": $1},
 "tables": [{"name": "items"}, {"name": "nulls"}, {"name": "events"}, {"name": "loose"},
            {"name": "pairs"}, {"name": "words"}, {"name": "reordered"}, {"name": "wide"}]}
JSON
}
write_config 100
v() { "$PGCUTOVER" -c "$cfg" verify --json "$@"; }
tab() { printf '%s' "$out" | jq -c --arg t "$1" ".tables[] | select(.table == \$t) | $2"; }

for t in items nulls events pairs words reordered; do
	out=$(v --table "$t"); rc=$?
	is "$rc" 0 "$t: identical on both sides (source over REST): exit 0"
	is "$(tab "$t" '"\(.equal) \(.state)"')" '"true matched"' "$t: equal, matched"
done
out=$(v --table items)
is "$(tab items .rows)" "$N_ITEMS" "items: every source row checked, in pages cut short by the server"
pages=$(grep -c 'GET /rest/v1/items?select=' "$REST_API_LOG")
[ "$pages" -ge $((N_ITEMS / 70)) ]; ok $? "items: read in pages ($pages requests, max-rows 70)"
like "$(grep 'GET /rest/v1/items?select=' "$REST_API_LOG" | tail -1)" "id=gt\\.[0-9]+" \
	"keyset pages: past the last key"
out=$(v --table reordered)
is "$(tab reordered .rows)" 300 "reordered: every row checked despite the column order"

out=$(v --table loose); rc=$?
is "$rc" 0 "no primary key, same rows: exit 0"
is "$(tab loose '"\(.equal) \(.state) \(.source_rows) \(.target_rows)"')" '"true no_primary_key 120 120"' \
	"no primary key: whole-table count and hash, both sides paged"
pg_psql dst "update loose set b = 'changed' where a = 7"
out=$(v --table loose); rc=$?
is "$rc" 1 "no primary key, a row differs: exit 1"
is "$(tab loose '"\(.equal) \(.state)"')" '"false no_primary_key"' "no primary key: the hash differs"

out=$(v --table wide); rc=$?
is "$rc" 1 "a column on the target only: a difference"
is "$(tab wide '"\(.schema | length) \(.changed_n) \(.missing_n) \(.extra_n) \(.rows)"')" '"1 0 0 0 100"' \
	"one schema difference, no row reported as changed"
like "$(tab wide '.schema[0]')" "column extra: only on the target" "the schema difference names the column"

# Ten scattered differences: 4 changed, 3 deleted, 3 inserted.
pg_psql dst "update items set label = 'X' where id in (17, 1222, 2100);
             update items set qty = qty + 1 where id = 2999;
             delete from items where id in (333, 2001, 2500);
             insert into items values (3001, 'new', 1, 1, true, 1), (3500, 'new', 2, 1, true, 1),
                                      (9000, 'new', 3, 1, true, 1)"
out=$(v --table items); rc=$?
is "$rc" 1 "scattered differences: exit 1"
is "$(tab items '.missing | sort')" '[333,2001,2500]' "deleted rows: missing on the target"
is "$(tab items '.extra | sort')" '[3001,3500,9000]' "inserted rows (also past the source's last key): extra"
is "$(tab items '.changed | sort')" '[17,1222,2100,2999]' "changed rows named"
is "$(tab items '[.changed_columns[] | select(.key == 2999) | .columns[]]')" '["qty"]' \
	"a changed row names the column that differs"
write_config 1000
out=$(v --table items)
is "$(tab items '"\(.missing_n) \(.extra_n) \(.changed_n)"')" '"3 3 4"' \
	"page_rows above the server's max-rows: the same findings"
write_config 100

pg_psql dst "update items set price = price + 0.01 where id = 1; update items set ok = not ok where id = $N_ITEMS - 1"
out=$(v --table items)
is "$(tab items '[.changed_columns[] | select(.key == 1 or .key == 2999) | .columns[]] | sort')" \
	'["ok","price","qty"]' "the first row's numeric change and a boolean named"
pg_psql dst "update nulls set note = NULL where id = 1; update nulls set note = '' where id = 2"
out=$(v --table nulls)
is "$(tab nulls '.changed | sort')" '[1,2]' "NULL and empty string differ"
pg_psql dst "update events set at = at + interval '1 microsecond' where id = 2"
out=$(v --table events)
is "$(tab events .changed)" '[2]' "a microsecond later is a difference (other zone, same instant, is not)"
pg_psql dst "update pairs set v = 'x' where tenant = 2 and n = 7; delete from pairs where tenant = 3 and n = 40"
out=$(v --table pairs)
is "$(tab pairs .changed)" '[[2,7]]' "a composite key is an array"
is "$(tab pairs .missing)" '[[3,40]]' "a missing row of a composite key"
pg_psql dst "update words set n = -1 where w in ('w000001', 'w000250', 'w000500');
             insert into words values ('zzz', 0), ('a''quote', 1)"
out=$(v --table words)
is "$(tab words '.changed | sort')" '["w000001","w000250","w000500"]' "text keys: changed rows"
is "$(tab words '.extra | sort')" "[\"a'quote\",\"zzz\"]" "text keys: extra rows, one with a quote"

# The whole run, recorded (in a state file that exists).
"$PGCUTOVER" -c "$cfg" --operator tester note "start" >/dev/null 2>&1
out=$(v); rc=$?
is "$rc" 1 "all tables: exit 1"
is "$(printf '%s' "$out" | jq -r '[.tables[] | select(.equal) | .table] | join(",")')" "reordered" \
	"the one table still equal"
log=$("$PGCUTOVER" -c "$cfg" log --json)
rec=$(printf '%s' "$log" | jq -c '[.[] | select(.kind == "verify")] | last | .payload | if type == "string" then fromjson else . end')
is "$(printf '%s' "$rec" | jq -c '.tables[] | select(.table == "items") | .missing | sort')" '[333,2001,2500]' \
	"the audit record carries the differing keys"
! grep -q "$SUPABASE_KEY" "$PGC_TMP/state.db" "$REST_API_LOG"; ok $? "the key is in neither the state file nor the server's log"

is "$(printf '%s' "$rec" | jq -r '.tables[] | select(.table == "items") | .ranges[0].bounds')" "(]" \
	"the differing pages are recorded (after lo, up to and with hi)"

# A re-run re-checks the recorded pages first, then confirms the whole table;
# pages cut at 70 rows by the server are re-checked up to their last key.
pg_psql dst "update items set label = 'item ' || id, price = id * 1.25 where id in (1, 17)"
out=$(v --table items); rc=$?
is "$rc" 1 "one fix: still differences"
n_rec=$(printf '%s' "$rec" | jq '.tables[] | select(.table == "items") | .ranges | length')
is "$(tab items '"\(.rechecked.ranges) \(.changed | index(17)) \(.changed | index(1))"')" "\"$n_rec null null\"" \
	"re-run: every recorded page re-checked first ($n_rec), rows 1 and 17 no longer changed"
[ "$(tab items .rechecked.differ)" -ge 1 ] && [ "$(tab items .rechecked.differ)" -lt "$n_rec" ]
ok $? "...the fixed page re-checks equal, the others still differ ($(tab items .rechecked.differ) of $n_rec)"
pg_psql dst "delete from items where id > $N_ITEMS;
             insert into items select g, 'item ' || g, g % 17, g * 1.25, g % 2 = 0, g / 7.0
               from generate_series(1, $N_ITEMS) g on conflict (id) do update
               set label = excluded.label, qty = excluded.qty, price = excluded.price, ok = excluded.ok,
                   ratio = excluded.ratio"
out=$(v --table items); rc=$?
is "$rc" 0 "all fixed: exit 0"
is "$(tab items '"\(.rechecked.differ) \(.rows)"')" "\"0 $N_ITEMS\"" \
	"re-run: the recorded pages re-check equal, then every row is confirmed"

# A text key the two servers order differently (ICU on the source, "C" on
# the target, as a hosted database and a self-hosted one may): rows sit in
# other pages on each side, and are found by key, not called missing and
# extra; a real difference among them is still found.
is "$(pg_psql src "select count(*) from pg_collation where collname = 'und-x-icu'")" 1 \
	"Debian's PostgreSQL has ICU collations"
pg_psql src "create table codes(code text collate \"und-x-icu\" primary key, n int);
             insert into codes select c, n from (select chr(65 + g % 26) || chr(97 + g % 23) || g as c, g as n
               from generate_series(1, 400) g) x;
             insert into codes select lower(code) || '_', n from codes"
pg_psql dst "create table codes(code text collate \"C\" primary key, n int);
             insert into codes select c, n from (select chr(65 + g % 26) || chr(97 + g % 23) || g as c, g as n
               from generate_series(1, 400) g) x;
             insert into codes select lower(code) || '_', n from codes"
ordered_apart=$(pg_psql src "select count(*) from (select code, row_number() over (order by code) a,
                               row_number() over (order by code collate \"C\") b from codes) x where a <> b")
[ "$ordered_apart" -gt 100 ]; ok $? "the two orders differ for most keys ($ordered_apart of 800)"
sed 's/"name": "wide"/"name": "codes"/' "$cfg" >"$cfg.2" && mv "$cfg.2" "$cfg"
out=$(v --table codes); rc=$?
is "$rc" 0 "another order on each side: equal, exit 0"
is "$(tab codes '"\(.missing_n) \(.extra_n) \(.changed_n) \(.rows)"')" '"0 0 0 800"' \
	"no row called missing or extra, every row checked"
changed=$(pg_psql dst "select code from codes order by code limit 1")
missing=$(pg_psql dst "select code from codes order by code desc limit 1")
pg_psql dst "update codes set n = -1 where code = '$changed'; delete from codes where code = '$missing';
             insert into codes values ('zz_new', 1)"
out=$(v --table codes); rc=$?
is "$rc" 1 "a real difference among them: exit 1"
is "$(tab codes .missing)" "[\"$missing\"]" "the missing row named, nothing else"
is "$(tab codes .extra)" '["zz_new"]' "the extra row named, nothing else"
is "$(tab codes .changed)" "[\"$changed\"]" "the changed row named, nothing else"

# A table the source lacks: a difference; a wrong key: an error (not a difference).
sed 's/"name": "items"/"name": "only_target"/' "$cfg" >"$cfg.2" && mv "$cfg.2" "$cfg"
out=$(v --table only_target); rc=$?
is "$rc" 1 "a table missing on the source: exit 1"
like "$(tab only_target '.schema[0]')" "does not exist on the source" "...named as such"
# an API that drops the key filter would serve the first page for ever
pg_psql src "create table nulls_again as select * from nulls; alter table nulls_again add primary key (id);
             insert into nulls_again select g, 'n' || g from generate_series(10, 200) g"
pg_psql dst "create table nulls_again as select * from nulls; alter table nulls_again add primary key (id)"
sed 's/"name": "only_target"/"name": "nulls_again"/' "$cfg" >"$cfg.2" && mv "$cfg.2" "$cfg"
out=$(timeout 60 "$PGCUTOVER" -c "$cfg" verify --json --table nulls_again); rc=$?
is "$rc" 69 "an API that ignores the key filter: an error, not an endless run"
like "$(tab nulls_again .error)" "did not move past the last key" "...that says why"
out=$(SUPABASE_KEY=wrong v --table nulls); rc=$?
is "$rc" 69 "a key the API refuses: exit 69 (unavailable), not a difference"
like "$(tab nulls .error)" "source \\(http://127\\.0\\.0\\.1:[0-9]+\\): HTTP 401" "...the error names the source and the status"
done_testing
