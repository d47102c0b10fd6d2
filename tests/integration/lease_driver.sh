#!/bin/sh
# lease_driver.sh -- one driver at a time: while one process holds the lease
# (`lease hold`, which takes it the way the console does), a second writer
# (tick, note) is refused with exit 75 naming the holder and pointing at
# `pgcutover monitor`; read-only commands still work; a killed holder's
# lease is refused without --take-over, taken over with it, and the
# takeover is an audited event naming the old holder; a clean release lets
# the next writer in without ceremony.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
HOLDER=
trap '[ -n "$HOLDER" ] && kill -9 "$HOLDER" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1

cat > rb.md <<'MD'
# Lease test

## Phase 1: Copy

- [ ] Stop writes
- [ ] Copy customers
- [ ] Copy orders
MD
S="$T/s.db"

# Starts `lease hold` as alice in the background; waits until it holds.
start_holder() {
	"$P" -r rb.md -s "$S" --operator alice lease hold 120 >"$T/holder.out" 2>"$T/holder.err" &
	HOLDER=$!
	i=0
	while [ "$i" -lt 400 ] && ! grep -q holding "$T/holder.out"; do sleep 0.05; i=$((i + 1)); done
	grep -q holding "$T/holder.out" && return 0
	# say why (a loaded machine, a refusal): stderr and stdout of the holder
	sed 's/^/# holder: /' "$T/holder.err" "$T/holder.out"
	kill -0 "$HOLDER" 2>/dev/null && echo "# holder: still running after 20 s"
	return 1
}

$P -r rb.md -s "$S" --operator alice tick 1.1 >/dev/null; ok $? "a writer with nobody driving takes and gives back the lease"
is "$($P -s "$S" lease --json | jq -r .held)" "false" "after the command the lease is free again"

start_holder; ok $? "holder took the lease"
j=$($P -s "$S" lease --json)
is "$(printf '%s' "$j" | jq -r .operator)" "alice" "lease --json names the holder"
is "$(printf '%s' "$j" | jq -r .pid)" "$HOLDER" "lease --json has the holder's pid"
is "$(printf '%s' "$j" | jq -r .liveness)" "live" "the holder is live"

err=$($P -r rb.md -s "$S" --operator bob tick 1.2 2>&1 >/dev/null); rc=$?
is "$rc" "75" "a second writer is refused with 75"
like "$err" "driven by alice@[^ ]+ \(pid $HOLDER, lease\) since [0-9T:.-]+Z" "the refusal names who holds it and since when"
like "$err" "pgcutover monitor" "the refusal says how to watch instead"
$P -r rb.md -s "$S" --operator bob note "hello" >/dev/null 2>&1; is "$?" "75" "note is refused too"
$P -r rb.md -s "$S" --operator bob --take-over tick 1.2 >/dev/null 2>&1
is "$?" "75" "--take-over does not take a live driver's lease"
is "$($P -r rb.md -s "$S" status --json | jq -r '.phases[0].done')" "1" "nothing was written by the refused writers; status (read-only) still works"

kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null; dead=$HOLDER; HOLDER=
err=$($P -r rb.md -s "$S" --operator bob tick 1.2 2>&1 >/dev/null); rc=$?
is "$rc" "75" "a dead holder's lease is not taken without --take-over"
like "$err" "not running any more.*--take-over" "the message says the holder is gone and how to take over"
$P -r rb.md -s "$S" --operator bob --take-over tick 1.2 >/dev/null; ok $? "--take-over takes a dead holder's lease"
log=$($P -s "$S" log --json)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="lease_takeover")] | length')" "1" "the takeover is one audited event"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="lease_takeover")][0] | "\(.operator) \(.payload.from.operator) \(.payload.from.pid)"')" \
	"bob alice $dead" "lease_takeover: who took over from whom (operator and pid)"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="lease_acquired")][0].operator')" "alice" "the holder's acquire was audited"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="tick")][-1].item')" "1.2" "the tick after the takeover was written"
$P -s "$S" log --verify >/dev/null; ok $? "chain intact with lease events"

# A clean release: the holder stops on SIGTERM and the next writer needs nothing.
start_holder; ok $? "holder took the lease again"
kill -TERM "$HOLDER"; wait "$HOLDER"; is "$?" "0" "holder exits 0 on SIGTERM"; HOLDER=
is "$($P -s "$S" log --json | jq -r '.[-1].kind')" "lease_released" "release is audited"
$P -r rb.md -s "$S" --operator bob tick 1.3 >/dev/null; ok $? "next writer goes in after a clean release"
done_testing
