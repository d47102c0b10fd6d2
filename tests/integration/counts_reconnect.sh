#!/bin/sh
# counts_reconnect.sh -- `pgcutover counts --watch` goes on when a side
# goes away: while the target is down each refresh shows the error and keeps
# the last good figures with their age, and once the server is back the
# driver reconnects (with backoff) and the counts match again.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

N=31
for side in src dst; do
	pg_psql "$side" "create table t(id int primary key); insert into t select generate_series(1, $N)"
done
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "t"}]}
EOF

out="$PGC_TMP/watch.out"
"$PGCUTOVER" -c "$cfg" counts --json --exact --watch 1 >"$out" 2>"$PGC_TMP/watch.err" &
pid=$!

lines() { wc -l <"$out"; }
wait_for() {  # wait_for JQ_FILTER: until the last line satisfies it (20 s)
	_i=0
	while [ $_i -lt 200 ]; do
		[ -s "$out" ] && [ "$(tail -1 "$out" | jq -r "$1" 2>/dev/null)" = true ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

wait_for '.match'
ok $? "watch: first refresh matches"

# pg.sh runs clusters with synchronous_commit=off: without a checkpoint an
# immediate stop may lose the table just made (seen under load)
pg_psql dst "checkpoint" >/dev/null
(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$PG_DST_DATA" -m immediate -w stop) >/dev/null 2>&1
wait_for '.tables[0].target_error != null and .tables[0].target_age_s >= 1'
ok $? "target down: error shown, last good figure kept and ageing"
last=$(tail -1 "$out")
is "$(printf '%s' "$last" | jq -r '.tables[0].target')" "$N" "the last good target figure is still there"
is "$(printf '%s' "$last" | jq -r '.target.up')" false "target marked down"
like "$(printf '%s' "$last" | jq -r '.tables[0].target_error')" "^target \\(host=$PGC_TMP/pg port=$PG_DST_PORT" \
	"the error names the server"
kill -0 $pid 2>/dev/null
ok $? "the watch goes on while the target is down"

pg_psql src "insert into t values ($((N + 1)))"
pg_start dst >/dev/null 2>&1
pg_psql dst "insert into t values ($((N + 1)))"
wait_for ".match and .tables[0].target == $((N + 1))"
ok $? "target back: reconnected and the counts match again"
is "$(tail -1 "$out" | jq -r '.target.up')" true "target up again"

kill -TERM $pid
wait $pid
is "$?" 0 "interrupted watch exits with the last snapshot's status"

done_testing
