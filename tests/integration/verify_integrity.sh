#!/bin/sh
# verify_integrity.sh -- `pgcutover verify` checks integrity on the target
# as well as the rows: a table loaded with its foreign key NOT VALID (or
# triggers off) holds orphans -- counted, the first keys listed, the NOT
# VALID constraint named (and named even when it has no orphan); a column
# NOT NULL on the source but not on the target holds NULLs -- counted, the
# rows named.  Same data on both sides, so only the integrity findings
# make the difference (exit 1).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
# the source: clean, with its constraints
pg_psql src "create table clients(id int primary key, email text not null);
             insert into clients select g, 'c' || g || '@x' from generate_series(1, 20) g;
             create table orders(id int primary key, client int references clients(id));
             insert into orders select g, 1 + g % 20 from generate_series(1, 50) g;
             create table notes(id int primary key, client int references clients(id));
             insert into notes select g, 1 + g % 20 from generate_series(1, 5) g"
# the target: loaded, then a constraint added NOT VALID over orphans, another
# NOT VALID without any, and email nullable
pg_psql dst "create table clients(id int primary key, email text);
             insert into clients select g, 'c' || g || '@x' from generate_series(1, 20) g;
             create table orders(id int primary key, client int);
             insert into orders select g, 1 + g % 20 from generate_series(1, 50) g;
             create table notes(id int primary key, client int);
             insert into notes select g, 1 + g % 20 from generate_series(1, 5) g;
             delete from clients where id in (3, 7);
             insert into clients values (3, NULL), (7, NULL);
             update orders set client = 99 where id in (5, 40);
             update orders set client = NULL where id = 6;
             alter table orders add constraint orders_client_fkey foreign key (client) references clients(id) not valid;
             alter table notes add constraint notes_client_fkey foreign key (client) references clients(id) not valid"
# the same orders rows on the source, so only integrity differs there
pg_psql src "alter table orders drop constraint orders_client_fkey;
             update orders set client = 99 where id in (5, 40); update orders set client = NULL where id = 6"

printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "clients"}, {"name": "orders"}, {"name": "notes"}]}
JSON
out=$("$PGCUTOVER" -c "$cfg" verify --json); rc=$?
tab() { printf '%s' "$out" | jq -c --arg t "$1" ".tables[] | select(.table == \$t) | $2"; }
is "$rc" 1 "integrity findings: exit 1"
is "$(tab orders '"\(.missing_n) \(.extra_n)"')" '"0 0"' "orders: no row missing or extra"
is "$(tab orders '[.integrity[] | select(.kind == "orphans")] | length')" 1 "orders: one foreign key with orphans"
is "$(tab orders '.integrity[0] | "\(.constraint) \(.references) \(.not_valid) \(.rows)"')" \
	'"orders_client_fkey clients true 2"' "orphans counted (a NULL key is no orphan), the NOT VALID constraint named"
is "$(tab orders '.integrity[0].keys | sort')" '[5,40]' "the orphan rows' keys"
is "$(tab orders '"\(.equal) \(.state)"')" '"false mismatched"' "orders: mismatched"
is "$(tab notes '.integrity[0] | "\(.constraint) \(.not_valid) \(.rows)"')" '"notes_client_fkey true 0"' \
	"a NOT VALID constraint without orphans is named"
is "$(tab notes '"\(.equal) \(.state)"')" '"true matched"' "...and is no difference"
is "$(tab clients '.integrity[] | select(.kind == "null_in_required") | "\(.column) \(.rows)"')" '"email 2"' \
	"clients: NULLs in a column NOT NULL on the source"
is "$(tab clients '[.integrity[] | select(.kind == "null_in_required") | .keys[]] | sort')" '[3,7]' "...and their keys"
is "$(tab clients '.schema | length')" 0 "nullability is no column difference"
txt=$("$PGCUTOVER" -c "$cfg" verify)
like "$txt" "foreign key orders_client_fkey -> clients \\(NOT VALID\\): 2 orphan rows on the target: (5 40|40 5)" \
	"text: the orphans"
like "$txt" "column email: NOT NULL on the source, not on the target: 2 rows hold NULL" "text: the NULLs"

# a composite foreign key whose column names hold a comma and a quote:
# each name is taken whole (a split at the comma built a broken query)
cat >"$PGC_TMP/fk.sql" <<'SQL'
create table "re,gion"("co,de" text, "n""o" int, primary key ("co,de", "n""o"));
insert into "re,gion" values ('a', 1), ('b', 2);
create table shops(id int primary key, "co,de" text, "n""o" int);
insert into shops values (1, 'a', 1), (2, 'b', 3);
alter table shops add constraint shops_fk foreign key ("co,de", "n""o") references "re,gion" not valid;
SQL
for side in src dst; do
	pg_psql "$side" "$(cat "$PGC_TMP/fk.sql")"
done
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "\"re,gion\""}, {"name": "shops"}]}
JSON
out=$("$PGCUTOVER" -c "$cfg" verify --json); rc=$?
is "$rc" 1 "composite key with a comma in its names: the orphan is a finding (exit 1)"
is "$(tab shops '.error')" null "...no error from the orphan query"
is "$(tab shops '.integrity[0] | "\(.constraint) \(.rows) \(.keys)"')" '"shops_fk 1 [2]"' \
	"...the one orphan found and named"
done_testing
