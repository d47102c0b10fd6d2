# check_width.sh -- issue 13 "`check`'s table ignores the terminal width
# and breaks on long risk or duration text": the table fits $COLUMNS (80
# when it is unset and stdout is not a terminal), long risk, duration and
# title cells cut with "...", and on a narrow terminal each title goes on
# a line of its own; a wide one shows them whole.
. "$top_srcdir/tests/lib/tap.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
title="A rather long phase title that goes on and on well past any sensible width"
cat >long.md <<EOF
# Long

## Phase 1: $title
**Risk Level:** HIGH - data loss possible if the replication lag is not zero
**Duration:** 2 hours plus a buffer of another 45 minutes for the unexpected

- [ ] one

## Phase 2: Short
**Risk Level:** LOW

- [ ] two
EOF
# the table: from its header to the blank line after it
table() { sed -n '/^PHASE /,/^$/p'; }
widest() { awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }'; }

for cols in 80 100 72 60; do
	out=$(COLUMNS=$cols "$PGCUTOVER" check long.md); rc=$?
	is "$rc" 0 "COLUMNS=$cols: exit 0"
	w=$(printf '%s\n' "$out" | table | widest)
	ok "$([ "$w" -le "$cols" ]; echo $?)" "COLUMNS=$cols: the table fits ($w columns)"
	like "$(printf '%s\n' "$out" | table)" "^PHASE +ITEMS +DONE +STEPS +CMDS +FLAGS +ROLLBACK +RISK +DURATION" \
		"COLUMNS=$cols: the header"
	like "$(printf '%s\n' "$out" | table)" "  H[^.]*\\.\\.\\. +2 hou[^.]*\\.\\.\\." "COLUMNS=$cols: the long risk and duration cut with ..."
	like "$(printf '%s\n' "$out" | table)" "Short" "COLUMNS=$cols: a short title whole"
done
out=$(COLUMNS=60 "$PGCUTOVER" check long.md)
like "$(printf '%s\n' "$out" | table)" "$(printf '\n')    A rather long" "COLUMNS=60: the title on a line of its own"

# no COLUMNS, not a terminal: 80
out=$(env -u COLUMNS "$PGCUTOVER" check long.md | cat)
w=$(printf '%s\n' "$out" | table | widest)
ok "$([ "$w" -le 80 ]; echo $?)" "no COLUMNS, not a terminal: 80 columns ($w)"

# wide: nothing cut
out=$(COLUMNS=250 "$PGCUTOVER" check long.md)
like "$out" "$title" "COLUMNS=250: the title whole"
like "$out" "HIGH - data loss possible if the replication lag is not zero +2 hours plus a buffer" \
	"COLUMNS=250: risk and duration whole"
unlike "$(printf '%s\n' "$out" | table | sed -n 2p)" "$title\\.\\.\\." "COLUMNS=250: the title not cut"
done_testing
