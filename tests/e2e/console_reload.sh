#!/bin/sh
# console_reload.sh -- issue 13 "config changes need a restart": the console
# notices its config file changed (checked every 2 s on the loop's timer)
# and reloads it: a health check added to the config is run without a
# restart (the header's mark counts it); a bad new config keeps the old one
# and says file:line:col on the status line.  Real HTTP on loopback.
. "$top_srcdir/tests/lib/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
. "$top_srcdir/tests/e2e/console.inc"
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" &
srv=$!
trap 'kill $srv 2>/dev/null; e2e_cleanup' EXIT
i=0
while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$E2E_DIR/port" ] || { echo "Bail out! health server did not start"; exit 1; }
H="http://127.0.0.1:$(cat "$E2E_DIR/port")"
e2e_fixture
base=$(cat "$CFG")
put_cfg() { printf '%s\n' "$1" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"; }
put_cfg "$(printf '%s' "$base" | jq --arg h "$H" '. + {health: [{name: "app", url: ($h + "/ok")}]}')"

E2E_COLS=120 E2E_ROWS=30 console_start
wait_screen 'DRIVER' 15; ok $? "console opens"
wait_screen '♥ 1/1' 15; ok $? "one health check, passing"

put_cfg "$(printf '%s' "$base" | jq --arg h "$H" '. + {health: [{name: "app", url: ($h + "/ok")}, {name: "api", url: ($h + "/fail")}]}')"
wait_screen 'config reloaded' 10; ok $? "the changed config is reloaded, and the status line says so"
like "$(screen)" 'take a restart' "and says what takes a restart"
wait_screen '✗ 1/2 api' 15; ok $? "the check it adds runs without a restart"

printf '{"runbook": "runbook.md",\n  "health": [oops]}\n' >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
wait_screen 'NOT reloaded' 10; ok $? "a bad config is not taken"
like "$(screen)" 'pgcutover\.json:2:[0-9]+' "the status line names file:line:col"
like "$(screen)" '✗ 1/2 api' "the old config stays (its checks still shown)"
keys q
is "$(wait_exit 10)" 0 "q quits"
done_testing
