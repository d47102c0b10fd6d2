# actions_rollback.sh -- `pgcutover rollback PHASE`: shows the flag values
# to restore (the values before the phase's first flag change, from the
# audit) and the rollback step's commands; --dry-run changes nothing;
# without --yes and without a terminal it refuses; with --yes it restores
# the .env, runs the step (the fake service restarts) and records
# phase_rolled_back.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v setsid >/dev/null 2>&1 || skip_all "setsid not installed"
T=$(mktemp -d)
trap '[ -f "$T/app.pid" ] && kill "$(cat "$T/app.pid")" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

orig_new=$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' .env)
orig_legacy=$(sed -n 's/^USE_LEGACY_SUPABASE=//p' .env)

P run 5.1 --yes >/dev/null 2>&1; rc=$?
is "$rc" 0 "cutover step ran"
first_pid=$(cat app.pid)
is "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' .env)" true "flag flipped by the cutover"

# A second change in the same phase must not move the restore point.
P flag set USE_NEW_DB maybe >/dev/null
before_env=$(sha256sum .env | cut -d' ' -f1)
before_events=$(P log --json | jq length)
js=$(P rollback 5 --dry-run --json); rc=$?
is "$rc" 0 "rollback --dry-run exits 0"
is "$(printf '%s' "$js" | jq -r '[.restore[] | .name + "=" + .restore] | join(",")')" \
   "USE_NEW_DB=$orig_new,USE_LEGACY_SUPABASE=$orig_legacy" "restores the values from before the phase's first change"
is "$(printf '%s' "$js" | jq -r '[.steps[].item] | join(",")')" 5.2 "the rollback step is listed"
like "$(printf '%s' "$js" | jq -r '.steps[0].command')" "svc.sh stop" "with its commands"
out=$(P rollback 5 --dry-run)
like "$out" "USE_NEW_DB: maybe -> $orig_new" "human dry run shows current -> restored"
is "$(sha256sum .env | cut -d' ' -f1)" "$before_env" "dry run left the .env alone"
is "$(P log --json | jq length)" "$before_events" "dry run recorded nothing"

setsid -w "$PGCUTOVER" -c "$T/pgcutover.json" rollback 5 </dev/null >/dev/null 2>"$T/err"; rc=$?
is "$rc" 64 "without --yes and without a terminal: exit 64"
is "$(sha256sum .env | cut -d' ' -f1)" "$before_env" "refused rollback changed nothing"

P rollback 5 --yes >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "rollback 5 --yes exits 0"
is "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' .env)" "$orig_new" "USE_NEW_DB restored"
is "$(sed -n 's/^USE_LEGACY_SUPABASE=//p' .env)" "$orig_legacy" "USE_LEGACY_SUPABASE restored"
grep -q '^# Application settings (kept by the operator)$' .env; ok $? "comments kept"
act_alive "$first_pid"; [ $? -ne 0 ]; ok $? "rollback step stopped the service"
[ -f app.pid ] && act_alive "$(cat app.pid)"; ok $? "and started it again"
rb=$(act_events "$T" phase_rolled_back)
is "$(printf '%s\n' "$rb" | grep -c .)" 1 "one phase_rolled_back event"
is "$(printf '%s' "$rb" | jq -r .phase)" 5 "for phase 5"
is "$(printf '%s' "$rb" | jq -r '[.payload.restored[] | .name + ":" + .from + ">" + .to] | join(",")')" \
   "USE_NEW_DB:maybe>$orig_new,USE_LEGACY_SUPABASE:false>$orig_legacy" "payload lists the restored flags"
is "$(printf '%s' "$rb" | jq -r '.payload.steps[0].item + ":" + (.payload.steps[0].exit | tostring)')" "5.2:0" \
   "payload lists the steps run"
restores=$(act_events "$T" flag_set | jq -r 'select(.payload.rollback) | .payload.name' | paste -sd, -)
is "$restores" "USE_NEW_DB,USE_LEGACY_SUPABASE" "restores audited as flag_set marked rollback"

# After a rollback the restore point starts again from the next change.
js=$(P rollback 5 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '.restore | length')" 0 "nothing left to restore after the rollback"

P rollback 42 --yes >/dev/null 2>&1; is "$?" 64 "unknown phase is a usage error"
P rollback 1 --yes >/dev/null 2>"$T/err"; rc=$?
is "$rc" 65 "phase without rollback step or flag change: nothing to roll back"

done_testing
