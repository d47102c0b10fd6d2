#!/bin/sh
# console_clocks.sh -- issue 13 "Steps mix the wall clock and the downtime
# clock (`late 509m` beside `due in 4m`); minutes never become hours": a
# step's words name the clock they are on, and a span past 90 minutes is in
# hours and minutes (schedule.c's sched_fmt_span).  A window that began two
# hours ago: before the downtime starts its step is late on the wall clock
# ("late 1h5xm (wall clock)"); once D starts the downtime it is due on the
# downtime clock ("due in 4m (downtime clock)").
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"
# the window is two hours before now, the same day
h=$(date +%H); h=${h#0}
[ "$h" -ge 3 ] || skip_all "too close to midnight for a window two hours back"
W1=$(date -d '-2 hours' +%H:%M 2>/dev/null) || skip_all "date -d not supported"
W2=$(date -d '-1 hours' +%H:%M)
cat > "$E2E_DIR/runbook.md" <<EOF
# Clocks

## Phase 5: Production Cutover

### 5.1 Preparation

- [ ] Team on the bridge

### 5.2 Cutover Window ($W1-$W2)

#### Stop Services ($W1, 5 min)
- [ ] Stop the app
EOF
printf '{"runbook":"runbook.md","state":"state.db"}\n' > "$CFG"
pgc tick 5.1 >/dev/null 2>&1; ok $? "phase 5 started (an item outside the window ticked)"

E2E_COLS=120 E2E_ROWS=30 console_start
wait_screen 'DRIVER' 10; ok $? "console opens"
keys 5
wait_screen "$W1, 5 min" 5; ok $? "the step with its time"
wait_screen "$W1, 5 min [^ ]+ late 1h5[0-9]m \\(wall clock\\)" 5; ok $? \
	"before the downtime: late on the wall clock, in hours and minutes, the clock named"
unlike "$(screen)" 'late [0-9]{3,}m' "no span of 100 minutes or more in minutes"
keys D
wait_screen 'Downtime starts now\?' 5
text yes
keys Enter
wait_screen "$W1, 5 min [^ ]+ due in [0-9]m \\(downtime clock\\)" 5; ok $? \
	"the downtime started: the step is due on the downtime clock, named"
unlike "$(screen)" 'wall clock' "one clock per step: the wall clock's words are gone"
keys q
wait_exit 10 >/dev/null
done_testing
