#!/bin/sh
# console_flag_drift.sh -- issue 13, item 8: a hand edit of a declared .env
# flag, shown in the console's flags panel as CHANGED BEHIND BACK, is
# recorded as one flag_drift event (name, the masked value, its keyed
# HMAC, who saw it); the panel's next refreshes record nothing more; a
# secret flag's planted value is recorded as *** and is nowhere in the
# state; a monitor shows a hand edit and records nothing; replay's flags line and the post-mortem show the hand edits.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
trap 'e2e_cleanup' EXIT
jq '.flags += ["API_TOKEN"]' "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
drifts() { pgc log --json | jq -c "[.[] | select(.kind == \"flag_drift\")]$1"; }
drifts_raw() { pgc log --json | jq -r "[.[] | select(.kind == \"flag_drift\")]$1"; }

pgc flag set USE_NEW_DB true >/dev/null; is "$?" 0 "flag set USE_NEW_DB (headless, before the console)"
pgc flag set API_TOKEN "tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null; is "$?" 0 "flag set API_TOKEN"

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys F
wait_screen '\.env flags' 5; ok $? "F opens the flags panel"
wait_screen 'USE_NEW_DB +true +true by ' 5; ok $? "USE_NEW_DB as pgcutover set it"
is "$(drifts '| length')" 0 "no flag_drift before any hand edit"

sed -i 's/^export USE_NEW_DB=true/export USE_NEW_DB=maybe/' "$D/.env"
wait_screen 'USE_NEW_DB +maybe .*CHANGED BEHIND BACK' 5; ok $? "the hand edit is shown"
wait_screen "recorded 1 flag changed behind pgcutover's back" 5; ok $? "and the status line says it was recorded"
is "$(drifts '| length')" 1 "exactly one flag_drift event"
is "$(drifts_raw '[0] | "\(.payload.name) \(.payload.value) \(.payload.last_set) \(.payload.noticed_by) \(.operator)"')" \
	"USE_NEW_DB maybe true console alice" "flag_drift: the name, the value now, pgcutover's last, seen by the console, the operator"
like "$(drifts '[0].payload.hmac')" '"[0-9a-f]{64}"' "flag_drift: the value's keyed HMAC"
sleep 5   # two more rereads of the panel (every 2 s)
is "$(drifts '| length')" 1 "later refreshes record nothing more"

secret="Planted$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sed -i "s/^API_TOKEN=.*/API_TOKEN=$secret/" "$D/.env"
wait_screen 'API_TOKEN +\*\*\* .*CHANGED BEHIND BACK' 5; ok $? "a secret flag's hand edit is shown masked"
end=$(( $(date +%s) + 5 )); while [ "$(drifts '| length')" -lt 2 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
is "$(drifts '| length')" 2 "one more flag_drift, for the secret flag"
is "$(drifts '[1].payload.value')" '"***"' "its value recorded as ***"
keys Escape q
is "$(wait_exit 15)" 0 "quit"
is "$(grep -l -a -F "$secret" "$D"/state.db* 2>/dev/null | tr '\n' ' ')" "" "the planted secret is nowhere in the state"
sleep 1
is "$(drifts '| length')" 2 "still two after the console closed"
# A monitor shows a hand edit and records nothing (it never writes).
pgc flag set USE_LEGACY_SUPABASE true >/dev/null
pane_run "cd '$D' && env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator carol monitor"
wait_screen 'MONITOR' 10; ok $? "a monitor opens"
keys F
wait_screen 'USE_LEGACY_SUPABASE +true +true by ' 5; ok $? "its flags panel"
sed -i 's/^USE_LEGACY_SUPABASE=true/USE_LEGACY_SUPABASE=maybe/' "$D/.env"
wait_screen 'USE_LEGACY_SUPABASE +maybe .*CHANGED BEHIND' 5; ok $? "the monitor shows the hand edit"
sleep 3   # a reread or two
is "$(drifts '| length')" 2 "and records nothing"
keys Escape q
is "$(wait_exit 10)" 0 "the monitor quits"

# Replay: at the end of the log the flags line has the hand edit.
pane_run "cd '$D' && env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator carol replay state.db -i 0.5"
wait_screen 'REPLAY' 10; ok $? "replay opens"
keys '>' '>' '>' Space
wait_screen 'end of the log' 30; ok $? "played to the end"
wait_screen 'flags: USE_NEW_DB=maybe \(alice [0-9:]+, by hand\)' 5; ok $? "replay: the flag as the hand edit left it, marked by hand"
keys q
is "$(wait_exit 10)" 0 "replay quits"
md=$(pgc export --format md)
like "$md" "## \.env changed behind pgcutover's back" "the post-mortem lists the hand edits"
like "$md" "USE_NEW_DB: true → maybe by hand \(seen by console\)" "with the flag, its values and who saw it"
printf '%s' "$md" | grep -q -F "$secret"; isnt "$?" 0 "the post-mortem holds no secret"
done_testing
