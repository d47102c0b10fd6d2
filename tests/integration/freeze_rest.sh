#!/bin/sh
# freeze_rest.sh -- `pgcutover freeze check` on a Supabase REST source (no
# SQL access): the evidence falls back to exact row counts stable over the
# window, and says it is weaker: on screen, in the JSON (evidence "counts")
# and on the go board; a row inserted during the window is a write (exit
# 1); freeze apply needs SQL access and refuses.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v jq >/dev/null 2>&1 || skip_all "jq is needed"

pg_start src
pg_start dst
for db in src dst; do
	pg_psql $db "create table clients(id int primary key, name text);
	             insert into clients select g, 'c' || g from generate_series(1, 40) g" >/dev/null
done
SUPABASE_KEY=$(rest_new_key sb)
export SUPABASE_KEY
rest_start api src
ok $? "PostgREST test server starts on loopback"
cfg="$PGC_TMP/pgcutover.json"
printf '# R\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "state": "$PGC_TMP/state.db",
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPABASE_KEY"}},
 "target": "$PG_DST_CONNINFO", "tables": ["clients"], "freeze": {"quiet_s": 3}}
JSON
P() { "$PGCUTOVER" -c "$cfg" "$@"; }

out=$(P freeze check); rc=$?
is "$rc" 0 "counts stable for the window: exit 0"
like "$out" "REST endpoint \\(no SQL access\\).*WEAKER" "the weaker evidence is said up front"
like "$out" "FREEZE PROVEN: quiet for [0-9]+ s \\(exact counts only: weaker evidence\\)" "and with the proof"
ev=$(P log --json | jq -c '[.[] | select(.kind == "freeze")] | last')
is "$(printf '%s' "$ev" | jq -r '"\(.payload.evidence) \(.payload.verdict)"')" "counts proven" "recorded as counts evidence"

(sleep 1.5; pg_psql src "insert into clients values (1000, 'late')" >/dev/null) &
late=$!
out=$(P freeze check); rc=$?
wait "$late"
is "$rc" 1 "a row inserted during the window: exit 1"
like "$out" "WRITE SEEN: clients \\+1" "the table named with its change"

P freeze check >/dev/null
board=$(P go --json)
like "$(printf '%s' "$board" | jq -r .inputs.freeze.value)" "weaker evidence" "the go board labels it weaker"
is "$(printf '%s' "$board" | jq -r .inputs.schema.status)" grey "schema: no catalog over REST (grey)"
P freeze apply --roles app_user --yes >/dev/null 2>&1; is "$?" 64 "freeze apply needs SQL access: refused"
done_testing
