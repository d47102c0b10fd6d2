#!/bin/sh
# sync_logical.sh -- `pgcutover sync` on real logical replication: a source
# with wal_level=logical and a publication, a target subscribed over the
# Unix socket.  With the subscription disabled and ~50 MB written on the
# source, the lag is shown in bytes against the source's
# pg_current_wal_lsn() (not what was sent), the slot inactive, and nothing
# is caught up (no freeze yet, exit 1); `sync --watch` says STALLED; after
# the freeze is proven and the subscription enabled, `sync --watch` ends
# caught up only once the target confirmed the LSN taken after the freeze
# (recorded), and the go board's sync input is green.  Without
# subscriptions, a script sync is judged by the counts.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

PG_SRC_CONF="wal_level = logical"
pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql "$side" "create table big(id int primary key, v text)" >/dev/null
done
pg_psql src "insert into big select g, 'x' from generate_series(1, 100) g; create publication pub for table big" >/dev/null
pg_psql dst "create subscription sub connection '$PG_SRC_CONNINFO' publication pub" >/dev/null 2>&1
i=0
while [ $i -lt 300 ] && [ "$(pg_psql dst "select count(*) from pg_subscription_rel where srsubstate <> 'r'")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done

cfg="$PGC_TMP/pgcutover.json"
printf '# R\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "state": "$PGC_TMP/state.db", "tables": [{"name": "big"}], "freeze": {"quiet_s": 2}}
JSON
P() { "$PGCUTOVER" -c "$cfg" "$@"; }
field() { printf '%s' "$1" | jq -r "$2"; }

out=$(P sync --json); rc=$?
is "$rc" 1 "replicating but no freeze proven: not caught up (exit 1)"
is "$(field "$out" '.mode')" logical "logical replication seen"
is "$(field "$out" '.subscriptions[0] | "\(.name) \(.slot) \(.slot_active) \(.tables.ready)"')" "sub sub true 1" \
	"the subscription, its slot active, its table ready"
like "$(field "$out" '.words')" "no freeze proven" "says no freeze proven"

pg_psql dst "alter subscription sub disable" >/dev/null
i=0
while [ $i -lt 100 ] && [ "$(pg_psql src "select active from pg_replication_slots where slot_name = 'sub'")" != f ]; do sleep 0.1; i=$((i + 1)); done
pg_psql src "insert into big select g, repeat('y', 1000) from generate_series(1000, 50999) g" >/dev/null
cur=$(pg_psql src "select pg_current_wal_lsn()")
out=$(P sync --json); rc=$?
is "$rc" 1 "paused: not caught up"
lag=$(field "$out" '.subscriptions[0].lag_bytes')
want=$(pg_psql src "select pg_wal_lsn_diff('$cur', confirmed_flush_lsn) from pg_replication_slots where slot_name = 'sub'")
ok "$([ "$lag" -ge 50000000 ] && echo 0 || echo 1)" "lag of the ~50 MB written: $lag bytes"
ok "$([ "$lag" -ge "$want" ] && echo 0 || echo 1)" "measured against pg_current_wal_lsn() ($lag >= $want), not what was sent"
is "$(field "$out" '.subscriptions[0] | "\(.enabled) \(.slot_active)"')" "false false" "subscription disabled, slot inactive"
ok "$([ "$(field "$out" '.subscriptions[0].retained_bytes')" -ge 50000000 ] && echo 0 || echo 1)" "the slot retains the WAL"
txt=$(P sync --watch 12); rc=$?
is "$rc" 1 "watch while paused: not caught up"
like "$txt" "STALLED" "the stall is said loudly"
like "$txt" "INACTIVE" "the slot shown inactive"

P freeze check >/dev/null; is "$?" 0 "freeze proven (nothing writes now)"
out=$(P sync --json); rc=$?
is "$rc" 1 "after the freeze, still paused: not caught up"
post=$(field "$out" '.post_freeze_lsn')
ok "$([ "$post" != null ] && echo 0 || echo 1)" "the LSN after the freeze is taken: $post"
pg_psql dst "alter subscription sub enable" >/dev/null
out=$(P sync --watch 120 --json); rc=$?
is "$rc" 0 "resumed: caught up"
is "$(field "$out" '.post_freeze_lsn')" "$post" "against the same post-freeze LSN"
is "$(field "$out" '.subscriptions[0].past_freeze')" true "the target confirmed it"
is "$(pg_psql dst "select count(*) from big")" "$(pg_psql src "select count(*) from big")" "the rows are there"
board=$(P go --json)
is "$(field "$board" '.inputs.sync.status')" green "the go board's sync input is green"
like "$(field "$board" '.inputs.sync.value')" "caught up: the target confirmed" "in the sync watch's words"

# Without a subscription: a script sync.
pg_psql dst "drop subscription sub" >/dev/null 2>&1
out=$(P sync --json); rc=$?
is "$(field "$out" '.mode')" script "no subscription: script sync"
like "$(field "$out" '.words')" "counts after the freeze equal" "judged by the exact counts after the freeze"
is "$rc" 0 "caught up"
done_testing
