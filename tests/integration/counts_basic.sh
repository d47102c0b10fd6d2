#!/bin/sh
# counts_basic.sh -- `pgcutover counts` against two real clusters: equal
# tables exit 0, a differing table exits 1 and is named with its delta,
# tables come in config order, a table named `Mixed Case; x` is quoted
# safely, estimates mode agrees with exact mode on small tables, and the
# sessions are read-only with application_name=pgcutover.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

N_CLIENTS=120
N_ORDERS=345
N_MIXED=7
for side in src dst; do
	pg_psql "$side" "
		create table clients(id serial primary key, name text);
		create table orders(id bigint generated always as identity primary key, client int);
		create table \"Mixed Case; x\"(a int);
		insert into clients(name) select 'c' || g from generate_series(1, $N_CLIENTS) g;
		insert into orders(client) select g % 10 from generate_series(1, $N_ORDERS) g;
		insert into \"Mixed Case; x\" select generate_series(1, $N_MIXED);"
done

cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<EOF
{
  "runbook": "runbook.md",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "orders"}, {"name": "clients", "pk": "id"}, {"name": "\"Mixed Case; x\""}]
}
EOF
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"

out=$("$PGCUTOVER" -c "$cfg" counts --json --exact); rc=$?
is "$rc" 0 "equal tables: exit 0"
is "$(printf '%s' "$out" | jq -r .match)" true "equal tables: match is true"
is "$(printf '%s' "$out" | jq -r .exact)" true "--exact: figures are exact"
is "$(printf '%s' "$out" | jq -r '[.tables[].table] | join(",")')" 'orders,clients,"Mixed Case; x"' \
	"tables in config order"
is "$(printf '%s' "$out" | jq -r '.tables[] | select(.table == "orders") | "\(.source) \(.target) \(.delta)"')" \
	"$N_ORDERS $N_ORDERS 0" "orders counted on both sides"
is "$(printf '%s' "$out" | jq -r '.tables[] | select(.table == "clients") | .state')" matched \
	"a table with a primary key and equal counts is matched"
is "$(printf '%s' "$out" | jq -r '.tables[2] | "\(.source) \(.target)"')" "$N_MIXED $N_MIXED" \
	"table named Mixed Case; x counted through a quoted identifier"
is "$(printf '%s' "$out" | jq -r '.tables[2].state')" no_primary_key \
	"equal counts without a primary key say so"
is "$(printf '%s' "$out" | jq -r .summary)" "3/3 tables match" "summary line"
is "$(pg_psql src 'select count(*) from "Mixed Case; x"')" "$N_MIXED" \
	"the quoted name did not run as SQL (table still intact)"

txt=$("$PGCUTOVER" -c "$cfg" counts --exact); rc=$?
is "$rc" 0 "text output: exit 0"
like "$txt" "clients +$N_CLIENTS +$N_CLIENTS +\\+0 +100.0 +matched" "text output: a row per table"
like "$txt" "3/3 tables match" "text output: summary"

# Estimates mode: small tables are counted exactly anyway.
out=$("$PGCUTOVER" -c "$cfg" counts --json); rc=$?
is "$rc" 0 "estimate mode on small tables: exit 0"
is "$(printf '%s' "$out" | jq -r '.tables[1].source')" "$N_CLIENTS" "estimate mode: small table exact"

# The target gets more orders and loses clients.
EXTRA=17
GONE=5
pg_psql dst "insert into orders(client) select 1 from generate_series(1, $EXTRA);
             delete from clients where id <= $GONE"
out=$("$PGCUTOVER" -c "$cfg" counts --json --exact); rc=$?
is "$rc" 1 "differing tables: exit 1"
is "$(printf '%s' "$out" | jq -r .match)" false "differing tables: match is false"
is "$(printf '%s' "$out" | jq -r '[.tables[] | select(.match | not) | .table] | join(",")')" "orders,clients" \
	"the differing tables are named"
is "$(printf '%s' "$out" | jq -r '.tables[] | select(.table == "orders") | "\(.delta) \(.state)"')" \
	"$EXTRA mismatched" "orders: delta is what the target gained"
is "$(printf '%s' "$out" | jq -r '.tables[] | select(.table == "clients") | .delta')" "-$GONE" \
	"clients: delta is what the target lost"
like "$(printf '%s' "$out" | jq -r .summary)" "^1/3 tables match; first mismatch orders: source $N_ORDERS, target $((N_ORDERS + EXTRA)) \\(\\+$EXTRA\\)" \
	"summary names the first mismatch in config order"

# Sessions: read-only, named.  A count of a slow view shows up in
# pg_stat_activity while it runs.
pg_psql dst "create view slow as select g from generate_series(1, 20) g where pg_sleep(0.1) is not null"
pg_psql src "create view slow as select g from generate_series(1, 20) g where pg_sleep(0.1) is not null"
cat >"$PGC_TMP/slow.json" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "slow"}]}
EOF
"$PGCUTOVER" -c "$PGC_TMP/slow.json" counts --json --exact >"$PGC_TMP/slow.out" &
pid=$!
seen=""
i=0
while [ $i -lt 200 ] && [ -z "$seen" ]; do
	seen=$(pg_psql dst "select application_name from pg_stat_activity where query like '%count(*)%slow%' and pid <> pg_backend_pid()")
	[ -n "$seen" ] || sleep 0.1
	i=$((i + 1))
done
is "$seen" pgcutover "counting sessions carry application_name=pgcutover"
ro=$(pg_psql dst "select count(*) from pg_stat_activity where application_name = 'pgcutover'")
[ "${ro:-0}" -ge 1 ]; ok $? "the session is visible while counting"
wait $pid
is "$?" 0 "slow view counted on both sides"
is "$(jq -r '.tables[0].source' "$PGC_TMP/slow.out")" 20 "slow view: all rows"

# Read-only: counting a view whose WHERE writes must fail in our session.
pg_psql dst "create table wlog(x int);
             create function w() returns int language sql volatile as 'insert into wlog values (1); select 1';
             create view writes as select 1 as x from generate_series(1, 3) g where w() = 1"
pg_psql src "create view writes as select 1 as x from generate_series(1, 3) g"
cat >"$PGC_TMP/ro.json" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "writes"}]}
EOF
out=$("$PGCUTOVER" -c "$PGC_TMP/ro.json" counts --json --exact); rc=$?
is "$rc" 69 "a count that would write fails (exit 69: an error, not a difference)"
like "$(printf '%s' "$out" | jq -r '.tables[0].target_error')" "read-only transaction" \
	"sessions are read-only (default_transaction_read_only)"
is "$(pg_psql dst 'select count(*) from wlog')" 0 "nothing was written"

done_testing
