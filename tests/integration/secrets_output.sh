# secrets_output.sh -- what is masked in a command is masked in its output
# too: a password the command exports and echoes, a token the environment
# holds printed in two writes across a line longer than the read size, and a
# secret on the edge of the audit's output head are masked in the live
# output, the state, `log`, `log --json` and the exports.  A note that
# holds a known secret (or a URL with a password) is recorded masked.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }
rnd() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

exported="pw$(rnd)"      # assigned by the command text
token="tk$(rnd)"         # in the command text as API_TOKEN=...
envtok="et$(rnd)"        # in pgcutover's environment (secret-looking name)
notepw="np$(rnd)"        # a URL password in a note
# Items appended to the fixture's phase 1 (after 1.8).
awk -v ex="$exported" -v tk="$token" '
	{ print }
	/echo "using \$DEPLOY_TOKEN_NOT_SET"/ { getline; print
		print "- [ ] Export and echo a password"
		print "  ```sh"
		print "  export DB_PASSWORD=" ex "; echo \"done $DB_PASSWORD\""
		print "  export API_TOKEN=\x27" tk "\x27"
		print "  echo \"token $API_TOKEN\" >&2"
		print "  ```"
		print "- [ ] A token in two writes on a long line"
		print "  ```sh"
		print "  head -c 70000 /dev/zero | tr \x27\\0\x27 x"
		print "  printf %s \"$APP_SERVICE_TOKEN\" | cut -c1-8 | tr -d \x27\\n\x27"
		print "  sleep 0.5"
		print "  printf %s \"$APP_SERVICE_TOKEN\" | cut -c9- "
		print "  ```"
		print "- [ ] A token on the edge of the recorded head"
		print "  ```sh"
		print "  head -c 32760 /dev/zero | tr \x27\\0\x27 y"
		print "  echo \"$APP_SERVICE_TOKEN\""
		print "  ```"
	}' rb.md >rb.new && mv rb.new rb.md
grep -q "Export and echo" rb.md; ok $? "fixture: items added"
export APP_SERVICE_TOKEN="$envtok"

P run 1.9 --yes >"$T/out1" 2>"$T/err1"; rc=$?
is "$rc" 0 "run 1.9 exits 0"
is "$(cat "$T/out1")" "done ***" "exported password masked in the live output"
is "$(head -1 "$T/err1")" "token ***" "token assigned in quotes masked in the live stderr"
start=$(act_events "$T" command_start | tail -1)
end=$(act_events "$T" command_end | tail -1)
unlike "$(printf '%s' "$start" | jq -r .payload.command)" "$exported|$token" "command text recorded masked"
like "$(printf '%s' "$start" | jq -r .payload.command)" "API_TOKEN='\\*\\*\\*'" "a quoted secret assignment masked inside its quotes"
is "$(printf '%s' "$end" | jq -r .payload.output_head)" "done ***
token ***" "output recorded masked"

P run 1.10 --yes >"$T/out2" 2>"$T/err2"; rc=$?
is "$rc" 0 "run 1.10 exits 0"
is "$(wc -c <"$T/out2")" 70004 "the long line came out whole (70000 x, ***, newline)"
grep -q "$envtok" "$T/out2"; [ $? -ne 0 ]; ok $? "a token written in two halves across a long line is masked live"
is "$(tail -c 4 "$T/out2")" "***" "and shown as ***"
half=$(printf %s "$envtok" | cut -c1-8)
end=$(act_events "$T" command_end | tail -1)
unlike "$(printf '%s' "$end" | jq -r .payload.output_tail)" "$half" "not even its first half recorded in the tail"

P run 1.11 --yes >"$T/out3" 2>&1; rc=$?
is "$rc" 0 "run 1.11 exits 0"
end=$(act_events "$T" command_end | tail -1)
unlike "$(printf '%s' "$end" | jq -r .payload.output_head)" "$(printf %s "$envtok" | cut -c1-6)" \
       "no piece of a secret at the end of the recorded head"

APP_DB_PASSWORD="$envtok" P note "rotated: the old one was $envtok, db at postgres://app:$notepw@db1/app" >/dev/null; rc=$?
is "$rc" 0 "note recorded"
note=$(act_events "$T" note | tail -1 | jq -r .payload.text)
is "$note" "rotated: the old one was ***, db at postgres://app:***@db1/app" "note masked: known secret and URL password"

APP_DB_PASSWORD="$envtok" P tick 1.1 --note "used $envtok" >/dev/null 2>&1
is "$(act_events "$T" tick | jq -r 'select(.item == "1.1") | .payload.note')" "used ***" "a tick's note masked"
APP_DB_PASSWORD="$envtok" P rehearsal mark --note "dry run with $envtok" >/dev/null 2>&1
is "$(act_events "$T" rehearsal | tail -1 | jq -r .payload.note)" "dry run with ***" "a rehearsal's note masked"
P log >"$T/log.txt" 2>&1
P log --json >"$T/log.json" 2>&1
P export --format jsonl -o "$T/x.jsonl" >/dev/null 2>&1
P export --format md -o "$T/x.md" >/dev/null 2>&1
for s in "$exported" "$token" "$envtok" "$notepw" "$half"; do
	hits=$(grep -l -a -F "$s" state.db* "$T"/log.* "$T"/x.* "$T"/err* 2>/dev/null | tr '\n' ' ')
	is "$hits" "" "${s%%[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*}... in no state file, log or export"
done
[ -s "$T/x.jsonl" ] && [ -s "$T/x.md" ]; ok $? "exports written"

done_testing
