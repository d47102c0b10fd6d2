#!/bin/sh
# console_counts_many.sh -- every one of 300 tables is reachable (issue 20,
# item 4): the pane's summary counts all 33 differing tables, its focus
# scrolls to the last table, and C lists all 300, the 33 differing first.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1
N_TABLES=300
N_DIFFER=33
awk -v n=$N_TABLES 'BEGIN { for (i = 1; i <= n; i++)
	printf "create table t%03d(id int primary key); insert into t%03d select generate_series(1, %d);\n", i, i, i % 7 + 3 }' \
	> "$PGC_TMP/tables.sql"
pg_psql_file src "$PGC_TMP/tables.sql" >/dev/null
pg_psql_file dst "$PGC_TMP/tables.sql" >/dev/null
# every ninth table from t005 on loses one or two rows on the target
awk -v d=$N_DIFFER 'BEGIN { for (k = 0; k < d; k++) printf "delete from t%03d where id <= %d;\n", 5 + 9 * k, k % 2 + 1 }' \
	> "$PGC_TMP/differ.sql"
pg_psql_file dst "$PGC_TMP/differ.sql" >/dev/null
tables_json=$(awk -v n=$N_TABLES 'BEGIN { for (i = 1; i <= n; i++) printf "%s{\"name\": \"t%03d\"}", (i > 1 ? ", " : ""), i }')

printf '# Many tables\n\n## Phase 1: Copy\n\n- [ ] Copy the data\n' > "$E2E_DIR/runbook.md"
cat > "$CFG" <<EOF2
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO",
 "target": "$PG_DST_CONNINFO", "tables": [$tables_json]}
EOF2

E2E_COLS=120 E2E_ROWS=50 console_start
wait_screen "$N_DIFFER differ · $((N_TABLES - N_DIFFER)) equal" 60
ok $? "the pane's summary counts every table: $N_DIFFER differ, $((N_TABLES - N_DIFFER)) equal"
keys Tab Tab Tab
wait_screen '\[Counts live' 5; ok $? "Tab focuses the counts pane"
keys G
wait_screen 't300 +[0-9]+ +[0-9]+ +=' 5; ok $? "G scrolls the pane to the last table, t300"
keys g Tab

keys C
wait_screen "Row counts: all $N_TABLES tables" 5; ok $? "C lists all $N_TABLES tables"
# the rows C shows, top to bottom, with their difference
c_rows() { screen | grep -Eo 't[0-9]{3} +[0-9]+ +[0-9]+ +[-+][0-9]+' | awk '{print $1, $4}'; }
top=$(c_rows | head -n $((N_DIFFER + 1)))
is "$(echo "$top" | head -n $N_DIFFER | awk '$2 != "+0"' | wc -l)" "$N_DIFFER" "C: the first $N_DIFFER rows are the differing tables"
is "$(echo "$top" | tail -n 1 | awk '{print $2}')" "+0" "C: then the equal ones"
keys G
wait_screen 't300 +[0-9]+ +[0-9]+ +\+0' 5; ok $? "C: G reaches the last table"
keys Escape q
done_testing
