#!/bin/sh
# notify_webhook.sh -- webhook notifications from the headless commands,
# against a real HTTP server on loopback (tests/lib/httpd-health.py): a
# phase completed by tick, a failing command, the downtime start and end
# each POST one Slack-style {"text": ...} as JSON; the webhook URL (it holds
# a token) comes from the environment and reaches neither the message nor
# the state file; a webhook that fails twice is retried until it takes the
# message; one that is down makes the command warn, never fail.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
T=$(mktemp -d)
python3 "$top_srcdir/tests/lib/httpd-health.py" "$T/port" "$T/hooks" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "Bail out! webhook server did not start"; exit 1; }
PORT=$(cat "$T/port")
TOKEN="T0KEN$$secretpart"

D=$T/act
act_fixture "$D" 30
jq '.notify = {"webhook_env": "PGC_TEST_WEBHOOK"}' "$D/pgcutover.json" > "$D/c.tmp" && mv "$D/c.tmp" "$D/pgcutover.json"
pgc() { "$PGCUTOVER" -c "$D/pgcutover.json" --operator dana "$@"; }
hooks() { cat "$T/hooks" 2>/dev/null; }

export PGC_TEST_WEBHOOK="http://127.0.0.1:$PORT/hook/$TOKEN"
pgc run 1.2 --yes >/dev/null 2>&1
like "$(hooks)" "^/hook/$TOKEN application/json \\{\"text\":\"\\[pgcutover\\] Fixture cutover: command of item 1\\.2 failed \\(exit 7\\), run by dana\"\\}" \
	"a failing command: one JSON POST saying which item failed, how, and who ran it"
pgc run 1.1 --yes >/dev/null 2>&1
is "$(hooks | wc -l | tr -d ' ')" 1 "a command that succeeds sends nothing"
pgc downtime start >/dev/null
like "$(hooks | tail -1)" 'downtime started \(dana\)' "downtime start is announced"
pgc downtime end >/dev/null
like "$(hooks | tail -1)" 'downtime ended \(dana\) after 0h00m' "downtime end is announced, with its length"
for id in 1.1 1.2 1.3 1.4 1.5 1.6 1.7; do pgc tick "$id" >/dev/null; done
pgc tick 1.8 >/dev/null
like "$(hooks | tail -1)" 'phase 1 complete \(dana\)' "the tick that completes a phase announces it"
unlike "$(hooks | sed 's|^/hook/[^ ]* ||')" "$TOKEN" "the webhook's token is in no message"
if command -v sqlite3 >/dev/null 2>&1; then
	unlike "$(sqlite3 "$D/state.db" 'select payload from events' 2>/dev/null; strings "$D/state.db")" "$TOKEN" \
		"the token is nowhere in the state file"
else
	unlike "$(strings "$D/state.db" 2>/dev/null || cat "$D/state.db")" "$TOKEN" "the token is nowhere in the state file"
fi

# retried with backoff
export PGC_TEST_WEBHOOK="http://127.0.0.1:$PORT/flaky/$TOKEN"
pgc downtime start >/dev/null 2>"$T/err"; rc=$?
is "$rc" 0 "flaky webhook: the command succeeds"
like "$(hooks | tail -1)" "^/flaky/.*downtime started" "the message got through after two 500s"
is "$(cat "$T/err")" "" "and nothing to warn about"

# down: a warning, never a failure
export PGC_TEST_WEBHOOK="http://127.0.0.1:1/hook/$TOKEN"
pgc downtime end >/dev/null 2>"$T/err"; rc=$?
is "$rc" 0 "webhook down: the command still succeeds"
like "$(cat "$T/err")" 'notify: 1 message not delivered' "and says the message was not delivered"
unlike "$(cat "$T/err")" "$TOKEN" "the warning does not show the token"
unset PGC_TEST_WEBHOOK
pgc downtime start >/dev/null 2>"$T/err"
like "$(cat "$T/err")" 'notify: .*PGC_TEST_WEBHOOK' "the variable unset: a warning naming it"
done_testing
