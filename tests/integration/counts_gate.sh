#!/bin/sh
# counts_gate.sh -- a phase listed in the config's "gates" is recorded
# complete by `pgcutover tick` only when the last recorded counts have every
# table matched with exact counts: with a table short on the target the last
# tick is refused (64) and nothing is recorded -- the console asks for a
# reason there, and cancelling it records nothing -- while both --json
# (gate_blocked) and stderr name the table; --override REASON records the
# override, the tick and the phase together; once the target catches up and
# exact counts are recorded, the last tick completes the phase with no
# reason and the event says which gate it met.
# An ungated phase completes as before.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
N=50
SHORT=8
pg_psql src "create table items(id serial primary key); insert into items select from generate_series(1, $N);"
pg_psql dst "create table items(id serial primary key); insert into items select from generate_series(1, $((N - SHORT)));"

cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "items"}],
  "gates": ["2"]
}
JSON
printf '# Move\n\n## Phase 1: Prep\n\n- [ ] prep\n\n## Phase 2: Copy\n\n- [ ] copy\n- [ ] verify\n' >"$PGC_TMP/runbook.md"
pgc() { "$PGCUTOVER" -c "$cfg" "$@"; }

out=$(pgc --json tick 1.1); rc=$?
is "$rc" 0 "ungated phase: tick exits 0"
is "$(printf '%s' "$out" | jq -r .phase_complete)" true "ungated phase: completed by its last tick"

pgc counts --exact >/dev/null
is "$?" 1 "counts --exact: the table differs (exit 1)"
pgc tick 2.1 >/dev/null
out=$(pgc --json tick 2.2 2>"$PGC_TMP/err"); rc=$?
is "$rc" 64 "gated phase, counts differ: the last tick is refused (64), as the console asks for a reason"
is "$(printf '%s' "$out" | jq -r .done)" false "the item is not ticked"
is "$(printf '%s' "$out" | jq -r .outcome)" blocked_by_gate "--json: outcome blocked_by_gate"
is "$(printf '%s' "$out" | jq -r .phase_complete)" false "the phase is not recorded complete"
like "$(printf '%s' "$out" | jq -r .gate_blocked)" '^items: mismatched' "--json: gate_blocked names the table"
like "$(cat "$PGC_TMP/err")" 'completes phase 2, which is gated on row counts: items.*--override' "stderr says why and what to give"
is "$(pgc log --json | jq '[.[] | select((.kind == "tick" and .item == "2.2") or (.kind == "phase_complete" and .phase == "2"))] | length')" 0 \
	"no tick of 2.2 and no phase_complete event for phase 2"
out=$(pgc --json tick 2.2 --override "archive rows stay behind"); rc=$?
is "$rc" 0 "--override REASON: recorded"
is "$(printf '%s' "$out" | jq -r .phase_complete)" true "the phase is recorded complete"
like "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_override" and .phase == "2")][-1].payload | "\(.reason)|\(.gate)"')" \
	'^archive rows stay behind\|items: mismatched' "the override records the reason and the gate"
like "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_complete" and .phase == "2")][-1].payload.gate_overridden')" \
	'^items: mismatched' "phase_complete says the gate was overridden"

pg_psql dst "insert into items select from generate_series(1, $SHORT);"
pgc counts --exact >/dev/null
is "$?" 0 "counts --exact: the target caught up (exit 0)"
pgc untick 2.2 --reason "recheck" >/dev/null
out=$(pgc --json tick 2.2); rc=$?
is "$(printf '%s' "$out" | jq -r .phase_complete)" true "counts matched: the last tick completes the gated phase"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_complete" and .phase == "2")][-1].payload.gate')" "1/1 tables match" \
	"phase_complete records the gate it met"

done_testing
