#!/bin/sh
# console_confirm.sh -- one confirmation style for whatever changes the
# world (issue 13): a line typed and Enter, the item or phase id (a flag's
# name) or `yes`; every key typed goes into the prompt until Enter or Esc,
# so `yes` typed at a question never leaves `e` and `s` to the console.
# Run, downtime, flag and rollback all ask the same way; past the point of
# no return the whole warning is in the dialog, wrapped and in colour, at
# 160 and at 80 columns.  In the checklist and the log, n / N move to the
# next / previous match of a search, as in less; Esc ends the checklist's
# search and n adds notes again.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
jq '.point_of_no_return = "5.1"' "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
events() { pgc log --json | jq "[.[] | select(.kind == \"$1\")] | length"; }
starts() { pgc log --json | jq "[.[] | select(.kind == \"command_start\" and .item == \"$1\")] | length"; }
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }
stray='key not used here|no live counts|counts refresh|exact counts'

E2E_COLS=160 E2E_ROWS=48 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Phase 1 · Preparation'

# run: `yes` typed stays in the prompt until Enter
find_item Greet '1\.1'
keys x
wait_screen 'Run 1\.1\? type the item id or yes, then Enter' 5; ok $? "x asks for the item id or yes"
text yes
wait_screen '> yes' 5; ok $? "yes typed: all three letters in the prompt"
is "$(starts 1.1)" 0 "nothing runs before Enter"
unlike "$(screen)" "$stray" "no key of the three reached the console"
keys Enter
wait_screen '1\.1: ok, exit 0' 10; ok $? "Enter: it runs"
is "$(starts 1.1)" 1 "exactly one run recorded"
unlike "$(screen)" "$stray" "and no stray key effect after it"
keys Escape

# downtime: the same style, the word yes
keys D
wait_screen 'Downtime starts now\? type yes, then Enter' 5; ok $? "D asks for yes, then Enter"
text y
keys Enter
wait_screen 'downtime clock unchanged' 5; ok $? "y alone does not start it"
is "$(events downtime_start)" 0 "nothing recorded"
keys D
wait_screen 'Downtime starts now\?' 5
text yes
sleep 0.3
is "$(events downtime_start)" 0 "yes without Enter records nothing"
unlike "$(screen)" "$stray" "and sends no key to the console"
keys Enter
wait_screen 'downtime started' 5; ok $? "Enter: the downtime starts"
is "$(events downtime_start)" 1 "exactly one downtime_start"

# a flag: the value, then the same confirmation
keys F
wait_screen '\.env flags' 5
keys g Enter
wait_screen 'New value of USE_NEW_DB' 5
text true
keys Enter
wait_screen "Set USE_NEW_DB to true\\? type the flag's name or yes, then Enter" 5; ok $? "a flag asks the same way"
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? ".env: not written before the confirmation"
text nope
keys Enter
wait_screen 'USE_NEW_DB unchanged' 5; ok $? "a wrong word: unchanged"
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? ".env: still not written"
keys Enter
wait_screen 'New value of USE_NEW_DB' 5
text true
keys Enter
wait_screen "Set USE_NEW_DB to true\\?" 5
text USE_NEW_DB
keys Enter
wait_screen 'USE_NEW_DB: false -> true' 5; ok $? "the flag's name confirms"
is "$(events flag_set)" 1 "one flag_set"
keys Escape

# n / N: next and previous match, as in less; Esc ends the search
find_item 'e' '1\.[0-9]'
first=$(screen | sed -n 's/.*found in \(1\.[0-9]*\).*/\1/p' | head -1)
keys n
wait_screen 'found in ' 5
second=$(screen | sed -n 's/.*found in \(1\.[0-9]*\).*/\1/p' | head -1)
[ -n "$second" ] && [ "$second" != "$first" ]; ok $? "n: the next match ($first -> $second)"
unlike "$(screen)" 'Note on item' "n while searching does not open a note"
keys '?'
wait_screen 'while a search is on: next / previous match' 5; ok $? "? lists n/N for a search"
unlike "$(screen | grep 'while a search is on')" 'disabled' "and offers it while one is on"
keys Escape
wait_screen_not 'while a search is on' 5
keys N
wait_screen "found in $first " 5; ok $? "N: back to the previous match ($first)"
keys Escape
wait_screen 'search ended' 5; ok $? "Esc ends the search"
keys n
wait_screen 'Note on item' 5; ok $? "then n adds a note again"
keys Escape

# the log: n / N the same way
keys L
wait_screen 'events' 5
keys /
text alice
keys Enter
wait_screen 'match: event #' 5; ok $? "log: / finds"
ev() { screen | sed -n 's/.*match: event #\([0-9]*\).*/\1/p' | head -1; }
e1=$(ev)
keys n
wait_screen_not "match: event #$e1 " 5
e2=$(ev)
[ -n "$e2" ] && [ "$e2" != "$e1" ]; ok $? "log: n, the next match (#$e1 -> #$e2)"
keys N
wait_screen "match: event #$e1 " 5; ok $? "log: N, back to the previous (#$e1)"
keys Escape q
is "$(wait_exit 15)" 0 "quit"

# past the point of no return: the whole warning, wrapped and coloured
pgc tick 5.1 --override "earlier phases are not what this tests" >/dev/null 2>&1; ok $? "5.1 ticked"
warning=$(pgc rollback 5 --dry-run 2>&1 | sed -n '/POINT OF NO RETURN PASSED/,/^\(The target has gained\|Rows the target gained\)/p')
like "$warning" 'POINT OF NO RETURN PASSED' "the warning, as the headless command words it"
for geo in 160x48 80x24; do
	E2E_COLS=${geo%x*} E2E_ROWS=${geo#*x} console_start
	wait_screen 'DRIVER' 20
	keys 5 Tab Tab R
	wait_screen 'type rollback to roll back anyway' 5; ok $? "$geo: R past the point of no return asks for rollback"
	shown=$(screen | tr -s ' \n│|' '   ')
	missing=
	for w in $warning; do
		case "$shown" in *"$w"*) ;; *) missing="$missing $w" ;; esac
	done
	is "$missing" "" "$geo: every word of the warning is on the screen"
	tm capture-pane -e -p -t e2e | grep -E 'POINT OF NO RETURN PASSED' | grep -Eq '\[([0-9;]*;)?31(;[0-9;]*)?m'
	ok $? "$geo: in red"
	text yes
	keys Enter
	wait_screen 'not rolled back' 5; ok $? "$geo: yes is not enough past it"
	keys Escape q
	is "$(wait_exit 15)" 0 "$geo: quit"
done
is "$(events phase_rolled_back)" 0 "nothing rolled back"

done_testing
