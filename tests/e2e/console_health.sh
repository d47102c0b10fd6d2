#!/bin/sh
# console_health.sh -- issue 13: the health checks re-run on their own and
# the header carries their mark.  A real HTTP server on loopback
# (tests/lib/httpd-health.py) serves a check the test turns off and on; the
# runbook's "Health check: `curl URL`" item is one of the checks.  The
# console runs the checks in the background from the start (the header:
# "♥ 3/3", nothing recorded), H opens the panel and records its run, and the
# open panel re-runs them by itself: a check going down shows in the panel
# and in the header ("✗ 2/3 app") and that change is recorded; ASCII: "ok".
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
printf '\n## Phase 6: Verification\n\n- [ ] Health check: `curl %s/ok`\n' "$H" >>"$E2E_DIR/runbook.md"
jq --arg h "$H" '. + {health: [{name: "app", url: ($h + "/file/up")}, {name: "db", url: ($h + "/slow")}]}' \
	"$CFG" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
touch "$E2E_DIR/up"
nhealth() { pgc log --json | jq '[.[] | select(.kind == "health")] | length'; }

console_start
wait_screen 'DRIVER' 15; ok $? "console opens"
wait_screen '♥ 3/3' 15; ok $? "the header's health mark: all three checks pass (background run, no key pressed)"
is "$(nhealth)" 0 "a background run that changes nothing is not recorded"

keys H
wait_screen 'Health checks' 10; ok $? "H opens the health panel"
wait_screen 'PASS +Health check: `curl' 10; ok $? "the runbook's \"Health check:\" item is among the checks"
wait_screen 'PASS +app' 10; ok $? "app passes"
i=0
while [ "$(nhealth)" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(nhealth)" 1 "H's run is recorded"

rm -f "$E2E_DIR/up"
wait_screen 'FAIL +app' 25; ok $? "the open panel re-runs the checks by itself: app now fails"
like "$(screen)" 'HTTP 503' "with its status"
wait_screen '✗ 2/3 app' 5; ok $? "the header's mark: 2 of 3 pass, the failing one named"
i=0
while [ "$(nhealth)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(nhealth)" 2 "the change is recorded"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "health")][-1].payload.checks[] | select(.name == "app") | .ok')" \
	false "as app failing"
touch "$E2E_DIR/up"
wait_screen 'PASS +app' 25; ok $? "and back up on a later run"
wait_screen '♥ 3/3' 5; ok $? "the header's mark follows"
keys Escape
keys q
wait_exit 10 >/dev/null

# ASCII: the mark without the heart
E2E_LANG=C console_start
wait_screen 'DRIVER' 15; ok $? "console opens in ASCII"
wait_screen 'ok 3/3' 15; ok $? "ASCII mark: ok 3/3"
keys q
wait_exit 10 >/dev/null

done_testing
