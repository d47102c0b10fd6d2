#!/bin/sh
# counts_pace.sh -- how `pgcutover counts --exact` paces itself on real
# servers (pace.h): never more sessions counting at once than pool_size,
# parallel plans off for every count that runs beside others or is small,
# the server's own setting for a big table counted alone, and the figures
# the same as psql's count(*) whatever the pace.  What each session ran is
# read back from the servers' own statement logs (log_statement=all).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

BIG_ROWS=300000     # above pace.h's PACE_MIN_ROWS and 1024 pages
N_SMALL=12
for side in src dst; do
	sql="create table big1(id int, note text); create table big2(id int, note text);
	     insert into big1 select g, repeat('x', 60) from generate_series(1, $BIG_ROWS) g;
	     insert into big2 select g, repeat('y', 60) from generate_series(1, $BIG_ROWS + 17) g;"
	i=1
	while [ $i -le $N_SMALL ]; do
		sql="$sql create table s$i(id int); insert into s$i select generate_series(1, $((i * 13)));"
		i=$((i + 1))
	done
	pg_psql "$side" "$sql" >/dev/null
	pg_psql "$side" "vacuum analyze" >/dev/null
done
pg_psql dst "delete from s3 where id <= 2; delete from big2 where id = 5" >/dev/null

tables='{"name": "big1"}, {"name": "big2"}'
i=1
while [ $i -le $N_SMALL ]; do tables="$tables, {\"name\": \"s$i\"}"; i=$((i + 1)); done
LOGOPT="options='-c log_statement=all'"
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
mkcfg() {  # mkcfg FILE POOL TABLES
	cat >"$1" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO $LOGOPT", "target": "$PG_DST_CONNINFO $LOGOPT",
 "pool_size": $2, "tables": [$3]}
EOF
}
log_src="$PGC_TMP/pg/src.log"
log_dst="$PGC_TMP/pg/dst.log"

# The statements pgcutover's sessions ran since line $2 of log $1, as
# "pid<TAB>statement", one per line.
statements() {
	tail -n +"$2" "$1" | sed -n 's/^.*\[\([0-9]*\)\] LOG:  statement: \(.*\)$/\1	\2/p' |
		grep 'count(\*)\|max_parallel'
}
# Per session, whether each count ran with parallel plans allowed: a
# session starts with the server's default (allowed) and a SET in front
# of a count changes it for that count and the ones after it.
plans() {
	awk -F '\t' '{
		if ($2 ~ /max_parallel_workers_per_gather = 0/) par[$1] = "serial";
		else if ($2 ~ /max_parallel_workers_per_gather TO DEFAULT/) par[$1] = "parallel";
		else if (!($1 in par)) par[$1] = "parallel";
		if (match($2, /count\(\*\) FROM "?[a-z0-9_]+/)) {
			t = substr($2, RSTART + 15, RLENGTH - 15);
			gsub(/"/, "", t);
			print t, par[$1];
		}
	}'
}

for pool in 1 2 4; do
	cfg="$PGC_TMP/pool$pool.json"
	mkcfg "$cfg" "$pool" "$tables"
	from_src=$(($(wc -l < "$log_src") + 1))
	from_dst=$(($(wc -l < "$log_dst") + 1))
	out=$("$PGCUTOVER" -c "$cfg" counts --exact --json --timing 2>"$PGC_TMP/timing"); rc=$?
	is "$rc" 1 "pool_size $pool: two tables differ, exit 1"
	is "$(echo "$out" | jq '[.tables[] | select(.exact)] | length')" "$((N_SMALL + 2))" \
		"pool_size $pool: every table counted exactly"
	same=yes
	for t in $(echo "$out" | jq -r '.tables[].table'); do
		for side in src dst; do
			want=$(pg_psql $side "select count(*) from $t")
			key=source; [ $side = dst ] && key=target
			got=$(echo "$out" | jq --arg t "$t" --arg k "$key" '.tables[] | select(.table == $t) | .[$k]')
			[ "$got" = "$want" ] || { same=no; diag "$t $side: pgcutover $got, psql $want"; }
		done
	done
	is "$same" yes "pool_size $pool: every figure is psql's count(*)"
	for side in src dst; do
		eval "log=\$log_$side; from=\$from_$side"
		sessions=$(statements "$log" "$from" | cut -f1 | sort -u | wc -l)
		[ "$sessions" -ge 1 ] && [ "$sessions" -le "$pool" ]
		ok $? "pool_size $pool, $side: $sessions counting sessions, at most pool_size"
		statements "$log" "$from" | plans > "$PGC_TMP/plans"
		is "$(wc -l < "$PGC_TMP/plans")" "$((N_SMALL + 2))" "pool_size $pool, $side: the log shows every count"
		is "$(awk '$2 != "serial"' "$PGC_TMP/plans" | wc -l)" 0 \
			"pool_size $pool, $side: no count beside others or queued used parallel plans"
	done
	like "$(cat "$PGC_TMP/timing")" "source counts at once: at most [1-$pool] .*ceiling $pool" \
		"pool_size $pool: --timing says how many ran at once, within the ceiling"
done

# One big table alone: the server's own plan (parallel allowed); one
# small table alone: serial.
cfg="$PGC_TMP/one.json"
mkcfg "$cfg" 4 '{"name": "big1"}'
from=$(($(wc -l < "$log_src") + 1))
"$PGCUTOVER" -c "$cfg" counts --exact --json >/dev/null; rc=$?
is "$rc" 0 "one big table: equal, exit 0"
is "$(statements "$log_src" "$from" | plans)" "big1 parallel" "one big table alone may use parallel workers"
mkcfg "$cfg" 4 '{"name": "s5"}'
from=$(($(wc -l < "$log_src") + 1))
"$PGCUTOVER" -c "$cfg" counts --exact --json >/dev/null
is "$(statements "$log_src" "$from" | plans)" "s5 serial" "one small table alone: parallel plans off"
done_testing
