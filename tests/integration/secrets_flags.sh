# secrets_flags.sh -- a flag holding a URL with a password (DATABASE_URL=
# postgres://u:PW@h/db) or a secret-looking name: `flag set`, `flags` and
# the flag_set record never show the password, and `flags` compares the file
# with pgcutover's last write by a keyed hash of the real value (key in a
# 0600 file beside the state, never in it), so its own write is not
# "changed behind its back" while a hand edit of the password still is.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }
rnd() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
jq '.flags += ["DATABASE_URL", "STRIPE_API_KEY"]' pgcutover.json >c.new && mv c.new pgcutover.json
pw1="p1$(rnd)"; pw2="p2$(rnd)"; pw3="p3$(rnd)"; key1="k1$(rnd)"
printf 'DATABASE_URL=postgres://app:%s@db1:5432/app\n' "$pw1" >>.env

out=$(P flags 2>&1)
unlike "$out" "$pw1" "flags: the URL password in the file is not shown"
like "$out" "postgres://app:\\*\\*\\*@db1:5432/app" "flags: the URL shown with *** for its password"

out=$(P flag set DATABASE_URL "postgres://app:$pw2@db2:5432/app" 2>&1); rc=$?
is "$rc" 0 "flag set DATABASE_URL exits 0"
unlike "$out" "$pw1|$pw2" "flag set: neither the old nor the new password shown"
like "$out" "DATABASE_URL: postgres://app:\\*\\*\\*@db1:5432/app -> postgres://app:\\*\\*\\*@db2:5432/app" \
     "flag set: old and new URL shown masked"
out=$(P flag set STRIPE_API_KEY "$key1" 2>&1)
like "$out" "STRIPE_API_KEY: \\(unset\\) -> \\*\\*\\*" "a secret-named flag shown as ***"

js=$(P flags --json)
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "DATABASE_URL") | .changed_behind_back')" false \
   "pgcutover's own write of a URL with a password is not 'changed behind its back'"
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "STRIPE_API_KEY") | .changed_behind_back')" false \
   "nor is its own write of a secret"
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "DATABASE_URL") | .value')" \
   "postgres://app:***@db2:5432/app" "flags --json: value masked"
unlike "$(P flags)" "CHANGED BEHIND" "flags: no false alarm after pgcutover's own write"
is "$(stat -c %a state.db.key 2>/dev/null)" 600 "the hash key is a 0600 file beside the state"

# A hand edit of the password alone (the masked text stays the same).
sed -i "s/$pw2/$pw3/" .env
js=$(P flags --json)
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "DATABASE_URL") | .changed_behind_back')" true \
   "a password changed by hand is seen"
sed -i "s/^STRIPE_API_KEY=.*/STRIPE_API_KEY=k9$(rnd)/" .env
js=$(P flags --json)
is "$(printf '%s' "$js" | jq -r '.flags[] | select(.name == "STRIPE_API_KEY") | .changed_behind_back')" true \
   "a secret changed by hand is seen"

# The record: masked text and a keyed hash, never the value or its plain hash.
ev=$(act_events "$T" flag_set | jq -c 'select(.payload.name == "DATABASE_URL")' | tail -1)
is "$(printf '%s' "$ev" | jq -r .payload.new)" "postgres://app:***@db2:5432/app" "recorded new value masked"
plain=$(printf '%s' "postgres://app:$pw2@db2:5432/app" | sha256sum | cut -d' ' -f1)
hm=$(printf '%s' "$ev" | jq -r .payload.new_hmac)
like "$hm" "^[0-9a-f]{64}$" "recorded with a keyed hash of the value"
isnt "$hm" "$plain" "not a plain sha256 of it (a short secret could be brute-forced from that)"
P log --json >log.json; P export --format jsonl -o x.jsonl >/dev/null 2>&1; P log >log.txt
for s in "$pw1" "$pw2" "$pw3" "$key1"; do
	hits=$(grep -l -a -F "$s" state.db* state.db.key log.* x.jsonl 2>/dev/null | tr '\n' ' ')
	is "$hits" "" "${s%%[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*}... in no state file, log or export"
done

# An older state's record (no keyed hash): compared by the masked text, so a
# URL with a password does not raise a false alarm either.
rm -f state.db* && P flag set DATABASE_URL "postgres://app:$pw2@db2:5432/app" >/dev/null
rm -f state.db.key
is "$(P flags --json | jq -r '.flags[] | select(.name == "DATABASE_URL") | .changed_behind_back')" false \
   "without the key: compared by the masked text, no false alarm"
[ ! -e state.db.key ]; ok $? "reading flags never creates the key"

# A run block that writes a URL with a password: rollback never restores
# the masked record ("postgres://app:***@...") into the file, and shows no
# password.
rm -f state.db* && sed -i "s|^DATABASE_URL=.*|DATABASE_URL=postgres://app:$pw1@db1:5432/app|" .env
sed -i "s|^  USE_LEGACY_SUPABASE=false|  USE_LEGACY_SUPABASE=false\n  DATABASE_URL=postgres://app:$pw2@db2:5432/app|" rb.md
P run 5.1 --yes >/dev/null 2>&1; rc=$?
is "$rc" 0 "a phase 5 block sets DATABASE_URL"
./svc.sh stop >/dev/null
js=$(P rollback 5 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '[.restore[].name] | index("DATABASE_URL")')" null \
   "rollback does not restore a value recorded masked"
like "$(printf '%s' "$js" | jq -r '.notes[]')" "DATABASE_URL: its old value is recorded masked" "and says why"
unlike "$js" "$pw1|$pw2" "no password in the rollback plan"

done_testing
