#!/bin/sh
# console_counts_pane.sh -- the counts pane with more tables than it has
# lines (issue 13): the differing tables come first, the largest difference
# first, at 100x30 and 80x24; its summary line ("3 differ · 9 equal") is
# whole; Tab focuses the pane and j/k scroll it; C opens every table full
# screen with its difference, exact or estimate and age; `pgcutover counts`
# lists the tables in the same order.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

pg_start src || exit 1
pg_start dst || exit 1

# twelve tables; three differ, late in the config's order, by 1, 40 and 5
N_TABLES=12
ROWS=50
tables_json=""
for i in $(seq -w 1 $N_TABLES); do
	short=0
	case $i in 09) short=1 ;; 10) short=40 ;; 12) short=5 ;; esac
	pg_psql src "create table acct_$i(id serial primary key);
		insert into acct_$i select from generate_series(1, $ROWS);" >/dev/null
	pg_psql dst "create table acct_$i(id serial primary key);
		insert into acct_$i select from generate_series(1, $((ROWS - short)));" >/dev/null
	tables_json="$tables_json${tables_json:+, }{\"name\": \"acct_$i\"}"
done

cat > "$E2E_DIR/runbook.md" <<'RB'
# Ledger DB move

## Phase 0: Access

- [x] Jump host provisioned

## Phase 1: Copy

- [ ] Copy the data

## Phase 2: Switch

- [ ] Switch the app
RB
cat > "$CFG" <<EOF2
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [$tables_json]
}
EOF2

# the pane's table rows, top to bottom: "acct_10 DIFF" ...
pane_rows() { screen | grep -Eo 'acct_[0-9]+ +[0-9]+ +[0-9]+ +(DIFF|=)' | awk '{print $1, $4}'; }
first_rows() { pane_rows | head -n "$1" | awk '{print $1}' | tr '\n' ' '; }

for size in 100x30 80x24; do
	E2E_COLS=${size%x*} E2E_ROWS=${size#*x} console_start
	wait_screen 'DRIVER' 20; ok $? "$size: console opens"
	wait_screen '3 differ · 9 equal' 30; ok $? "$size: the summary line is whole: 3 differ · 9 equal"
	wait_screen 'acct_12 +50 +45 DIFF' 20
	is "$(first_rows 3)" "acct_10 acct_12 acct_09 " "$size: the differing tables first, the largest difference first"
done
# at 80x24 not every table fits
like "$(screen)" '\+[0-9]+ more; C: all' "80x24: the pane says how many tables are below"

# Tab focuses the pane (after the events and the phases), j/k scroll it
keys Tab Tab Tab
wait_screen '\[Counts live/15s 10%\]' 5; ok $? "Tab focuses the counts pane"
keys j
wait_screen 'more; C: all' 5
end=$(( $(date +%s) + 5 ))
while [ "$(first_rows 1)" != "acct_12 " ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(first_rows 2)" "acct_12 acct_09 " "j scrolls the pane down one table"
keys k
end=$(( $(date +%s) + 5 ))
while [ "$(first_rows 1)" != "acct_10 " ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
is "$(first_rows 1)" "acct_10 " "k scrolls it back up"
keys G
end=$(( $(date +%s) + 5 ))
while ! pane_rows | grep -q acct_11 && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
pane_rows | grep -q 'acct_11'; ok $? "G shows the last tables"
keys g Tab
wait_screen_not '\[Counts live' 5; ok $? "Tab again leaves the pane"

# C: every table full screen
keys C
wait_screen 'Row counts: all 12 tables, differences first' 5; ok $? "C opens the full list"
like "$(screen)" 'table +source +target +difference +counted +age +state' "C: its columns"
like "$(screen)" 'acct_10 +50 +10 +-40 +exact +[0-9]' "C: a differing table with its difference, exact, age"
n_shown=$(screen | grep -Ec 'acct_[0-9]+ +[0-9]+ +[0-9]+ +[-+][0-9]+ +(exact|estimate)')
is "$n_shown" "$N_TABLES" "C: every table is listed"
is "$(screen | grep -Eo 'acct_[0-9]+ +[0-9]+ +[0-9]+ +[-+][0-9]+' | head -n 4 | awk '{print $1}' | tr '\n' ' ')" \
	"acct_10 acct_12 acct_09 acct_01 " "C: differences first, then the equal tables in the config's order"
keys Escape
wait_screen_not 'Row counts: all' 5; ok $? "Esc closes it"
keys q

# the headless command lists the tables in the same order
out=$(pgc counts --exact)
is "$(printf '%s\n' "$out" | grep -Eo '^acct_[0-9]+' | head -n 4 | tr '\n' ' ')" \
	"acct_10 acct_12 acct_09 acct_01 " "counts: differences first, the largest first"

done_testing
