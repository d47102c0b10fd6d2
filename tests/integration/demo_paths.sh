#!/bin/sh
# demo_paths.sh -- a demo directory whose path has a space: the servers
# start, the config's conninfo strings are quoted so libpq and `counts`
# reach them, and the commands the guide prints can be pasted into a shell.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
pg_tmp
dir="$PGC_TMP/my demo"
pg_atexit "\"\$PGCUTOVER\" demo --stop --dir \"$dir\" >/dev/null 2>&1"

out=$("$PGCUTOVER" demo --no-console --rows 300 --dir "$dir" </dev/null 2>&1)
ok $? "demo in a directory with a space exits 0"
src=$(jq -r .source "$dir/pgcutover.json")
like "$src" "^host='$dir/pg' " "conninfo quotes the socket directory"
is "$("$(pg_psql_bin)" "$src" -X -A -t -c 'select count(*) from companies')" \
   "$("$PGCUTOVER" -c "$dir/pgcutover.json" counts --json --exact </dev/null 2>/dev/null | jq '.tables[] | select(.table == "companies") | .source')" \
   "counts reaches the server through the config"

total=0
for t in $(jq -r '.tables[].name' "$dir/pgcutover.json"); do
	total=$((total + $("$(pg_psql_bin)" "$src" -X -A -t -c "select count(*) from $t")))
done
is "$total" "300" "--rows 300: the source holds 300 rows over all tables"

# Paste the guide's lines into sh, with our binary in place of `pgcutover`.
line=$(printf '%s\n' "$out" | grep -E '^  pgcutover -c .* status$')
sh -c "$(printf '%s' "$line" | sed 's/^ *pgcutover/"$0"/')" "$PGCUTOVER" >/dev/null 2>&1
is "$?" "0" "the printed status command runs as pasted"
line=$(printf '%s\n' "$out" | grep -E '^  psql ')
is "$(sh -c "$(printf '%s' "$line" | sed "s/^ *psql/\"\$0\" -X -A -t/; s/-c '.dt'/-c 'select 42'/")" "$(pg_psql_bin)" 2>&1)" "42" \
   "the printed psql command reaches the source as pasted"
line=$(printf '%s\n' "$out" | grep -E '^  pgcutover demo --stop')
sh -c "$(printf '%s' "$line" | sed 's/^ *pgcutover/"$0"/')" "$PGCUTOVER" >/dev/null 2>&1
is "$?" "0" "the printed --stop command runs as pasted"
[ ! -e "$dir" ]; ok $? "and removes the demo"
done_testing
