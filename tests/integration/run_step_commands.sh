#!/bin/sh
# run_step_commands.sh -- issue 15 item 4, headless: a code block under a
# step heading before its checklist, or under a step with no checkbox, is
# the step's own command (id "<phase>.s<N>"), listed by check and run by
# `run` through the same core plan as an item's; a rollback section written
# as prose and code is a rollback step `rollback` runs; a `.env` block's
# declared flags are flag edits (its other lines are never run as shell,
# and an undeclared DATABASE_URL is not copied), and so is an
# `export NAME=VALUE` line.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"
cd "$T" || exit 1
cp "$top_srcdir/tests/fixtures/runbooks/step-commands.md" rb.md
printf 'USE_NEW_DB=false\nUSE_LEGACY=true\nDATABASE_URL=postgres://old-host:5432/orders\n' > .env
cat > pgcutover.json <<'JSON'
{"runbook": "rb.md", "source": "service=old", "target": "service=new",
 "flags": ["USE_NEW_DB", "USE_LEGACY"], "env_file": ".env", "switch": false}
JSON
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

j=$(P check --json rb.md)
is "$(printf '%s' "$j" | jq -r '[.commands[] | "\(.id):\(.of)"] | join(",")')" \
   "1.s1:step,1.s2:step,5.s1:step,5.2:item,5.s3:step" \
   "blocks under step headings are the steps' commands; the one under an item stays the item's"
is "$(printf '%s' "$j" | jq '[.phases[].commands] | add')" "$(printf '%s' "$j" | jq '.commands | length')" \
   "the phases' CMDS count them"
is "$(printf '%s' "$j" | jq -r '.commands[] | select(.id == "5.s1") | .env')" true \
   "the block after 'In \`.env\`:' is a .env block"
is "$(printf '%s' "$j" | jq '.items')" "$(grep -c '^ *- \[' rb.md)" "no item was invented for them"
is "$(printf '%s' "$j" | jq '[.phases[].flag_edits] | add')" 2 \
   "flag edits: USE_NEW_DB in the .env block, USE_LEGACY after export"

P run 1.s1 --yes >/dev/null 2>&1; is "$?" 0 "run 1.s1: the block above the checklist"
is "$(cat snap.txt 2>/dev/null)" snapshot "it ran"
P run 1.s2 --yes >/dev/null 2>&1; is "$?" 0 "run 1.s2: the step without checkboxes"
is "$(cat log.txt 2>/dev/null)" announced "it ran"
ev=$(P log --json | jq -c '[.[] | select(.kind == "command_start")][0]')
is "$(printf '%s' "$ev" | jq -r .item)" 1.s1 "command_start names the step"

js=$(P run 5.s1 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '[.segments[] | "\(.kind):\(.name)=\(.new)"] | join(",")')" "flag:USE_NEW_DB=true" \
   "the .env block's plan: only the declared flag; its other lines are not run as shell, DATABASE_URL not copied"
P run 5.s1 --yes >/dev/null 2>&1; is "$?" 0 "run 5.s1 (a cutover step) with --yes"
is "$(sed -n 's/^USE_NEW_DB=//p' .env)" true "USE_NEW_DB set from the .env block"
is "$(sed -n 's/^DATABASE_URL=//p' .env)" "postgres://old-host:5432/orders" "DATABASE_URL left alone"
P run 5.2 --yes >/dev/null 2>&1; is "$?" 0 "run 5.2 (export USE_LEGACY=false)"
is "$(sed -n 's/^USE_LEGACY=//p' .env)" false "export NAME=VALUE is a flag edit"

is "$(P rollback 5 --dry-run --json | jq -r '[.steps[].item] | join(",")')" 5.s3 \
   "the rollback section's prose-and-code block is its rollback step"
P rollback 5 --yes >/dev/null 2>&1; is "$?" 0 "rollback 5 --yes"
is "$(tail -1 log.txt)" rolled-back "the rollback step ran"
is "$(sed -n 's/^USE_NEW_DB=//p' .env),$(sed -n 's/^USE_LEGACY=//p' .env)" "false,true" "and the flags were restored"
P run 5.s9 --yes >/dev/null 2>&1; is "$?" 64 "an unknown step id is a usage error"
P run 5.s2 --yes >/dev/null 2>"$T/err"; is "$?" 65 "a step without a block of its own: exit 65"
like "$(cat "$T/err")" "step 5.s2 has no sh/bash command block" "and says so"
done_testing
