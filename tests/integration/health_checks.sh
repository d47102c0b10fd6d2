# health_checks.sh -- `pgcutover health` against a real HTTP server on
# loopback (tests/lib/httpd-health.py): a 200 with the expected body, a 500,
# one that never answers (its timeout fires, the others are not held up),
# a body mismatch, bytes that are not HTTP, a runbook item that is a single `curl URL`; one "health"
# event per run; exit 0 only when every check passes.
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
PORT=$(cat "$T/port")
BASE="http://127.0.0.1:$PORT"
cd "$T" || exit 1

cat >rb.md <<EOF
# Health fixture

## Phase 6: Verification

- [ ] \`curl $BASE/ok\`
- [ ] Check the logs by hand
- [ ] Keep the driver busy
  \`\`\`sh
  touch busy.flag
  sleep 60
  \`\`\`
EOF
# config: every kind of answer
cat >all.json <<EOF
{"runbook": "rb.md", "state": "state.db",
 "health": [
   {"name": "app", "url": "$BASE/ok", "expect_status": 200, "expect_body": "healthy"},
   {"name": "broken", "url": "$BASE/fail"},
   {"name": "hangs", "url": "$BASE/hang", "timeout_ms": 700},
   {"name": "wrong-body", "url": "$BASE/ok", "expect_body": "no such text"},
   {"name": "slow-but-fine", "url": "$BASE/slow", "timeout_ms": 5000},
   {"name": "garbage", "url": "$BASE/garbage", "timeout_ms": 5000}
 ]}
EOF
js=$("$PGCUTOVER" -c all.json health --json); rc=$?
is "$rc" 1 "a failing check: exit 1"
is "$(printf '%s' "$js" | jq -r .all_ok)" false "all_ok false"
chk() { printf '%s' "$js" | jq -r ".checks[] | select(.name == \"$1\") | $2"; }
is "$(chk app .ok)" true "200 with the expected body passes"
is "$(chk app .status)" 200 "status recorded"
printf '%s' "$js" | jq -e '.checks[] | select(.name == "app") | .latency_ms >= 0' >/dev/null; ok $? "latency recorded"
is "$(chk broken .ok)" false "500 fails"
is "$(chk broken .status)" 500 "with status 500"
like "$(chk broken .error)" "HTTP 500" "error says the status"
is "$(chk hangs .ok)" false "a server that never answers fails"
is "$(chk hangs .status)" 0 "with no status"
like "$(chk hangs .error)" "[Tt]ime" "error says it timed out"
like "$(chk hangs .error)" "after [0-9]+ milli" "and after how long (curl's own words, not only its code's)"
is "$(chk garbage .ok)" false "an answer that is not HTTP fails"
like "$(chk garbage .error)" "^the answer is not HTTP: " "and says so (curl: 'Unsupported protocol')"
unlike "$(chk garbage .error)" "$(printf '\033')" "no escape from the server in the error"
is "$(chk wrong-body .ok)" false "expected body missing fails"
is "$(chk wrong-body .body_matched)" false "body_matched false"
is "$(chk slow-but-fine .ok)" true "a slow answer within its timeout passes (checks run at once)"
is "$(printf '%s' "$js" | jq -r '.checks[] | select(.item == "6.1") | .url')" \
   "$BASE/ok" "runbook item that is a single curl URL is a check"
is "$(printf '%s' "$js" | jq -r '.checks | length')" 7 "six config checks and one runbook check"

ev=$("$PGCUTOVER" -c all.json log --json | jq -c '[.[] | select(.kind == "health")]')
is "$(printf '%s' "$ev" | jq length)" 1 "one health event recorded"
is "$(printf '%s' "$ev" | jq -r '.[0].payload.all_ok')" false "the event holds the results"
is "$(printf '%s' "$ev" | jq -r '.[0].payload.checks | length')" 7 "for every check"

out=$("$PGCUTOVER" -c all.json health); rc=$?
is "$rc" 1 "human output: exit 1 as well"
like "$out" "FAIL broken" "names the failing check"
like "$out" "ok   app" "and the passing one"

# all passing
cat >good.json <<EOF
{"runbook": "rb.md", "state": "state.db",
 "health": [{"name": "app", "url": "$BASE/ok", "expect_status": 200, "expect_body": "healthy"}]}
EOF
"$PGCUTOVER" -c good.json health --json >"$T/out"; rc=$?
is "$rc" 0 "every check passes: exit 0"
is "$(jq -r .all_ok "$T/out")" true "all_ok true"

# beside a running driver (a command holding the state's lease)
"$PGCUTOVER" -c good.json run 6.3 --yes >/dev/null 2>&1 &
busy=$!
i=0
while [ ! -f busy.flag ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
"$PGCUTOVER" -c good.json health --json >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "health runs while another pgcutover drives the state"
is "$(jq -r .all_ok "$T/out")" true "and reports"
kill -INT $busy
wait $busy

# expect_status other than 2xx
cat >status.json <<EOF
{"runbook": "rb.md", "state": "state.db",
 "health": [{"name": "maintenance", "url": "$BASE/fail", "expect_status": 500}]}
EOF
"$PGCUTOVER" -c status.json health --json >"$T/out"; rc=$?
is "$rc" 0 "a 500 that the config expects passes (exit 0)"
is "$(jq -r '.checks[] | select(.name == "maintenance") | .ok' "$T/out")" true "expect_status 500 met by a 500"

done_testing
