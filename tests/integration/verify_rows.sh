#!/bin/sh
# verify_rows.sh -- `pgcutover verify` against two real clusters finds the
# rows that differ, not just the counts: identical tables are equal (exit
# 0); ten scattered rows changed, deleted and inserted on the target are
# all named (missing / extra / changed with the column), through ranges
# that are split down to small ones; the first and the last row; a column
# order that differs is no difference; NULL differs from ''; the same
# instants written in other time zones (and servers set to other zones)
# are equal; a table without a primary key gets a whole-table hash; a
# composite key is an array; a text key is cut by sampled boundaries; a
# column on one side only is one schema difference, not every row; the
# run is recorded in the audit with its differing keys.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

N_ITEMS=6000
N_WORDS=3000
# The target's server says another time zone; verify must not care.
pg_psql dst "alter database postgres set timezone = 'Asia/Tokyo'"
for side in src dst; do
	pg_psql "$side" "
		create table clients(id int primary key, name text, born date, score numeric(10,2), ratio float8);
		insert into clients select g, 'c' || g, date '2000-01-01' + g, g * 1.5, g / 7.0
			from generate_series(1, 500) g;
		create table items(id bigint primary key, label text, qty int);
		insert into items select g, 'item ' || g, g % 17 from generate_series(1, $N_ITEMS) g;
		create table edges(id int primary key, v text);
		insert into edges select g, 'v' || g from generate_series(1, 1000) g;
		create table nulls(id int primary key, note text);
		insert into nulls values (1, ''), (2, NULL), (3, 'x');
		create table events(id int primary key, at timestamptz);
		create table loose(a int, b text);
		insert into loose select g, 'b' || g from generate_series(1, 50) g;
		create table pairs(tenant int, n int, v text, primary key (tenant, n));
		insert into pairs select t, n, 'v' || t || '-' || n from generate_series(1, 3) t, generate_series(1, 40) n;
		create table words(w text primary key, n int);
		insert into words select 'w' || lpad(g::text, 6, '0'), g from generate_series(1, $N_WORDS) g;
		create table wide(id int primary key, a text);
		insert into wide select g, 'a' || g from generate_series(1, 100) g;
		analyze;"
done
# column order differs on the target
pg_psql dst "create table reordered(c text, b int, id int primary key, a text);
             insert into reordered(id, a, b, c) select g, 'a' || g, g, 'c' || g from generate_series(1, 300) g"
pg_psql src "create table reordered(id int primary key, a text, b int, c text);
             insert into reordered select g, 'a' || g, g, 'c' || g from generate_series(1, 300) g"
# the same instants, written in other zones
pg_psql src "set timezone = 'America/New_York';
             insert into events values (1, '2024-03-01 07:00:00'), (2, '2024-07-01 12:30:00.123456')"
pg_psql dst "set timezone = 'Asia/Tokyo';
             insert into events values (1, '2024-03-01 21:00:00'), (2, '2024-07-02 01:30:00.123456')"
pg_psql dst "alter table wide add column extra int"

printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<EOF
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "verify": {"rows_per_range": 1000},
 "tables": [{"name": "clients"}, {"name": "items"}, {"name": "edges"}, {"name": "nulls"},
            {"name": "events"}, {"name": "loose"}, {"name": "pairs"}, {"name": "words"},
            {"name": "reordered"}, {"name": "wide"}]}
EOF
v() { "$PGCUTOVER" -c "$cfg" verify --json "$@"; }
tab() { printf '%s' "$out" | jq -c --arg t "$1" ".tables[] | select(.table == \$t) | $2"; }

for t in clients items edges nulls events pairs words reordered; do
	out=$(v --table "$t"); rc=$?
	is "$rc" 0 "$t: identical on both sides: exit 0"
	is "$(tab "$t" '"\(.equal) \(.state)"')" '"true matched"' "$t: equal, matched"
done
out=$(v --table reordered)
is "$(tab reordered .rows)" 300 "reordered: every row checked despite the column order"
out=$(v --table words)
is "$(tab words .rows)" "$N_WORDS" "text key cut by sampled boundaries: every row checked"

out=$(v --table loose); rc=$?
is "$rc" 0 "no primary key, same rows: exit 0"
is "$(tab loose '"\(.equal) \(.state) \(.source_rows) \(.target_rows)"')" '"true no_primary_key 50 50"' \
	"no primary key: whole-table count and hash"
pg_psql dst "update loose set b = 'changed' where a = 7"
out=$(v --table loose); rc=$?
is "$rc" 1 "no primary key, a row differs: exit 1"
is "$(tab loose '"\(.equal) \(.state)"')" '"false no_primary_key"' "no primary key: the hash differs"
txt=$("$PGCUTOVER" -c "$cfg" verify --table loose)
like "$txt" "cannot verify row by row \\(no primary key\\)" "text output says it cannot verify row by row"

out=$(v --table wide); rc=$?
is "$rc" 1 "a column on the target only: a difference"
is "$(tab wide '"\(.schema | length) \(.changed_n) \(.missing_n) \(.extra_n) \(.rows)"')" '"1 0 0 0 100"' \
	"one schema difference, no row reported as changed"
like "$(tab wide '.schema[0]')" "column extra: only on the target" "the schema difference names the column"

# Ten scattered differences in items: 4 changed, 3 deleted, 3 inserted.
pg_psql dst "update items set label = 'X' where id in (17, 2222, 4100);
             update items set qty = qty + 1 where id = 5999;
             delete from items where id in (333, 3001, 4500);
             insert into items values (6001, 'new', 1), (6500, 'new', 2), (9000, 'new', 3)"
out=$(v --table items); rc=$?
is "$rc" 1 "scattered differences: exit 1"
is "$(tab items '.missing | sort')" '[333,3001,4500]' "deleted rows: missing on the target"
is "$(tab items '.extra | sort')" '[6001,6500,9000]' "inserted rows: extra on the target"
is "$(tab items '.changed | sort')" '[17,2222,4100,5999]' "changed rows named"
is "$(tab items '[.changed_columns[] | select(.key == 5999) | .columns[]]')" '["qty"]' \
	"a changed row names the column that differs"
is "$(tab items '[.changed_columns[] | select(.key == 17) | .columns[]]')" '["label"]' \
	"another row, another column"
is "$(tab items '"\(.state) \(.equal) \(.rows)"')" "\"mismatched false $N_ITEMS\"" "mismatched, source rows counted"
txt=$("$PGCUTOVER" -c "$cfg" verify --table items)
like "$txt" "changed 4: [0-9]+ \\((label|qty)\\)" "text output lists changed rows with their columns"

out=$(v --table items --max-load 50/5); rc=$?
is "$(tab items '"\(.missing_n) \(.extra_n) \(.changed_n)"')" '"3 3 4"' "--max-load 50/5: small ranges, pauses, same findings"
"$PGCUTOVER" -c "$cfg" verify --max-load 5/x >/dev/null 2>&1
is "$?" 64 "--max-load that does not parse: usage error"

# First and last rows.
pg_psql dst "update edges set v = 'first' where id = 1; update edges set v = 'last' where id = 1000"
out=$(v --table edges)
is "$(tab edges '.changed | sort')" '[1,1000]' "the first and the last row changed are found"

# NULL against ''.
pg_psql dst "update nulls set note = NULL where id = 1; update nulls set note = '' where id = 2"
out=$(v --table nulls)
is "$(tab nulls '.changed | sort')" '[1,2]' "NULL and empty string differ"

# A real difference of time.
pg_psql dst "update events set at = at + interval '1 microsecond' where id = 2"
out=$(v --table events)
is "$(tab events .changed)" '[2]' "a microsecond later is a difference"

# Composite and text keys.
pg_psql dst "update pairs set v = 'x' where tenant = 2 and n = 7; delete from pairs where tenant = 3 and n = 40"
out=$(v --table pairs)
is "$(tab pairs .changed)" '[[2,7]]' "a composite key is an array"
is "$(tab pairs .missing)" '[[3,40]]' "a missing row of a composite key"
pg_psql dst "update words set n = -1 where w in ('w000001', 'w001500', 'w003000');
             insert into words values ('zzz', 0), ('a''quote', 1)"
out=$(v --table words)
is "$(tab words '.changed | sort')" '["w000001","w001500","w003000"]' "text keys: changed rows"
is "$(tab words '.extra | sort')" "[\"a'quote\",\"zzz\"]" "text keys: extra rows, one with a quote"

# A text key the two servers order differently (ICU on the source, "C" on
# the target): the sampled ranges hold other rows on each side, so they
# differ and are split down to their rows; a row one side lacks in its range
# is looked up by key before it is called missing or extra.
for side in src dst; do
	coll='"und-x-icu"'
	[ "$side" = dst ] && coll='"C"'
	pg_psql "$side" "create table codes(code text collate $coll primary key, n int);
	                 insert into codes select chr(65 + g % 26) || chr(97 + g % 23) || g, g
	                   from generate_series(1, 3000) g;
	                 insert into codes select lower(code) || '_', n from codes; analyze codes"
done
ccfg="$PGC_TMP/codes.json"
sed 's/"tables": .*/"tables": [{"name": "codes"}]}/; /^ *{"name"/d' "$cfg" >"$ccfg"
out=$("$PGCUTOVER" -c "$ccfg" verify --json --table codes); rc=$?
is "$rc" 0 "a text key ordered apart on each side: equal, exit 0"
is "$(tab codes '"\(.missing_n) \(.extra_n) \(.changed_n) \(.rows)"')" '"0 0 0 6000"' \
	"no row called missing or extra, every row checked"
like "$(tab codes '.notes[0]')" 'key column code: collation und-x-icu on the source, C on the target' \
	"the table says its key's collations differ"
changed=$(pg_psql dst "select code from codes order by code limit 1")
missing=$(pg_psql dst "select code from codes order by code desc limit 1")
pg_psql dst "update codes set n = -1 where code = '$changed'; delete from codes where code = '$missing';
             insert into codes values ('zz_new', 1)"
out=$("$PGCUTOVER" -c "$ccfg" verify --json --table codes); rc=$?
is "$rc" 1 "a real difference among them: exit 1"
is "$(tab codes '"\(.missing) \(.extra) \(.changed)"' | tr -d '\\')" "\"[\"$missing\"] [\"zz_new\"] [\"$changed\"]\"" \
	"the missing, the extra and the changed row named, nothing else"
is "$(tab codes '[.changed_columns[0].columns[]]')" '["n"]' "...the changed row with its column"

# The whole run, recorded.
"$PGCUTOVER" -c "$cfg" --operator tester note "start" >/dev/null 2>&1
out=$(v); rc=$?
is "$rc" 1 "all tables: exit 1"
is "$(printf '%s' "$out" | jq -r .equal)" false "all tables: equal is false"
is "$(printf '%s' "$out" | jq -r '[.tables[] | select(.equal) | .table] | join(",")')" \
	"clients,reordered" "the tables that are equal"
log=$("$PGCUTOVER" -c "$cfg" log --json)
rec=$(printf '%s' "$log" | jq -c '[.[] | select(.kind == "verify")] | last | .payload | if type == "string" then fromjson else . end')
is "$(printf '%s' "$rec" | jq -c '.tables[] | select(.table == "items") | .missing | sort')" '[333,3001,4500]' \
	"the audit record carries the differing keys"
is "$(printf '%s' "$rec" | jq -r '"\(.equal) \(.complete)"')" "false true" "the audit record: complete, not equal"

# A server that is not there is an error, not a difference.
pg_stop dst
"$PGCUTOVER" -c "$cfg" verify --table clients >/dev/null 2>&1
is "$?" 69 "an unreachable target: exit 69"
done_testing
