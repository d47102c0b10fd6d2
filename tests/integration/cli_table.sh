#!/bin/sh
# cli_table.sh -- main.c's command table is the one place a command's usage
# and options live: every command the top-level usage lists answers
# `CMD --help` and `help CMD` with the same text (exit 0); an unknown option,
# an option without its value and a surplus argument are usage errors (64)
# naming the command and the option; a note's text may start with a dash;
# and `log --verify --json` and
# `export --verify --json` have one shape (the same keys, the same verdict on
# the same edited event).
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"
cd "$T" || exit 1

# Every command of the top-level usage: the entry's usage, both ways.
cmds=$($P --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
ok "$([ -n "$cmds" ]; echo $?)" "the top-level usage lists commands"
for c in $cmds; do
	h=$($P "$c" --help); rc=$?
	is "$rc" 0 "$c --help exits 0"
	like "$h" "^usage: pgcutover $c" "$c --help: the entry's usage"
	is "$($P help "$c")" "$h" "help $c says the same"
done

# Parse errors name the command and the option.
$P tick --bogus 1.1 >/dev/null 2>"$T/err"; is "$?" 64 "unknown long option: 64"
like "$(cat "$T/err")" "^pgcutover tick: unknown option '--bogus'" "names the command and the option"
$P run -x 1.1 >/dev/null 2>"$T/err"; is "$?" 64 "unknown short option: 64"
like "$(cat "$T/err")" "^pgcutover run: unknown option '-x'" "names a short option"
$P export --verify >/dev/null 2>"$T/err"; is "$?" 64 "option without its value: 64"
like "$(cat "$T/err")" "^pgcutover export: option '--verify' needs a value" "names the option that needs a value"
$P status extra >/dev/null 2>"$T/err"; is "$?" 64 "surplus argument: 64"
like "$(cat "$T/err")" "^pgcutover status: unexpected argument 'extra'" "names the argument"

# One verify shape for a state and for its export.
cat > rb.md <<'MD'
# Verify shape

## Phase 1: Copy

- [ ] Stop writes
- [ ] Copy customers
- [ ] Copy orders
MD
$P -r rb.md tick 1.1 >/dev/null 2>&1
$P -r rb.md tick 1.2 --note "took 3 min" >/dev/null 2>&1
$P -r rb.md note 1.3 "waiting" >/dev/null 2>&1
# A note's text may start with a dash, as before the table.
$P -r rb.md note -5 min on 1.2 >/dev/null 2>&1; is "$?" 0 "note -5 min ...: a note"
is "$($P -r rb.md log --json | jq -r '[.[] | select(.kind == "note")] | last | .payload.text')" \
	"-5 min on 1.2" "the text starts at the dash"
db=$(find "$T/xdg" -name '*.db' | head -n 1)
$P -s "$db" export -o good.jsonl 2>/dev/null
lj=$($P -s "$db" log --verify --json); ej=$($P export --verify good.jsonl --json)
is "$(printf '%s' "$ej" | jq -c 'keys')" "$(printf '%s' "$lj" | jq -c 'keys')" "intact: the same keys"
is "$(printf '%s' "$ej" | jq -c '[.intact, .events, .head, .bad_event]')" \
   "$(printf '%s' "$lj" | jq -c '[.intact, .events, .head, .bad_event]')" "intact: the same verdict"

sqlite3 "$db" "DROP TRIGGER events_no_update; UPDATE events SET operator = 'mallory' WHERE id = 3;"
$P -s "$db" export -o bad.jsonl 2>/dev/null
lj=$($P -s "$db" log --verify --json); ej=$($P export --verify bad.jsonl --json)
is "$(printf '%s' "$ej" | jq -c 'keys')" "$(printf '%s' "$lj" | jq -c 'keys')" "tampered: the same keys"
is "$(printf '%s' "$lj" | jq -c '[.intact, .bad_event, .events, .head]')" "[false,3,2,null]" \
	"log: the edited event, the intact events before it, no head"
is "$(printf '%s' "$ej" | jq -c '[.intact, .bad_event, .events, .head]')" \
   "$(printf '%s' "$lj" | jq -c '[.intact, .bad_event, .events, .head]')" "export: the same verdict"
is "$(printf '%s' "$ej" | jq .bad_line)" "$(grep -n mallory bad.jsonl | cut -d: -f1)" "export: and the line"
is "$(printf '%s' "$lj" | jq .bad_line)" "null" "log: no line in a state"
done_testing
