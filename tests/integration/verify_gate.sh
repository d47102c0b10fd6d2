#!/bin/sh
# verify_gate.sh -- a phase listed in "verify": {"gates"} is recorded
# complete only when the last recorded verify run found every table equal:
# before any run and after one that found a difference the last tick is
# refused (64) naming the table, --override REASON records the override
# with the gate, a later equal run lets the tick through and the event says
# which gate it met.  A re-run first re-checks the ranges that differed
# last time (recorded), then confirms the whole table.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1
N=3000
for side in src dst; do
	pg_psql "$side" "create table items(id int primary key, v text);
	                 insert into items select g, 'v' || g from generate_series(1, $N) g; analyze"
done
pg_psql dst "update items set v = 'changed' where id in (10, 2500)"

cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{
  "runbook": "runbook.md",
  "state": "state.db",
  "source": "$PG_SRC_CONNINFO",
  "target": "$PG_DST_CONNINFO",
  "tables": [{"name": "items"}],
  "verify": {"rows_per_range": 500, "gates": ["2"]}
}
JSON
printf '# Move\n\n## Phase 1: Prep\n\n- [ ] prep\n\n## Phase 2: Copy\n\n- [ ] copy\n- [ ] check\n' >"$PGC_TMP/runbook.md"
pgc() { "$PGCUTOVER" -c "$cfg" "$@"; }

out=$(pgc --json tick 1.1); rc=$?
is "$rc" 0 "a phase without a gate completes"
pgc tick 2.1 >/dev/null
out=$(pgc --json tick 2.2 2>"$PGC_TMP/err"); rc=$?
is "$rc" 64 "verify-gated phase, no verify recorded: the last tick is refused"
like "$(cat "$PGC_TMP/err")" 'gated on verify: items: verify not verified' "stderr: no run recorded for the table"

out=$(pgc verify --json); rc=$?
is "$rc" 1 "verify finds the two changed rows (exit 1)"
is "$(printf '%s' "$out" | jq -c '.tables[0].changed | sort')" '[10,2500]' "both rows named"
is "$(printf '%s' "$out" | jq -r '.tables[0].rechecked.ranges')" 0 "a first run has nothing to re-check"
out=$(pgc --json tick 2.2 2>"$PGC_TMP/err"); rc=$?
is "$rc" 64 "verify found differences: the last tick is refused"
is "$(printf '%s' "$out" | jq -r .outcome)" blocked_by_gate "--json: outcome blocked_by_gate"
like "$(printf '%s' "$out" | jq -r .gate_blocked)" '^items: verify mismatched' "--json: the gate names the table"
like "$(cat "$PGC_TMP/err")" 'gated on verify: items: verify mismatched.*--override' "stderr says why and what to give"
st=$(pgc --json status)
like "$st" 'verify mismatched' "status shows what blocks the phase"

out=$(pgc --json tick 2.2 --override "two rows fixed by hand later"); rc=$?
is "$rc" 0 "--override REASON: recorded"
is "$(printf '%s' "$out" | jq -r .phase_complete)" true "the phase is recorded complete"
like "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_override" and .phase == "2")][-1].payload | "\(.reason)|\(.gate)"')" \
	'^two rows fixed by hand later\|items: verify mismatched' "the override is audited with its reason and gate"

# Fix one row: the re-run re-checks the two recorded ranges first.
pg_psql dst "update items set v = 'v10' where id = 10"
out=$(pgc verify --json); rc=$?
is "$rc" 1 "one row still differs"
is "$(printf '%s' "$out" | jq -r '.tables[0] | "\(.rechecked.ranges) \(.rechecked.differ)"')" "2 1" \
	"re-run: the two recorded ranges re-checked first, one still differs"
is "$(printf '%s' "$out" | jq -c '.tables[0].changed')" '[2500]' "then the whole table confirms the one left"
pg_psql dst "update items set v = 'v2500' where id = 2500"
out=$(pgc verify --json); rc=$?
is "$rc" 0 "all fixed: exit 0"
is "$(printf '%s' "$out" | jq -r '.tables[0] | "\(.rechecked.ranges) \(.rechecked.differ) \(.rows)"')" "1 0 $N" \
	"re-run: the range left re-checked equal, then all rows confirmed"

pgc untick 2.2 --reason "recheck" >/dev/null
out=$(pgc --json tick 2.2); rc=$?
is "$rc" 0 "verify equal: the last tick goes through"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_complete" and .phase == "2")][-1].payload.gate')" \
	"verify: 1/1 tables equal" "phase_complete records the verify gate it met"

done_testing
