#!/bin/sh
# rollback_rows_gained.sh -- past the point of no return, a rollback says
# how many rows the target gained since (two real clusters): counts
# recorded before the point-of-no-return tick and after rows were written
# on the target give the difference in `rollback --dry-run --json` and in
# its text; without counts after the tick it says the figure is unknown.
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
is "$(printf '%s' "$out" | jq -r .rows_gained)" "$GAINED" "rows_gained: the target's growth since the tick"
like "$(pgc rollback 5 --dry-run)" "has gained $GAINED rows since" "the text says how many rows"
done_testing
