#!/bin/sh
# demo_clusters.sh -- `pgcutover demo --no-console` builds a real local
# migration: two PostgreSQL clusters on Unix sockets (run unprivileged when
# we are root), the booking schema in both, the source holding exactly the
# rows asked for, the target mid-copy, a sequence behind, and the runbook,
# config and app.env written, with the bare PATH of a stock Debian system; a
# re-run reuses it and restarts a stopped server; `demo --stop` stops the
# servers and removes the directory.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
pg_tmp

ROWS=2000
dir=$PGC_TMP/demo
pg_atexit "\"\$PGCUTOVER\" demo --stop --dir \"$dir\" >/dev/null 2>&1"
psql_bin=$(pg_psql_bin)
q() { "$psql_bin" "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2"; }
alive() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in ''|Z*) return 1 ;; esac; return 0; }

# With the PATH of a stock Debian system: initdb and pg_ctl find their
# sibling `postgres` from argv[0], so a bare program name sent them searching
# a PATH that holds none of them.
out=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin PGCUTOVER_PG_BINDIR=$PG_BINDIR \
	"$PGCUTOVER" demo --no-console --rows "$ROWS" --dir "$dir" </dev/null 2>&1)
rc=$?
ok $rc "demo --no-console --rows $ROWS --dir DIR exits 0, with a PATH of /usr/sbin:/usr/bin:/sbin:/bin"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
for f in runbook.md pgcutover.json app.env .pgcutover-demo; do
	[ -s "$dir/$f" ]; ok $? "writes $f"
done
like "$out" "pgcutover -c $dir/pgcutover.json status" "prints the commands to try with its config"
cmp -s "$dir/runbook.md" "$top_srcdir/examples/booking-runbook.md"
ok $? "runbook.md is the example runbook shipped in examples/"

cfg=$dir/pgcutover.json
src=$(jq -r .source "$cfg")
dst=$(jq -r .target "$cfg")
like "$src" "^host=$dir/pg port=[0-9]+ " "source conninfo points at the demo's socket directory"
like "$dst" "^host=$dir/pg port=[0-9]+ " "target conninfo points at the demo's socket directory"
[ "$src" != "$dst" ]; ok $? "source and target are different servers"
is "$(jq -r .state "$cfg")" "$dir/state.db" "state file inside the demo directory"
is "$(jq -r .env_file "$cfg")" "$dir/app.env" "env_file is the demo's app.env"
is "$(jq 'has("operator")' "$cfg")" "false" "operator is left to the login name"

is "$(q "$src" 'select 1')" "1" "source answers"
is "$(q "$dst" 'select 1')" "1" "target answers"
is "$(q "$src" "select current_setting('listen_addresses')")" "" "source has no TCP listener"
is "$(q "$dst" "select current_setting('listen_addresses')")" "" "target has no TCP listener"
pid=$(head -1 "$dir/pg/source/postmaster.pid")
if [ "$(id -u)" -eq 0 ]; then
	user=$(ps -o user= -p "$pid" | tr -d ' ')
	[ -n "$user" ] && [ "$user" != root ]; ok $? "as root the server runs as an unprivileged user ($user)"
fi

# The config lists every table of the schema, parents before children.
tables=$(jq -r '.tables[].name' "$cfg")
db_tables=$(q "$src" "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1")
is "$(echo "$tables" | sort | tr '\n' ' ')" "$(echo "$db_tables" | tr '\n' ' ')" "config tables = tables in the source schema"
pos() { echo "$tables" | grep -nx "$1" | cut -d: -f1; }
order_ok=0
for fk in $(q "$src" "select c.relname || ':' || p.relname from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid where k.contype = 'f' and c.relname <> p.relname"); do
	child=${fk%%:*}; parent=${fk#*:}
	[ "$(pos "$parent")" -lt "$(pos "$child")" ] || { diag "$parent must come before $child"; order_ok=1; }
done
ok $order_ok "config tables are in dependency order (every FK parent first)"
n_fk=$(q "$src" "select count(*) from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace")
[ "$n_fk" -gt 0 ]; ok $? "the schema has foreign keys ($n_fk)"

# The data respects every foreign key (it is loaded without FK triggers).
fkcheck="DO \$\$
DECLARE r record; n bigint;
BEGIN
  FOR r IN SELECT c.conrelid::regclass AS child, a.attname AS col,
                  c.confrelid::regclass AS parent, pa.attname AS pcol
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
           WHERE c.contype = 'f' LOOP
    EXECUTE format('SELECT count(*) FROM %s x WHERE NOT EXISTS (SELECT 1 FROM %s p WHERE p.%I = x.%I)',
                   r.child, r.parent, r.pcol, r.col) INTO n;
    IF n > 0 THEN RAISE EXCEPTION '% rows of % have no %', n, r.child, r.parent; END IF;
  END LOOP;
END \$\$"
q "$src" "$fkcheck"; ok $? "source rows satisfy every foreign key"
q "$dst" "$fkcheck"; ok $? "target rows satisfy every foreign key"
# Bookings belong to the company of their client, staff and service.
is "$(q "$src" "select count(*) from bookings b join clients c on c.id = b.client_id join staff s on s.id = b.staff_id join services v on v.id = b.service_id where c.company_id <> b.company_id or s.company_id <> b.company_id or v.company_id <> b.company_id")" "0" \
	"every booking's client, staff and service belong to its company"

# Same schema objects on both sides.
objs="select (select count(*) from pg_trigger where not tgisinternal) || '/' || (select count(*) from pg_proc where pronamespace = 'public'::regnamespace) || '/' || (select count(*) from pg_indexes where schemaname = 'public') || '/' || (select count(*) from pg_class where relkind = 'S')"
so=$(q "$src" "$objs")
is "$(q "$dst" "$objs")" "$so" "target has the same triggers/functions/indexes/sequences as the source ($so)"
case "$so" in 0/*|*/0/*|*/0) ok 1 "schema has triggers, functions, indexes and sequences" ;;
*) ok 0 "schema has triggers, functions, indexes and sequences" ;; esac

# Source holds exactly ROWS rows over all tables, none empty; the target is
# mid-copy: some tables complete, some partial, one empty, none larger.
total=0; complete=0; partial=0; empty=0; larger=0; src_empty=0
for t in $tables; do
	s=$(q "$src" "select count(*) from $t")
	d=$(q "$dst" "select count(*) from $t")
	total=$((total + s))
	[ "$s" -gt 0 ] || src_empty=1
	if [ "$d" -eq "$s" ]; then complete=$((complete + 1))
	elif [ "$d" -eq 0 ]; then empty=$((empty + 1))
	elif [ "$d" -lt "$s" ]; then partial=$((partial + 1))
	else larger=$((larger + 1)); fi
done
is "$total" "$ROWS" "source rows over all tables add up to --rows"
is "$src_empty" "0" "every source table has rows"
[ "$complete" -ge 1 ]; ok $? "target: $complete table(s) complete"
[ "$partial" -ge 1 ]; ok $? "target: $partial table(s) partly copied"
[ "$empty" -ge 1 ]; ok $? "target: $empty table(s) empty"
is "$larger" "0" "target: no table larger than on the source"

# Sequence parity: source sequences cover max(id); at least one target one lags.
seqq="select count(*) from (select t, (select last_value from pg_sequences where schemaname || '.' || sequencename = pg_get_serial_sequence(t, 'id')) as lv from unnest(string_to_array('$(echo $tables | tr ' ' ',')', ',')) t) x where lv < (xpath('/row/m/text()', query_to_xml(format('select coalesce(max(id), 0) as m from %I', t), false, true, '')))[1]::text::bigint"
is "$(q "$src" "$seqq")" "0" "no source sequence is behind max(id)"
behind=$(q "$dst" "$seqq")
[ "$behind" -ge 1 ]; ok $? "target has a sequence behind max(id) ($behind)"

# app.env: every configured flag, private mode.
flags_ok=0
for fl in $(jq -r '.flags[]' "$cfg"); do
	grep -q "^$fl=" "$dir/app.env" || { diag "$fl missing from app.env"; flags_ok=1; }
done
ok $flags_ok "app.env sets every flag listed in the config"
is "$(stat -c %a "$dir/app.env")" "600" "app.env is private (0600)"
is "$(jq '.flags | length' "$cfg")" "$(jq '.flags | unique | length' "$cfg")" "flags listed once each"
rb_flags=0
for fl in $(jq -r '.flags[]' "$cfg"); do
	grep -Eq "^[[:space:]]*$fl=" "$dir/runbook.md" || { diag "$fl never set in the runbook"; rb_flags=1; }
done
ok $rb_flags "every flag is edited somewhere in the runbook"

# Headless commands work against the demo.
chk=$("$PGCUTOVER" check --json "$dir/runbook.md" 2>&1)
is "$?" "0" "pgcutover check accepts the demo runbook"
is "$(printf '%s' "$chk" | jq -r '[.phases[].id] | join(" ")')" "0 0.8 1 2 3 4 5 post-migration" \
	"check finds phases 0, 0.8, 1-5 and post-migration"
"$PGCUTOVER" -c "$cfg" check >/dev/null 2>&1
is "$?" "0" "pgcutover -c DIR/pgcutover.json check exits 0"
cnt=$("$PGCUTOVER" -c "$cfg" counts --json --exact </dev/null 2>/dev/null)
is "$?" "1" "counts finds the difference (exit 1)"
same=0
for t in $tables; do
	[ "$(printf '%s' "$cnt" | jq -r --arg t "$t" '.tables[] | select(.table == $t) | "\(.source) \(.target)"')" = \
	  "$(q "$src" "select count(*) from $t") $(q "$dst" "select count(*) from $t")" ] ||
		{ diag "counts disagree with psql on $t"; same=1; }
done
ok $same "counts --json reports the same figures as psql on every table"
"$PGCUTOVER" init "$dir/runbook.md" -o "$PGC_TMP/init.json" </dev/null >/dev/null 2>&1
is "$?" "0" "init reads the demo runbook"
is "$(jq -c '[.tables[] | if type == "object" then .name else . end]' "$PGC_TMP/init.json")" \
   "$(jq -c '[.tables[].name]' "$cfg")" "the demo's tables are the runbook's dependency-order list, as init finds it"
is "$(jq -c '.flags | sort' "$PGC_TMP/init.json")" "$(jq -c '.flags | sort' "$cfg")" \
   "the demo's flags are the runbook's NAME=VALUE flags, as init finds them"
st=$("$PGCUTOVER" -c "$cfg" status --json </dev/null 2>/dev/null)
is "$?" "0" "status works on the demo"
is "$(printf '%s' "$st" | jq -r '.state')" "$dir/state.db" "status uses the demo's state file"

# Re-run: reuses the data, starts a stopped server.
before=$(q "$src" "select count(*) from bookings")
(cd "$dir/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$dir/pg/target" -m fast -w stop) >/dev/null 2>&1
q "$dst" 'select 1' >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "target stopped behind demo's back"
out=$("$PGCUTOVER" demo --no-console --dir "$dir" </dev/null 2>&1)
ok $? "demo again on the same directory exits 0"
like "$out" "reusing" "says it reuses the existing demo"
is "$(q "$dst" 'select 1')" "1" "the re-run started the stopped target"
is "$(q "$src" "select count(*) from bookings")" "$before" "the re-run kept the data"

# A demo left half-made (interrupted) is made again from nothing.
sed -i 's/^complete=1$/complete=0/' "$dir/.pgcutover-demo"
q "$src" "delete from reminders"
out=$("$PGCUTOVER" demo --no-console --rows "$ROWS" --dir "$dir" </dev/null 2>&1)
ok $? "demo on a half-made directory exits 0"
like "$out" "half-made" "says it starts again"
[ "$(q "$src" "select count(*) from reminders")" -gt 0 ]; ok $? "the rebuild reloaded the data"
grep -qx 'complete=1' "$dir/.pgcutover-demo"; ok $? "and marks the demo complete"

# --stop removes everything and stops both servers.
spid=$(head -1 "$dir/pg/source/postmaster.pid")
tpid=$(head -1 "$dir/pg/target/postmaster.pid")
"$PGCUTOVER" demo --stop --dir "$dir" </dev/null >/dev/null 2>&1
ok $? "demo --stop exits 0"
[ ! -e "$dir" ]; ok $? "demo --stop removes the directory it created"
alive "$spid" || alive "$tpid"; [ $? -ne 0 ]; ok $? "demo --stop stopped both servers"
"$PGCUTOVER" demo --stop --dir "$dir" </dev/null >/dev/null 2>&1
ok $? "demo --stop again is harmless"
done_testing
