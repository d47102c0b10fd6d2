# actions_flags.sh -- `pgcutover flags [--json]` and `pgcutover flag set`:
# values read from the real .env, the last value pgcutover set, a change
# made behind pgcutover's back detected, sets audited and atomic.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

js=$(P flags --json); rc=$?
is "$rc" 0 "flags --json exits 0"
is "$(printf '%s' "$js" | jq -r '[.flags[].name] | join(",")')" \
   "$(jq -r '.flags | join(",")' pgcutover.json)" "every declared flag, in config order"
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .value')" \
   "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' .env)" "value read from the file"
is "$(printf '%s' "$js" | jq -r '.flags[0].last_set')" null "nothing set by pgcutover yet"
is "$(printf '%s' "$js" | jq -r .file_changed_behind_back)" false "not changed behind our back"
is "$(printf '%s' "$js" | jq -r .sha256)" "$(sha256sum .env | cut -d' ' -f1)" "sha256 of the file"

out=$(P flag set USE_NEW_DB true); rc=$?
is "$rc" 0 "flag set exits 0"
like "$out" "USE_NEW_DB: false -> true" "says old and new"
grep -q '^export USE_NEW_DB=true   # flipped on cutover night$' .env; ok $? "set in place, comment kept"
is "$(stat -c %a .env)" 640 "mode kept"
ls -a | grep -q '^\.env\.bak-'; ok $? "backup written"
ev=$(act_events "$T" flag_set | tail -1)
is "$(printf '%s' "$ev" | jq -r '.payload.old + ">" + .payload.new')" "false>true" "flag_set audited with old and new"
is "$(printf '%s' "$ev" | jq -r .payload.manual)" true "marked as a manual set"

js=$(P flags --json)
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .last_set')" true "last value set by pgcutover"
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .changed_behind_back')" false "in step with the file"

# Someone edits the file by hand.
sed -i 's/^export USE_NEW_DB=true/export USE_NEW_DB=false/' .env
js=$(P flags --json)
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .value')" false "new value read"
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .changed_behind_back')" true \
   "flag changed behind pgcutover's back"
is "$(printf '%s' "$js" | jq -r .file_changed_behind_back)" true "file changed behind pgcutover's back"
like "$(P flags)" "CHANGED BEHIND" "human output warns"

# Unchanged value: no backup, still audited.
nb=$(ls -a | grep -c '^\.env\.bak-')
P flag set USE_LEGACY_SUPABASE true >/dev/null; rc=$?
is "$rc" 0 "setting the current value succeeds"
is "$(ls -a | grep -c '^\.env\.bak-')" "$nb" "no backup when nothing changes"
is "$(act_events "$T" flag_set | tail -1 | jq -r .payload.changed)" false "audited as unchanged"

# Errors.
P flag set NOT_A_FLAG 1 >/dev/null 2>&1; is "$?" 64 "undeclared flag refused"
grep -q NOT_A_FLAG .env; [ $? -ne 0 ]; ok $? "and not written"
P flag set USE_NEW_DB >/dev/null 2>&1; is "$?" 64 "missing value is a usage error"

done_testing
