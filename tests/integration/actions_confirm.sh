# actions_confirm.sh -- confirmations and questions on a real terminal (a
# pseudo-terminal driven by tests/lib/pty-answer.py): a cutover step needs
# its id or "yes" typed, an ordinary one too (the console's one style: no
# y/N), a missing variable is asked
# for (a secret-looking one is masked everywhere), and past the point of no
# return a rollback needs a second confirmation.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v setsid >/dev/null 2>&1 || skip_all "setsid not installed"
T=$(mktemp -d)
trap '[ -f "$T/app.pid" ] && kill "$(cat "$T/app.pid")" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }
ANSWER() { python3 "$top_srcdir/tests/lib/pty-answer.py" "$@"; }
env_sha=$(sha256sum .env | cut -d' ' -f1)

out=$(ANSWER y -- "$PGCUTOVER" -c "$T/pgcutover.json" run 5.1); rc=$?
like "$out" "Type 5\.1 or yes" "cutover step asks for its id to be typed"
[ "$rc" -ne 0 ]; ok $? "a plain y is not enough for a cutover step"
is "$(sha256sum .env | cut -d' ' -f1)" "$env_sha" "and nothing changed"
is "$(act_events "$T" command_start | grep -c .)" 0 "nothing run"

out=$(ANSWER 5.1 -- "$PGCUTOVER" -c "$T/pgcutover.json" run 5.1); rc=$?
is "$rc" 0 "typing the item id runs it"
like "$out" "svc.sh stop" "the exact command was shown first"
is "$(sed -n 's/^USE_LEGACY_SUPABASE=//p' .env)" false "and it ran"

out=$(ANSWER n -- "$PGCUTOVER" -c "$T/pgcutover.json" run 1.1); rc=$?
like "$out" "Run it\? Type 1\.1 or yes, then Enter" "ordinary step asks for its id or yes, as the console does"
[ "$rc" -ne 0 ]; ok $? "n declines"
out=$(ANSWER y -- "$PGCUTOVER" -c "$T/pgcutover.json" run 1.1); rc=$?
[ "$rc" -ne 0 ]; ok $? "a plain y is not enough for an ordinary step either"
is "$(act_events "$T" command_start | grep -c .)" 1 "and it did not run (only 5.1 ran)"
out=$(ANSWER yes -- "$PGCUTOVER" -c "$T/pgcutover.json" run 1.1); rc=$?
is "$rc" 0 "yes runs an ordinary step"
like "$out" "hello from 1\.1" "its output shown"

out=$(ANSWER v9 1.7 -- "$PGCUTOVER" -c "$T/pgcutover.json" run 1.7); rc=$?
is "$rc" 0 "missing variable asked for, then run"
like "$out" "deploying v9" "the answer reached the command"
is "$(act_events "$T" command_start | tail -1 | jq -r .payload.vars.RELEASE_TAG_NOT_SET)" v9 \
   "a non-secret answer is recorded"
env | grep -q '^RELEASE_TAG_NOT_SET='; [ $? -ne 0 ]; ok $? "(the variable really was unset)"

secret="tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
out=$(ANSWER "$secret" yes -- "$PGCUTOVER" -c "$T/pgcutover.json" run 1.8); rc=$?
is "$rc" 0 "secret-looking variable asked for, then run"
printf '%s' "$out" | grep -q "$secret"; [ $? -ne 0 ]; ok $? "secret answer neither echoed nor shown"
like "$out" "using \*\*\*" "masked in the output"
is "$(act_events "$T" command_start | tail -1 | jq -r .payload.vars.DEPLOY_TOKEN_NOT_SET)" "***" \
   "recorded as *** only"
grep -c "$secret" state.db* 2>/dev/null | grep -qv ':0$'; [ $? -ne 0 ]; ok $? "secret nowhere in the state files"

# --- point of no return -----------------------------------------------------------------
jq '. + {"point_of_no_return": "5.1"}' pgcutover.json >ponr.json
"$PGCUTOVER" -c ponr.json tick 5.1 --override "earlier phases are not what this tests" >/dev/null 2>&1; ok $? "point of no return ticked (completing phase 5 early: --override)"
setsid -w "$PGCUTOVER" -c "$T/ponr.json" rollback 5 --yes </dev/null >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 64 "past the point of no return --yes alone is not enough"
like "$(cat "$T/err")" "POINT OF NO RETURN" "says the point of no return has passed"
like "$(cat "$T/err")" "item 5\.1" "names the item"
is "$(act_events "$T" phase_rolled_back | grep -c .)" 0 "not rolled back"
out=$(ANSWER 5 y -- "$PGCUTOVER" -c "$T/ponr.json" rollback 5); rc=$?
[ "$rc" -ne 0 ]; ok $? "second confirmation needs the word typed, not y"
out=$(ANSWER 5 yes -- "$PGCUTOVER" -c "$T/ponr.json" rollback 5); rc=$?
[ "$rc" -ne 0 ]; ok $? "nor yes: past the point of no return only the word rollback"
like "$out" "Type rollback, then Enter" "it says so"
out=$(ANSWER 5 rollback -- "$PGCUTOVER" -c "$T/ponr.json" rollback 5); rc=$?
is "$rc" 0 "typed twice: rolled back"
is "$(act_events "$T" phase_rolled_back | jq -r .payload.past_point_of_no_return)" true \
   "phase_rolled_back records it was past the point of no return"
is "$(sed -n 's/^USE_LEGACY_SUPABASE=//p' .env)" true "flags restored"

done_testing
