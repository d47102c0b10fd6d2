#!/bin/sh
# console_terminal.sh -- the console is a good terminal citizen: ASCII
# drawing with TERM=vt100 or a non-UTF-8 locale, no colour with NO_COLOR or
# --no-color (colour is on otherwise), escape sequences in the runbook are
# drawn harmless, the "enlarge" notice when started small, SIGTERM restores
# the terminal and records session_end, a crash (SIGSEGV) restores it before
# dying, Ctrl-Z suspends and SIGCONT repaints.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
# an item carrying a terminal title change and a clear-screen sequence
esc=$(printf '\033')
bel=$(printf '\007')
printf -- '- [ ] Evil %s]0;pwned%s title %s[2J here\n' "$esc" "$bel" "$esc" >> "$E2E_DIR/runbook.md"

restart() { console_start "$@"; wait_screen 'Phases' ; }

# colour on by default, off with NO_COLOR and --no-color
sgr_colour='\[(3|4)[0-7]m|\[(38|48);5;|;(3|4)[0-7]m'
restart
tm capture-pane -e -p -t e2e | grep -Eq "$sgr_colour"; ok $? "colour by default on xterm-256color"
E2E_ENV="NO_COLOR=1" restart
tm capture-pane -e -p -t e2e | grep -Eq "$sgr_colour"; ok $((! $?)) "NO_COLOR: no colour"
like "$(screen)" 'DRIVER' "NO_COLOR: the mode is still in words"
restart --no-color
tm capture-pane -e -p -t e2e | grep -Eq "$sgr_colour"; ok $((! $?)) "--no-color: no colour"

# ASCII fallbacks
E2E_TERM=vt100 restart
like "$(screen)" 'Heroku Postgres -> self-hosted' "TERM=vt100: arrows transliterated"
screen | grep -q '│\|─\|█'; ok $((! $?)) "TERM=vt100: no Unicode box drawing"
like "$(screen)" '\[x\] Jump host|[#.]{10} 2/2 done' "TERM=vt100: ASCII progress bar"
E2E_LANG=C restart
screen | grep -q '│\|─\|→'; ok $((! $?)) "LANG=C: ASCII only"

# sanitised text
restart
keys 5 G
wait_screen 'Evil'; ok $? "item with escape sequences is shown"
like "$(screen)" 'Evil \?\]0;pwned\? title \?\[2J here' "escape sequences drawn as ? text"
like "$(tm display-message -p -t e2e '#{pane_title}')" '^[^p]*$|^$' "the pane title was not changed by the runbook"
like "$(screen)" 'DRIVER' "screen not cleared by the runbook"

# Ctrl-Z and resume
pid=$(console_pid)
keys C-z
st=""
for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
	[ "$st" = T ] && break
	sleep 0.1
done
is "$st" T "Ctrl-Z stops the console"
is "$(tm display-message -p -t e2e '#{alternate_on}')" 0 "terminal given back while stopped"
kill -CONT "$pid"
wait_screen 'DRIVER'; ok $? "SIGCONT repaints the console"
is "$(tm display-message -p -t e2e '#{alternate_on}')" 1 "console screen back after resume"

# SIGTERM
kill -TERM "$pid"
is "$(wait_exit)" 143 "SIGTERM: exit status 128+15"
is "$(tm display-message -p -t e2e '#{alternate_on} #{cursor_flag}')" "0 1" "SIGTERM: terminal restored"
is "$(pgc log --json | jq -r '[.[] | select(.kind=="session_end")][-1].payload.reason')" SIGTERM "SIGTERM: session_end recorded"

# crash path: the terminal is given back before the process dies
restart
pid=$(console_pid)
kill -SEGV "$pid"
is "$(wait_exit)" 139 "SIGSEGV: the console dies with the signal"
is "$(tm display-message -p -t e2e '#{alternate_on} #{cursor_flag}')" "0 1" "SIGSEGV: terminal restored first"

# the dead console's lease: refused without --take-over, audited with it
console_start
wait_screen 'take over with --take-over'; ok $? "after a crash the lease must be taken over explicitly"
is "$(wait_exit)" 75 "refused with exit status 75"

# started too small (taking over the crashed console's lease)
E2E_COLS=70 E2E_ROWS=20 console_start --take-over
wait_screen 'enlarge to 80×24'; ok $? "started at 70x20: enlarge notice"
like "$(screen)" 'Terminal is 70×20' "notice says the current size"
keys q
is "$(wait_exit)" 0 "q quits from the notice"
is "$(pgc log --json | jq '[.[] | select(.kind=="lease_takeover")] | length')" 1 "the takeover is in the log"

# no terminal: a clear message, not a crash
out=$("$PGCUTOVER" -c "$CFG" console </dev/null 2>&1 >/dev/null)
rc=$?
is "$rc" 64 "no terminal: usage error"
like "$out" 'needs a terminal' "no terminal: says why"
done_testing
