#!/bin/sh
# rollback_rows_gained.sh -- past the point of no return, a rollback says
# how many rows the target gained since (two real clusters): counts
# recorded before the point-of-no-return tick and after rows were written
# on the target give the difference in `rollback --dry-run --json` and in
# its text; without counts after the tick it says the figure is unknown.
# Exact snapshots on both sides of the tick win over a newer estimate;
# with only estimates the figure is given and said to be estimated.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql "$side" "create table orders(id serial primary key); insert into orders select from generate_series(1, 40);"
done
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "orders"}],
  "point_of_no_return": "5.1"
}
JSON
cat >"$PGC_TMP/runbook.md" <<'RB'
# Move

## Phase 5: Production Cutover

- [ ] Start all services on the new database

### 5.4 Rollback (if needed)

- [ ] Point the app back
  ```sh
  echo back
  ```
RB
pgc() { "$PGCUTOVER" -c "$cfg" "$@"; }

pgc note "cutover night" >/dev/null   # counts record only into a state that exists
pgc counts --exact >/dev/null
pgc tick 5.1 >/dev/null
out=$(pgc --json rollback 5 --dry-run)
is "$(printf '%s' "$out" | jq -r '"\(.past_point_of_no_return) \(.rows_gained)"')" "true null" \
	"past the point of no return, no counts since: rows_gained null"
like "$(pgc rollback 5 --dry-run)" 'gained since: unknown' "the text says unknown"

GAINED=7
pg_psql dst "insert into orders select from generate_series(1, $GAINED);"
pgc counts --exact >/dev/null
out=$(pgc --json rollback 5 --dry-run)
is "$(printf '%s' "$out" | jq -r '"\(.rows_gained) \(.rows_gained_exact)"')" "$GAINED true" \
	"rows_gained: the target's growth since the tick, from exact counts"
like "$(pgc rollback 5 --dry-run)" "has gained $GAINED rows since \(recorded exact counts\)" "the text says how many rows"

# both sides grow past the cheap-exact size: a plain refresh records
# estimates (one side small would be counted exactly, and then the other
# too: an exact figure is never compared with an estimate)
pg_psql dst "insert into orders select from generate_series(1, 150000); analyze orders;"
pg_psql src "insert into orders select from generate_series(1, 150000); analyze orders;"
pgc counts >/dev/null
is "$(pgc log --json | jq -r '[.[] | select(.kind == "counts")][-1].payload.exact')" false \
	"the newest snapshot is an estimate"
out=$(pgc --json rollback 5 --dry-run)
is "$(printf '%s' "$out" | jq -r '"\(.rows_gained) \(.rows_gained_exact)"')" "$GAINED true" \
	"rows_gained: the exact snapshots are used, not the newer estimate"

# only estimates on each side of the tick (a second state): given, said so
pgc2() { "$PGCUTOVER" -c "$cfg" -s "$PGC_TMP/state2.db" "$@"; }
pgc2 note "second night" >/dev/null
pgc2 counts >/dev/null
pgc2 tick 5.1 >/dev/null
pg_psql dst "insert into orders select from generate_series(1, 5000); analyze orders;"
pgc2 counts >/dev/null
want=$(pgc2 log --json | jq -r '[.[] | select(.kind == "counts") | .payload | (.exact | tostring) + " " + (.tables[0].target | tostring)] | join(",")')
like "$want" '^false [0-9]+,false [0-9]+$' "the second state: two estimated snapshots"
before=${want%%,*}; after=${want##*,}
out=$(pgc2 --json rollback 5 --dry-run)
is "$(printf '%s' "$out" | jq -r '"\(.rows_gained) \(.rows_gained_exact)"')" "$(( ${after#* } - ${before#* } )) false" \
	"only estimates: rows_gained from them, rows_gained_exact false"
like "$(pgc2 rollback 5 --dry-run)" "has gained -?[0-9]+ rows since \(recorded estimates\)" "the text says estimates"
done_testing
