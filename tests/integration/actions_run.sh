# actions_run.sh -- `pgcutover run` end to end with real commands: exit
# status propagated, stdout/stderr kept, flag edits applied to a real .env
# atomically (mode, comments, backup), dry run changing nothing, refusal
# without a terminal, 10 MB of output capped in the audit, escape sequences
# sanitised, secrets masked, a missing variable refused.  No database.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v setsid >/dev/null 2>&1 || skip_all "setsid not installed"
T=$(mktemp -d)
trap '[ -f "$T/app.pid" ] && kill "$(cat "$T/app.pid")" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

# --- a plain command ---------------------------------------------------------
out=$(P run 1.1 --yes 2>"$T/err"); rc=$?
is "$rc" 0 "run 1.1 exits 0"
is "$out" "hello from 1.1" "command output on stdout (PGCUTOVER_ITEM set for it)"
start=$(act_events "$T" command_start | tail -1)
end=$(act_events "$T" command_end | tail -1)
is "$(printf '%s' "$start" | jq -r .item)" "1.1" "command_start names the item"
is "$(printf '%s' "$start" | jq -r .payload.command)" "$(sed -n '/^- \[ \] Greet/,/```$/p' rb.md | sed -n '3p' | sed 's/^  //')" \
   "command_start records the command text"
is "$(printf '%s' "$start" | jq -r .payload.shell)" "/bin/bash" "bash block runs under bash"
is "$(printf '%s' "$end" | jq -r .payload.start_id)" "$(printf '%s' "$start" | jq -r .id)" "command_end points at its start"
is "$(printf '%s' "$end" | jq -r .payload.exit)" 0 "command_end exit 0"
is "$(printf '%s' "$end" | jq -r .payload.output_head)" "hello from 1.1" "output recorded"
printf '%s' "$end" | jq -e '.payload.duration_s >= 0' >/dev/null; ok $? "duration recorded"

# --- exit status propagated, stderr kept -----------------------------------------
P run 1.2 --yes >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 7 "exit status of the command is pgcutover's"
grep -q "about to fail" "$T/err"; ok $? "command's stderr passed through"
end=$(act_events "$T" command_end | tail -1)
is "$(printf '%s' "$end" | jq -r .payload.status)" failed "command_end status failed"
is "$(printf '%s' "$end" | jq -r .payload.exit)" 7 "command_end exit 7"
like "$(printf '%s' "$end" | jq -r .payload.output_head)" "about to fail" "stderr recorded in the audit"

# --- dry run changes nothing ------------------------------------------------------
before_env=$(sha256sum .env | cut -d' ' -f1)
before_events=$(P log --json | jq length)
out=$(P run 5.1 --dry-run); rc=$?
is "$rc" 0 "dry run exits 0"
like "$out" "USE_NEW_DB: false -> true" "dry run shows the flag change"
like "$out" "svc.sh stop" "dry run shows the commands"
js=$(P run 5.1 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '[.flags[] | select(.changes) | .name] | join(",")')" "USE_NEW_DB,USE_LEGACY_SUPABASE" \
   "dry run --json lists the flags that would change, in block order"
is "$(printf '%s' "$js" | jq -r '[.segments[].kind] | join(",")')" "shell,flag,flag,shell" "block split at the flag lines"
is "$(printf '%s' "$js" | jq -r .needs_typed_confirm)" true "phase 5 item needs typed confirmation"
is "$(sha256sum .env | cut -d' ' -f1)" "$before_env" ".env unchanged by dry run"
is "$(P log --json | jq length)" "$before_events" "no event recorded by dry run"
[ ! -f app.pid ]; ok $? "dry run started nothing"

# --- no terminal, no --yes: refused -------------------------------------------------
setsid -w "$PGCUTOVER" -c "$T/pgcutover.json" run 5.1 </dev/null >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 64 "without --yes and without a terminal: exit 64"
like "$(cat "$T/err")" "no terminal" "says there is no terminal"
is "$(P log --json | jq '[.[] | select(.kind == "command_start")] | length')" \
   "$(act_events "$T" command_start | wc -l | tr -d ' ')" "(sanity) log readable"
is "$(sha256sum .env | cut -d' ' -f1)" "$before_env" ".env unchanged when refused"

# --- flag edits on a real .env ------------------------------------------------------
P run 5.1 --yes >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "run 5.1 --yes exits 0"
[ -f app.pid ] && act_alive "$(cat app.pid)"; ok $? "fake service started by the command is running"
is "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' .env)" true "USE_NEW_DB set in .env"
is "$(sed -n 's/^USE_LEGACY_SUPABASE=//p' .env)" false "USE_LEGACY_SUPABASE set in .env"
grep -q '^# Application settings (kept by the operator)$' .env; ok $? "comment line kept"
grep -q '^export USE_NEW_DB=true   # flipped on cutover night$' .env; ok $? "export prefix and trailing comment kept"
grep -q '^APP_NAME="booking bot"$' .env; ok $? "other lines kept byte for byte"
is "$(sed -n '3p' .env)" "" "blank line kept in place"
is "$(stat -c %a .env)" 640 "file mode kept"
nbak=$(ls -a | grep -c '^\.env\.bak-')
[ "$nbak" -ge 1 ]; ok $? "timestamped backup beside the .env"
bak=$(ls -a | grep '^\.env\.bak-' | sort | head -1)
grep -q '^export USE_NEW_DB=false' "$bak"; ok $? "first backup holds the value before the change"
ls -a | grep -q '\.pgcutover-'; [ $? -ne 0 ]; ok $? "no temporary file left behind"
fs=$(act_events "$T" flag_set)
is "$(printf '%s\n' "$fs" | jq -r '.payload.name' | paste -sd, -)" "USE_NEW_DB,USE_LEGACY_SUPABASE" "flag_set per flag, in order"
is "$(printf '%s\n' "$fs" | head -1 | jq -r '.payload.old + ">" + .payload.new')" "false>true" "flag_set has old and new"
is "$(printf '%s\n' "$fs" | head -1 | jq -r .payload.file)" "$T/.env" "flag_set names the file"
is "$(printf '%s\n' "$fs" | head -1 | jq -r .item)" "5.1" "flag_set names the item"
kinds=$(P log --json | jq -r '[.[] | select(.item == "5.1") | .kind] | join(",")')
is "$kinds" "command_start,flag_set,flag_set,command_end" "events in the order things happened"
like "$(act_events "$T" command_end | tail -1 | jq -r .payload.output_head | paste -sd' ' -)" "app stopped app started" \
   "output of the shell segments on both sides of the flags recorded"

# --- 10 MB of output -------------------------------------------------------------------
P run 1.3 --yes >"$T/big" 2>"$T/err"; rc=$?
is "$rc" 0 "10 MB command exits 0 (never blocked on a full pipe)"
is "$(wc -c <"$T/big" | tr -d ' ')" 10000000 "all 10 MB passed to stdout"
end=$(act_events "$T" command_end | tail -1)
is "$(printf '%s' "$end" | jq -r .payload.output_bytes)" 10000000 "audit counts every byte"
is "$(printf '%s' "$end" | jq -r .payload.truncated)" true "audit output marked truncated"
n=$(printf '%s' "$end" | jq -r '(.payload.output_head | length) + (.payload.output_tail | length)')
[ "$n" -le 65536 ] && [ "$n" -gt 0 ]; ok $? "audit keeps head and tail within 64 KiB ($n bytes)"

# --- escape sequences -----------------------------------------------------------------
P run 1.4 --yes >"$T/out" 2>&1
end=$(act_events "$T" command_end | tail -1)
head=$(printf '%s' "$end" | jq -r .payload.output_head)
like "$head" "RED" "printable text kept"
printf '%s' "$end" | jq -e '.payload.output_head | test("[\u0000-\u0008\u000b-\u001f\u007f]") | not' >/dev/null
ok $? "no escape or control character in the audit"
P log 2>/dev/null | grep -q "$(printf '\033')"; [ $? -ne 0 ]; ok $? "log shows no raw escape"

# --- secrets masked ----------------------------------------------------------------------
secret="s3cr3t-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
APP_DB_PASSWORD=$secret "$PGCUTOVER" -c "$T/pgcutover.json" run 1.6 --yes >"$T/out" 2>&1; rc=$?
is "$rc" 0 "secret-printing command ran"
grep -q "$secret" "$T/out"; [ $? -ne 0 ]; ok $? "secret masked in live output"
end=$(act_events "$T" command_end | tail -1)
is "$(printf '%s' "$end" | jq -r .payload.output_head)" "password is ***" "secret masked in the audit"
grep -c "$secret" state.db* 2>/dev/null | grep -qv ':0$'; [ $? -ne 0 ]; ok $? "secret nowhere in the state files"

# --- an undefined variable --------------------------------------------------------------------
n_before=$(act_events "$T" command_start | wc -l)
setsid -w "$PGCUTOVER" -c "$T/pgcutover.json" run 1.7 --yes </dev/null >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 64 "command using an unset variable refused without a terminal"
like "$(cat "$T/err")" "RELEASE_TAG_NOT_SET" "names the variable"
is "$(act_events "$T" command_start | wc -l)" "$n_before" "nothing run"
js=$(P run 1.7 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '.missing_vars | join(",")')" RELEASE_TAG_NOT_SET "dry run lists the missing variable"
RELEASE_TAG_NOT_SET=v2 "$PGCUTOVER" -c "$T/pgcutover.json" run 1.7 --yes >"$T/out" 2>&1; rc=$?
is "$rc" 0 "runs once the variable is in the environment"

# --- errors ------------------------------------------------------------------------------------
P run 9.9 --yes >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ]; ok $? "unknown item refused"
P run >/dev/null 2>&1; is "$?" 64 "run without an item is a usage error"

done_testing
