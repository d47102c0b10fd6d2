#!/bin/sh
# flags_drift.sh -- issue 13, item 8, headless: a hand edit of a declared
# .env flag is shown by `flags` (CHANGED BEHIND PGCUTOVER'S BACK, not yet
# in the audit) but a plain `flags` is a read and records nothing;
# `flags --record` records one flag_drift event per flag changed by hand
# (name, value now, pgcutover's last write, keyed HMAC, who saw it), a
# second --record none; a further edit of the same flag is a new drift;
# a flag_set after it starts afresh; a secret flag's value is recorded as
# *** and the planted value is in no state file; while another process
# holds the driver's lease `flags --record` is refused (75) and writes
# nothing.  The log and the post-mortem show the events.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
HOLDER=
trap '[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
jq '.flags += ["API_TOKEN"]' pgcutover.json > p.tmp && mv p.tmp pgcutover.json
P() { "$PGCUTOVER" -c "$T/pgcutover.json" --operator frank "$@"; }
drifts() { P log --json | jq -c "[.[] | select(.kind == \"flag_drift\")]$1"; }
drifts_raw() { P log --json | jq -r "[.[] | select(.kind == \"flag_drift\")]$1"; }

P flag set USE_NEW_DB true >/dev/null; is "$?" 0 "flag set USE_NEW_DB"
P flag set API_TOKEN "tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null; is "$?" 0 "flag set API_TOKEN"
out=$(P flags --record); is "$?" 0 "flags --record with nothing changed"
is "$(drifts '| length')" 0 "nothing changed by hand: no flag_drift"

sed -i 's/^export USE_NEW_DB=true/export USE_NEW_DB=maybe/' .env
out=$(P flags)
like "$out" "USE_NEW_DB +maybe .*CHANGED BEHIND PGCUTOVER'S BACK" "flags shows the hand edit"
like "$out" "not yet in the audit: .pgcutover flags --record." "and says it is not recorded yet"
is "$(drifts '| length')" 0 "a plain flags records nothing (a read)"
is "$(P --json flags | jq -c '.flags[] | select(.name == "USE_NEW_DB") | [.changed_behind_back, .drift_recorded]')" \
	"[true,false]" "flags --json: changed_behind_back, drift_recorded false"

out=$(P flags --record); is "$?" 0 "flags --record"
like "$out" "recorded 1 flag_drift event" "says what it recorded"
is "$(drifts '| length')" 1 "exactly one flag_drift"
is "$(drifts_raw '[0] | "\(.payload.name) \(.payload.value) \(.payload.last_set) \(.payload.absent) \(.payload.noticed_by) \(.operator)"')" \
	"USE_NEW_DB maybe true false flags --record frank" "its name, value now, pgcutover's last, who saw it"
like "$(drifts '[0].payload.hmac')" '"[0-9a-f]{64}"' "with the value's keyed HMAC"
P flags --record >/dev/null
P flags >/dev/null
is "$(drifts '| length')" 1 "a second --record (and a plain flags): none more"
is "$(P --json flags | jq -c '.flags[] | select(.name == "USE_NEW_DB") | [.changed_behind_back, .drift_recorded]')" \
	"[true,true]" "flags --json: drift_recorded true"

sed -i 's/^export USE_NEW_DB=maybe/export USE_NEW_DB=perhaps/' .env
P flags --record >/dev/null
is "$(drifts_raw '[-1].payload.value')" perhaps "another value by hand: a new flag_drift"
is "$(drifts '| length')" 2 "two in all"
P flag set USE_NEW_DB false >/dev/null
P flags --record >/dev/null
is "$(drifts '| length')" 2 "pgcutover's own write is no drift"
sed -i 's/^export USE_NEW_DB=false/export USE_NEW_DB=perhaps/' .env
P flags --record >/dev/null
is "$(drifts '| length')" 3 "after a flag_set the same hand value is a new drift"

secret="Planted$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sed -i "s/^API_TOKEN=.*/API_TOKEN=$secret/" .env
P flags --record >/dev/null
is "$(drifts_raw '[-1] | "\(.payload.name) \(.payload.value) \(.payload.last_set)"')" "API_TOKEN *** ***" \
	"a secret flag's drift: recorded as ***"
is "$(grep -l -a -F "$secret" state.db* 2>/dev/null | tr '\n' ' ')" "" "the planted secret is in no state file"

# Another driver holds the lease: --record is refused and writes nothing.
sed -i 's/^USE_LEGACY_SUPABASE=.*/USE_LEGACY_SUPABASE=maybe/' .env
P flag set USE_LEGACY_SUPABASE true >/dev/null
sed -i 's/^USE_LEGACY_SUPABASE=.*/USE_LEGACY_SUPABASE=maybe/' .env
"$PGCUTOVER" -c "$T/pgcutover.json" --operator alice lease hold 120 >"$T/holder.out" 2>"$T/holder.err" &
HOLDER=$!
i=0; while [ "$i" -lt 100 ] && ! grep -q holding "$T/holder.out"; do sleep 0.05; i=$((i + 1)); done
n=$(drifts '| length')
P flags --record >/dev/null 2>"$T/err"; is "$?" 75 "flags --record while another process drives: refused (75)"
like "$(cat "$T/err")" "alice" "naming the driver"
is "$(drifts '| length')" "$n" "nothing recorded"
P flags >/dev/null; is "$?" 0 "a plain flags still reads beside the driver"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null; HOLDER=

P log | grep -q 'flag_drift'; ok $? "log lists the flag_drift events"
md=$(P export --format md)
like "$md" "USE_NEW_DB: true → maybe by hand \(seen by flags --record\)" "the post-mortem lists a hand edit"
printf '%s' "$md" | grep -q -F "$secret"; isnt "$?" 0 "the post-mortem holds no secret"
done_testing
