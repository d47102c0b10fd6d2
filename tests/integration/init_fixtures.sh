#!/bin/sh
# init_fixtures.sh -- `pgcutover init` over every runbook fixture: a runbook
# that `check` accepts gives a config that is valid JSON and loads again
# (`-c FILE check`); a runbook `check` refuses gives the same exit code from
# init and no file.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XDG_STATE_HOME="$tmp/state"; export XDG_STATE_HOME
n=0
for rb in "$top_srcdir"/tests/fixtures/runbooks/*.md "$top_srcdir"/tests/fixtures/config/*.md \
          "$top_srcdir"/examples/*.md; do
	[ -f "$rb" ] || continue
	name=$(basename "$rb")
	n=$((n + 1))
	out="$tmp/$n.json"
	"$PGCUTOVER" check "$rb" >/dev/null 2>&1
	want=$?
	"$PGCUTOVER" -q init "$rb" -o "$out" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$want" -eq 0 ]; then
		is "$rc" 0 "$name: init exits 0"
		jq -e '.runbook and (.tables | type == "array") and (.flags | type == "array")' "$out" >/dev/null 2>&1
		ok $? "$name: written config is valid JSON with runbook, tables, flags"
		"$PGCUTOVER" -c "$out" check >/dev/null 2>"$tmp/err"
		is "$?:$(cat "$tmp/err")" "0:" "$name: the written config loads without a warning"
	else
		is "$rc" "$want" "$name: init refuses it like check (exit $want)"
		ok "$([ ! -e "$out" ]; echo $?)" "$name: no file written"
	fi
done
[ "$n" -gt 0 ]; ok $? "found runbook fixtures"
done_testing
