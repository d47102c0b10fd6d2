#!/bin/sh
# lease_kill.sh -- a one-shot (headless) writer killed with -9 mid-write
# leaves its lease behind; the next command takes it over without
# --take-over, and the takeover is recorded (lease_takeover, automatic,
# naming the dead pid).  A console's lease (heartbeats) left the same way
# still needs --take-over.  The writer is tests/helpers/state_writer
# --lease, which takes the lease as a headless command does.
. "$top_srcdir/tests/lib/tap.sh"
W=${top_builddir:-.}/tests/helpers/state_writer
[ -x "$W" ] || skip_all "tests/helpers/state_writer not built (make check builds it)"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
printf '# Lease kill\n\n## Phase 1\n\n- [ ] one\n' >rb.md
S="$T/s.db"

# Starts the writer holding a lease ($2: note or "console --console"),
# waits for a few commits, kills it with -9; $dead is its pid.
kill_writer() {
	rm -f "$T/out"   # else the last round's commits end the wait at once
	: >"$T/out"
	# shellcheck disable=SC2086
	"$W" --progress --lease $1 "$S" 100000000 >"$T/out" 2>"$T/err" &
	dead=$!
	i=0
	while [ "$i" -lt 1200 ] && [ "$(grep -c committed "$T/out")" -lt 3 ] && kill -0 "$dead" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$dead" 2>/dev/null
	wait "$dead" 2>/dev/null
	grep -q committed "$T/out" || diag "writer committed nothing; its stderr: $(cat "$T/err")"
}

ROUNDS=5
r=1
while [ "$r" -le "$ROUNDS" ]; do
	kill_writer note
	is "$($P -s "$S" lease --json | jq -r '"\(.pid) \(.liveness)"')" "$dead dead" \
		"round $r: the killed writer's lease is left behind, judged dead"
	err=$($P -r rb.md -s "$S" note "after kill $r" 2>&1 >/dev/null); rc=$?
	is "$rc" "0" "round $r: the next command succeeds without --take-over${err:+ ($err)}"
	tk=$($P -s "$S" log --json | jq -c '[.[] | select(.kind=="lease_takeover")][-1]')
	is "$(printf '%s' "$tk" | jq -r '"\(.payload.automatic) \(.payload.from.pid) \(.payload.from.command)"')" \
		"true $dead note" "round $r: the takeover is recorded: automatic, from the dead pid and its command"
	is "$($P -s "$S" lease --json | jq -r .held)" "false" "round $r: and the lease is free after the command"
	r=$((r + 1))
done
is "$($P -s "$S" log --json | jq '[.[] | select(.kind=="lease_takeover")] | length')" "$ROUNDS" \
	"one takeover event per kill"
is "$($P -s "$S" log --json | jq '[.[] | select(.kind=="note" and (.payload.text | startswith("after kill")))] | length')" \
	"$ROUNDS" "every note after a kill was written"
$P -s "$S" log --verify >/dev/null; ok $? "chain intact"

# A console's lease is not taken without asking.
kill_writer "console --console"
err=$($P -r rb.md -s "$S" note "after console" 2>&1 >/dev/null); rc=$?
is "$rc" "75" "a dead console's lease still blocks"
like "$err" "not running any more.*--take-over" "and says --take-over would do it"
$P -r rb.md -s "$S" --take-over note "taken" >/dev/null; ok $? "--take-over takes it"
is "$($P -s "$S" log --json | jq -r '[.[] | select(.kind=="lease_takeover")][-1].payload | "\(.automatic) \(.from.command)"')" \
	"false console" "recorded as a takeover the operator asked for"
done_testing
