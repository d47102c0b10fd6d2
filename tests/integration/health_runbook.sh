# health_runbook.sh -- health checks from runbook items that say
# "Health check:" then a `curl URL` or a bare URL (issue 13), listed by
# `pgcutover check` and run by `pgcutover health` against a real HTTP server
# on loopback (tests/lib/httpd-health.py); `health` with no check at all
# exits 78, says so, and records nothing (never "0/0 ok").
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
T=$(mktemp -d)
python3 "$top_srcdir/tests/lib/httpd-health.py" "$T/port" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "Bail out! health server did not start"; exit 1; }
BASE="http://127.0.0.1:$(cat "$T/port")"
cd "$T" || exit 1

cat >rb.md <<EOF
# Health labels

## Phase 1: Verification

- [ ] Restart the app
- [ ] Health check: \`curl $BASE/ok\`
- [ ] **Health check:** $BASE/fail
- [ ] healthcheck: \`curl -s -m 5 $BASE/slow\`
- [ ] Check the logs by hand, see http://127.0.0.1:1/not-a-check
EOF
out=$("$PGCUTOVER" check rb.md); rc=$?
is "$rc" 0 "check: exit 0"
like "$out" "health checks from the runbook: 1\\.2 $BASE/ok, 1\\.3 $BASE/fail, 1\\.4 $BASE/slow" \
	"check lists the runbook's health checks with their items"
js=$("$PGCUTOVER" check --json rb.md)
is "$(printf '%s' "$js" | jq -r '[.health_checks[] | "\(.item)=\(.url)"] | join(" ")')" \
	"1.2=$BASE/ok 1.3=$BASE/fail 1.4=$BASE/slow" "check --json: health_checks"

cat >cfg.json <<EOF
{"runbook": "rb.md", "state": "state.db"}
EOF
js=$("$PGCUTOVER" -c cfg.json health --json); rc=$?
is "$rc" 1 "health: one runbook check fails: exit 1"
is "$(printf '%s' "$js" | jq -r '.checks | length')" 3 "three checks from the runbook"
is "$(printf '%s' "$js" | jq -r '.checks[] | select(.item == "1.2") | "\(.url) \(.ok)"')" "$BASE/ok true" \
	"\"Health check: \`curl URL\`\" is a check, and passes"
is "$(printf '%s' "$js" | jq -r '.checks[] | select(.item == "1.3") | "\(.url) \(.status) \(.ok)"')" \
	"$BASE/fail 500 false" "\"**Health check:** URL\" (a bare URL) is a check, and fails with 500"
is "$(printf '%s' "$js" | jq -r '.checks[] | select(.item == "1.4") | .ok')" true \
	"a curl with options after the label"
is "$(printf '%s' "$js" | jq -r '[.checks[] | select(.item == "1.5")] | length')" 0 \
	"an item that only mentions a URL is not a check"

# no check at all: a distinct exit, a clear message, nothing recorded
cat >none.md <<EOF
# No checks

## Phase 1: Verification

- [ ] Check the logs by hand
EOF
cat >none.json <<EOF
{"runbook": "none.md", "state": "none.db"}
EOF
out=$("$PGCUTOVER" -c none.json health 2>err); rc=$?
is "$rc" 78 "health with no checks: exit 78 (config)"
is "$out" "" "nothing on stdout (no '0/0 ok')"
like "$(cat err)" "no health checks" "says there are none"
like "$(cat err)" "Health check:" "and how to add one"
out=$("$PGCUTOVER" -c none.json health --json 2>err); rc=$?
is "$rc" 78 "health --json with no checks: exit 78 as well"
is "$out" "" "and no JSON claiming all_ok"
is "$("$PGCUTOVER" -c none.json log --json | jq '[.[] | select(.kind == "health")] | length')" 0 \
	"no health event recorded"
out=$("$PGCUTOVER" check none.md)
like "$out" "health checks from the runbook: none" "check says the runbook has none"

done_testing
