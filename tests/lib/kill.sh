# kill.sh -- kill -9 harness shared by tests/integration/kill_writers.sh (a
# few dozen kills) and bench/kill.sh (hundreds).  Source it after tap.sh (for
# diag) with $PGCUTOVER set, then: kill_setup DIR; kill_round WRITER N ...
#
# A round starts one writer (a headless command, or the console in tmux),
# kills it with -9 at a random moment, then checks what must hold after any
# crash: every event the writer acknowledged (printed, or showed on screen)
# before the kill is in the log; `log --verify` says the chain is intact;
# SQLite's integrity_check says ok; the .env is byte for byte either what it
# was or what the write would have made it; after the next command (run
# without --take-over, as an operator would) there are no stray files: no
# -wal/-shm/-journal left, at most one .env backup per flag write, each a
# whole .env, and at most one .env temporary file (a killed write's; the
# next write removes it: kill_final checks that).  Delays come from awk's rand() seeded with KILL_SEED plus the round
# number, so a failing round can be run again.  Counters: KILL_N (kills),
# KILL_ACKED (acknowledged events checked), KILL_FAILS (broken invariants,
# one line each in $KILL_ERRS), KILL_LEASE (rounds where the next command
# was refused with 75 and needed --take-over).
. "$top_srcdir/tests/lib/actions.sh"

KILL_N=0
KILL_ACKED=0
KILL_FAILS=0
KILL_LEASE=0
: "${KILL_SEED:=$(date +%s)}"
KILL_FLAG_WRITES=0

kp() { "$PGCUTOVER" -c "$KD/pgcutover.json" "$@"; }

kill_fail() {  # kill_fail WRITER ROUND MESSAGE
	KILL_FAILS=$((KILL_FAILS + 1))
	echo "$1: round $2 (seed $KILL_SEED): $3" >>"$KILL_ERRS"
}

# A random delay in seconds, from 0 to MAX_MS milliseconds.
kill_delay() {  # kill_delay ROUND MAX_MS
	awk -v s="$KILL_SEED" -v r="$1" -v m="$2" 'BEGIN { srand(s * 1000 + r); printf "%.4f\n", rand() * m / 1000 }'
}

# kill_setup DIR [ITEMS]: the actions fixture with ITEMS extra short items
# in phase 1 (ticked one after another by the console rounds) and one quick
# command item (1.9) for the `run` rounds; the .env's two byte-exact
# versions (USE_NEW_DB true and false) are taken from two uninterrupted
# writes.
kill_setup() {
	KD=$1
	KW=$KD.work     # the harness's own files, outside the fixture directory
	mkdir -p "$KW"
	KILL_ERRS=$KW/errors
	: >"$KILL_ERRS"
	act_fixture "$KD" 60
	awk -v n="${2:-40}" '/^## Phase 5/ {
		print "- [ ] Quick\n  ```sh\n  sleep 0.02\n  echo \"quick $PGCUTOVER_ITEM\"\n  ```"
		print "- [ ] Slow\n  ```sh\n  sleep 0.4\n  echo \"slow $PGCUTOVER_ITEM\"\n  ```"
		for (i = 1; i <= n; i++) print "- [ ] Tickable " i
		print ""
	} { print }' "$KD/rb.md" >"$KW/rb" && mv "$KW/rb" "$KD/rb.md"
	kp flag set USE_NEW_DB true >/dev/null || return 1
	cp "$KD/.env" "$KW/env.true"
	kp flag set USE_NEW_DB false >/dev/null || return 1
	cp "$KD/.env" "$KW/env.false"
	KILL_FLAG_WRITES=2
	KILL_FLAG=false
	# how long a one-shot command takes here, now: kills are spread over
	# twice that, so some land before, in and after every step of it
	_t0=$(date +%s%N)
	for _i in 1 2 3 4 5; do kp note "kill setup $_i" >/dev/null; done
	KILL_MS=$(( ($(date +%s%N) - _t0) / 5000000 * 2 ))
	[ "$KILL_MS" -ge 10 ] || KILL_MS=10
}

# Count of events of a kind (optionally with a jq condition on .payload).
kill_count() {  # kill_count KIND [JQ_COND]
	kp log --json | jq "[.[] | select(.kind == \"$1\") ${2:+| select($2)}] | length"
}

# Expected count bookkeeping: acked KIND increments the floor for KIND.
kill_ack() {  # kill_ack KIND [JQ_COND]
	KILL_ACKED=$((KILL_ACKED + 1))
	echo "$1	${2:-}" >>"$KW/acked"
}

# The checks every round ends with.  Runs the next command (a note) without
# --take-over first: a kill must not lock the operator out.
kill_check() {  # kill_check WRITER ROUND
	_w=$1 _r=$2
	case "$_w" in
	console*)   # a dead console's lease is taken over only when asked
		kp --take-over note "after $_w $_r" >/dev/null 2>"$KW/next.err"; _rc=$? ;;
	*)
		kp note "after $_w $_r" >/dev/null 2>"$KW/next.err"; _rc=$? ;;
	esac
	if [ "$_rc" -eq 75 ]; then
		KILL_LEASE=$((KILL_LEASE + 1))
		kp --take-over note "after $_w $_r" >/dev/null 2>"$KW/next.err"; _rc=$?
	fi
	[ "$_rc" -eq 0 ] || kill_fail "$_w" "$_r" "the next command exited $_rc: $(head -c 300 "$KW/next.err")"
	# stray files, right after the next command closed the state (a
	# read-only command may leave -wal/-shm behind: that is not the kill's)
	_baks=0 _temps=0
	for _f in "$KD"/* "$KD"/.[!.]*; do
		[ -e "$_f" ] || continue
		case ${_f##*/} in
		.env|pgcutover.json|rb.md|svc.sh|state.db|state.db.lock|sleeper.pid|app.pid) ;;
		state.db.key) ;;   # the flag-hash key (pgcutover.1, FILES): made once, 0600
		.env.bak-*) _baks=$((_baks + 1)) ;;
		..env.pgcutover-??????|..env.bak-*.pgcutover-??????) _temps=$((_temps + 1)) ;;
		# reported, never removed: a -wal may be a live process's
		*) kill_fail "$_w" "$_r" "stray file ${_f##*/} ($(wc -c <"$_f") bytes)" ;;
		esac
	done
	# a flag write killed mid-way leaves its temporary file; the next
	# write removes it, so there is never more than one
	[ "$_temps" -le 1 ] || kill_fail "$_w" "$_r" "$_temps .env temporary files"
	[ "$_baks" -le "$KILL_FLAG_WRITES" ] ||
		kill_fail "$_w" "$_r" "$_baks .env backups after $KILL_FLAG_WRITES flag writes"
	for _f in "$KD"/.env.bak-*; do
		[ -e "$_f" ] || continue
		cmp -s "$_f" "$KW/env.true" || cmp -s "$_f" "$KW/env.false" ||
			kill_fail "$_w" "$_r" "backup ${_f##*/} is not a whole .env ($(wc -c <"$_f") bytes)"
	done
	_v=$(kp log --verify 2>&1) || kill_fail "$_w" "$_r" "log --verify: $_v"
	case "$_v" in *"chain intact"*) ;; *) kill_fail "$_w" "$_r" "log --verify does not say chain intact: $_v" ;; esac
	_ic=$(sqlite3 "$KD/state.db" 'PRAGMA integrity_check' 2>&1)
	[ "$_ic" = ok ] || kill_fail "$_w" "$_r" "integrity_check: $_ic"
	if ! cmp -s "$KD/.env" "$KW/env.true" && ! cmp -s "$KD/.env" "$KW/env.false"; then
		kill_fail "$_w" "$_r" ".env is neither the old nor the new content: $(od -c "$KD/.env" | head -5)"
		cp "$KW/env.$KILL_FLAG" "$KD/.env"
	fi
	if ! kp log --json >"$KW/log.json" 2>"$KW/log.err" || ! jq -e 'type == "array"' "$KW/log.json" >/dev/null 2>&1; then
		kill_fail "$_w" "$_r" "log --json failed: $(head -c 300 "$KW/log.err")"
		return 0
	fi
	# a command whose pgcutover was killed is closed by the next writer
	_open=$(jq '([.[] | select(.kind == "command_start")] | length) - ([.[] | select(.kind == "command_end" or .kind == "command_unknown")] | length)' "$KW/log.json")
	[ "$_open" = 0 ] || kill_fail "$_w" "$_r" "$_open command_start events with neither an end nor command_unknown after the next command"
	# every acknowledged event, by kind and condition: at least as many in
	# the log (one jq over the log for all of them, not one per event)
	if [ -s "$KW/acked" ]; then
		sort "$KW/acked" | uniq -c >"$KW/acked.n"
		_prog=$(while read -r _n _kind _cond; do
			printf '([.[] | select(.kind == "%s") %s] | length),' "$_kind" "${_cond:+| select($_cond)}"
		done <"$KW/acked.n")
		jq -r "[${_prog%,}] | .[]" "$KW/log.json" >"$KW/have"
		[ "$(wc -l <"$KW/have")" -eq "$(wc -l <"$KW/acked.n")" ] ||
			kill_fail "$_w" "$_r" "jq could not count the acknowledged events"
		paste "$KW/have" "$KW/acked.n" |
			while read -r _have _n _kind _cond; do
				[ "${_have:-0}" -ge "$_n" ] || echo "acknowledged $_n $_kind ${_cond:+($_cond) }but the log has ${_have:-0}"
			done >"$KW/missing"
		while IFS= read -r _m; do kill_fail "$_w" "$_r" "$_m"; done <"$KW/missing"
	fi
}

# Starts a headless command, kills it with -9 after a random delay up to
# MAX_MS, leaves its stdout/stderr in $KW/out and $KW/err.
kill_headless() {  # kill_headless ROUND MAX_MS ARGS...
	_kr=$1 _km=$2; shift 2
	_d=$(kill_delay "$_kr" "$_km")
	# every fifth round kills well after the command should have ended, so
	# each writer has acknowledged events to look for
	[ $((_kr % 5)) -eq 4 ] && _d=$(awk -v m="$_km" 'BEGIN { printf "%.4f\n", m * 4 / 1000 }')
	# Under the suite's ASan pass a kill that lands in LeakSanitizer's
	# exit-time check (the command had done its work) leaves an empty or
	# half report ("Unable to get registers from thread N"), which fails
	# the suite although nothing leaked: leaks are not looked for in a
	# process that is killed on purpose (the same commands run to their
	# end, leak-checked, everywhere else in the suite)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		"$PGCUTOVER" -c "$KD/pgcutover.json" "$@" >"$KW/out" 2>"$KW/err" &
	_pid=$!
	sleep "$_d"
	kill -9 "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	KILL_N=$((KILL_N + 1))
}

# One round of a headless writer.  MAX_MS is a little over how long the
# command takes, so kills land all through it (and some after it ended).
kill_round() {  # kill_round WRITER ROUND
	_w=$1 _r=$2
	case "$_w" in
	note)
		kill_headless "$_r" "$KILL_MS" note "kill note $_r"
		grep -q '^noted' "$KW/out" && kill_ack note ".payload.text == \"kill note $_r\""
		;;
	tick)   # tick, then untick, the same item: both are writers
		if [ $((_r % 2)) -eq 0 ]; then
			kill_headless "$_r" "$KILL_MS" tick 1.1
			grep -q '^ticked 1\.1' "$KW/out" && kill_ack tick '.item == "1.1"'
		else
			kill_headless "$_r" "$KILL_MS" untick 1.1 --reason "kill round $_r"
			grep -q '^unticked 1\.1' "$KW/out" && kill_ack untick ".payload.reason == \"kill round $_r\""
		fi
		;;
	flag)
		_new=true
		[ "$KILL_FLAG" = true ] && _new=false
		KILL_FLAG_WRITES=$((KILL_FLAG_WRITES + 1))
		kill_headless "$_r" $((KILL_MS * 3 / 2)) flag set USE_NEW_DB "$_new"
		if grep -q "^USE_NEW_DB: .* -> $_new in" "$KW/out"; then
			kill_ack flag_set ".payload.new == \"$_new\""
			cmp -s "$KD/.env" "$KW/env.$_new" || kill_fail flag "$_r" "acknowledged USE_NEW_DB=$_new but the .env does not have it"
		fi
		# the next round flips whatever the file says now
		cmp -s "$KD/.env" "$KW/env.true" && KILL_FLAG=true || KILL_FLAG=false
		;;
	downtime)
		if [ $((_r % 2)) -eq 0 ]; then
			kill_headless "$_r" "$KILL_MS" downtime start
			grep -q '^downtime started' "$KW/out" && kill_ack downtime_start
		else
			kill_headless "$_r" "$KILL_MS" downtime end
			grep -q '^downtime ended' "$KW/out" && kill_ack downtime_end
		fi
		;;
	run)    # 1.9 sleeps 20 ms then prints: kills land before, during, after
		kill_headless "$_r" $((KILL_MS * 3 / 2 + 40)) run 1.9 --yes
		grep -q '^quick 1\.9' "$KW/out" && kill_ack command_start '.item == "1.9"'
		grep -q 'item 1\.9: ok' "$KW/err" && kill_ack command_end '.item == "1.9" and .payload.status == "ok"'
		;;
	*) echo "kill_round: no writer $_w" >&2; return 64 ;;
	esac
	kill_check "$_w" "$_r"
}

# After the rounds: one uninterrupted flag write leaves no temporary file.
kill_final() {
	kp flag set USE_NEW_DB true >/dev/null && kp flag set USE_NEW_DB false >/dev/null ||
		kill_fail final 0 "flag set after the kills failed"
	KILL_FLAG_WRITES=$((KILL_FLAG_WRITES + 2))
	for _f in "$KD"/..env.pgcutover-* "$KD"/..env.bak-*.pgcutover-*; do
		[ -e "$_f" ] && kill_fail final 0 "temporary file ${_f##*/} still there after a whole write"
	done
	kill_check final 0
}

# ---- the console, in tmux (source tests/e2e/console.inc first) ----
# Tickable N is item 1.(N+10): eight fixture items, Quick (1.9), Slow (1.10).
KILL_TICKED=0

kill_console_open() {
	CFG=$KD/pgcutover.json
	console_start --take-over
	wait_screen 'DRIVER' 20 || { kill_fail "$1" "$2" "the console did not open: $(screen | grep -v '^ *$' | tail -3)"; return 1; }
	keys 1
	wait_screen 'Phase 1 · Preparation' 5
}

kill_console_find() {  # kill_console_find TITLE ID
	keys /
	text "$1"
	keys Enter
	wait_screen "found in $2" 5
}

# One console mid-tick: tick an item and wait for "ticked" (acknowledged),
# then tick the next and kill the console a random moment after the key.
kill_console_tick() {  # kill_console_tick ROUND
	kill_console_open console-tick "$1" || return 0
	for _k in 1 2; do
		KILL_TICKED=$((KILL_TICKED + 1))
		_id=1.$((KILL_TICKED + 10))
		kill_console_find "Tickable $KILL_TICKED" "$(echo "$_id" | sed 's/\./\\./')" ||
			kill_fail console-tick "$1" "search did not find Tickable $KILL_TICKED"
		if [ "$_k" = 1 ]; then
			keys Space
			if wait_screen "ticked $_id" 5; then
				kill_ack tick ".item == \"$_id\""
			else
				kill_fail console-tick "$1" "no 'ticked $_id' on the screen"
			fi
		else
			_pid=$(console_pid) || { kill_fail console-tick "$1" "no console pid to kill"; return 0; }
			# a tick takes a few ms: up to 20 ms after the key, and one
			# round in four at once (tmux kills right after sending it)
			_d=$(kill_delay "$1" 20)
			if [ $(($1 % 4)) -eq 1 ]; then
				tm send-keys -t e2e Space \; run-shell "kill -9 $_pid"
			else
				keys Space
				sleep "$_d"
				kill -9 "$_pid" 2>/dev/null
			fi
			KILL_N=$((KILL_N + 1))
			screen | grep -q "ticked $_id" && kill_ack tick ".item == \"$_id\""
			wait_exit 10 >/dev/null
		fi
	done
	kill_check console-tick "$1"
}

# The console killed while its command runs (Slow, 0.4 s): the start it
# showed ("running for") and an end it showed are in the log; the next
# writer closes the start with command_unknown.
kill_console_run() {  # kill_console_run ROUND
	kill_console_open console-run "$1" || return 0
	kill_console_find Slow '1\.10' || kill_fail console-run "$1" "search did not find Slow"
	keys x
	wait_screen 'Run 1\.10\?' 5 || kill_fail console-run "$1" "x did not ask to run 1.10"
	_pid=$(console_pid) || { kill_fail console-run "$1" "no console pid to kill"; return 0; }
	_d=$(kill_delay "$1" 700)
	text yes
	keys Enter
	sleep "$_d"
	screen >"$KW/screen"
	kill -9 "$_pid" 2>/dev/null
	KILL_N=$((KILL_N + 1))
	screen >>"$KW/screen"
	grep -q 'running for\|1\.10: ok' "$KW/screen" && kill_ack command_start '.item == "1.10"'
	grep -q '1\.10: ok' "$KW/screen" && kill_ack command_end '.item == "1.10" and .payload.status == "ok"'
	wait_exit 10 >/dev/null
	sleep 0.5   # the orphaned command's own end, so its output goes nowhere
	kill_check console-run "$1"
}
