#!/bin/sh
# check_gfm_blocks.sh -- issue 15 item 7: where Markdown's block rules used
# to differ from GitHub's.  A setext heading ("Phase 1" over "=====", "Phase
# 2" over "-----") is a phase and holds its items; an item inside a > block
# quote is an item (with its quoted command block); a "- [ ]" indented four
# spaces with no list open is code, not an item, while one nested under an
# item stays a sub-item.  Where cmark-gfm (GitHub's parser) is installed,
# the items outside block quotes are exactly the checkboxes it renders.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
FX="$top_srcdir/tests/fixtures/runbooks/gfm-blocks.md"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"

j=$("$PGCUTOVER" check --json "$FX")
is "$(printf '%s' "$j" | jq -r .title)" "Inventory DB: cluster move" "a setext # heading is the title"
is "$(printf '%s' "$j" | jq -r '[.phases[] | "\(.id):\(.items)"] | join(",")')" "1:2,2:4,3:1" \
   "setext phases hold their items; quoted items count; the indented example does not"
is "$(printf '%s' "$j" | jq -r '.phases[] | select(.id == "2") | .commands')" 1 \
   "the quoted item's quoted block is its command"
is "$(printf '%s' "$j" | jq -r '.items')" \
   "$(grep -cE '^(> )?(- |    - )\[' "$FX" | awk '{ print $1 - 1 }')" \
   "every checkbox line but the code example is an item"
s=$("$PGCUTOVER" -r "$FX" status --json)
is "$(printf '%s' "$s" | jq -r '[.phases[] | "\(.id):\(.done)/\(.total)"] | join(",")')" "1:1/2,2:1/4,3:0/1" \
   "status reads the same phases"

if command -v cmark-gfm >/dev/null 2>&1; then
	grep -v '^>' "$FX" > "$T/unquoted.md"
	is "$("$PGCUTOVER" check --json "$T/unquoted.md" | jq .items)" \
	   "$(cmark-gfm -e tasklist --to html "$T/unquoted.md" | grep -c 'type="checkbox"')" \
	   "outside block quotes: exactly the checkboxes cmark-gfm renders"
else
	ok 0 "# SKIP cmark-gfm not installed"
fi
done_testing
