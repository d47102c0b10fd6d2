# check_runbook.sh -- `pgcutover check` end to end through the binary:
# --json shape and values (derived from the fixture files themselves), the
# human summary, flags from a config, the mojibake repair that never writes
# the file, and exit codes with path:line:col messages for bad input
# (including generated 10,000-item, 10,000-deep and 100 MB runbooks).
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
FX="$top_srcdir/tests/fixtures/runbooks"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# checklist lines outside fenced blocks, counted without pgcutover
count_items() {
	awk '/^[ \t]*(```|~~~)/ { fence = !fence; next }
	     !fence && /^[ \t]*([-*+]|[0-9]+[.)])[ \t]+\[[^]]?[^]]?[^]]?\]([ \t]|$)/ { n++ }
	     END { print n + 0 }' "$1"
}

# --- the format page's example --------------------------------------------
out=$("$PGCUTOVER" check --json "$FX/small.md"); rc=$?
is "$rc" 0 "check --json small.md exits 0"
printf '%s' "$out" | jq -e . >/dev/null; ok $? "output is JSON"
is "$(printf '%s' "$out" | jq -r .title)" "$(sed -n '1s/^# //p' "$FX/small.md")" "title is the # heading"
is "$(printf '%s' "$out" | jq -r '[.phases[].id] | join(",")')" \
   "$(grep -E '^#{2,3} .*Phase [0-9]' "$FX/small.md" | sed -E 's/.*Phase ([0-9.]+).*/\1/' | paste -sd, -)" \
   "phase ids are the Phase N headings, in order"
is "$(printf '%s' "$out" | jq -r '.phases[0].title')" \
   "$(grep -m1 'Phase 0' "$FX/small.md" | sed 's/.*Phase 0: //')" "phase title without emoji and 'Phase 0:'"
is "$(printf '%s' "$out" | jq -r .items)" "$(count_items "$FX/small.md")" "items total"
is "$(printf '%s' "$out" | jq '[.phases[].done] | add')" "$(grep -c -- '- \[[xX]\]' "$FX/small.md")" "done counts the [x] items"
is "$(printf '%s' "$out" | jq -r '.phases[] | select(.id == "3") | .risk')" \
   "$(sed -n 's/^\*\*Risk Level:\*\* //p' "$FX/small.md")" "risk of phase 3"
is "$(printf '%s' "$out" | jq -r '.phases[] | select(.id == "5") | .rollback')" true "phase 5 has a rollback step"
is "$(printf '%s' "$out" | jq -r '.phases[] | select(.id == "0") | .level')" 3 "phase 0 sits at ###"
is "$(printf '%s' "$out" | jq -r '.sections | join(",")')" "Prerequisites" "context sections listed"
is "$(printf '%s' "$out" | jq -r .repaired_encoding)" false "clean file is not repaired"
is "$(printf '%s' "$out" | jq -r .sha256)" "$(sha256sum "$FX/small.md" | cut -d' ' -f1)" "sha256 of the file"
for key in id title level line items done steps commands flag_edits rollback risk duration status goal; do
	printf '%s' "$out" | jq -e ".phases[0] | has(\"$key\")" >/dev/null
	ok $? "phase objects carry \"$key\""
done

out2=$("$PGCUTOVER" -r "$FX/small.md" check --json)
is "$out2" "$out" "-r RUNBOOK is the same as the argument"
is "$("$PGCUTOVER" check --json - <"$FX/small.md" | jq -c '[.path, .items, .sha256]')" \
   "$(printf '%s' "$out" | jq -c '["<stdin>", .items, .sha256]')" "check - reads the runbook from standard input"

human=$("$PGCUTOVER" check "$FX/small.md"); rc=$?
is "$rc" 0 "human summary exits 0"
like "$human" "Access and tooling" "human summary names the phases"
like "$human" "^PHASE +ITEMS +DONE +STEPS +CMDS +FLAGS +ROLLBACK" "human summary has a header"
like "$human" "phases, $(count_items "$FX/small.md") items" "human summary totals"

# --- flags from a config ----------------------------------------------------
cp "$FX/small.md" "$T/plan.md"
cat >"$T/pgcutover.json" <<'EOF'
{"runbook": "plan.md", "source": "service=old", "target": "service=new", "flags": ["USE_NEW_DB"]}
EOF
edits=$(cd "$T" && "$PGCUTOVER" check --json plan.md 2>"$T/err" | jq '[.phases[].flag_edits] | add')
is "$edits" "$(grep -c '^ *USE_NEW_DB=' "$FX/small.md")" "declared flags from ./pgcutover.json make flag edits"
is "$(cat "$T/err")" "" "no warning with a valid config"
edits=$(cd "$T" && "$PGCUTOVER" check --json 2>/dev/null | jq '[.phases[].flag_edits] | add')
is "$edits" "$(grep -c '^ *USE_NEW_DB=' "$FX/small.md")" "runbook path taken from the config when none is given"
edits=$("$PGCUTOVER" check --json "$FX/small.md" | jq '[.phases[].flag_edits] | add')
is "$edits" 0 "without a config no line is a flag edit"
echo '{"runbook": "plan.md", "bogus": 1}' >"$T/bad.json"
out=$(cd "$T" && "$PGCUTOVER" -c bad.json check --json plan.md 2>"$T/err"); rc=$?
is "$rc" 0 "check needs no config: a config that does not load is only a warning"
like "$(cat "$T/err")" "^pgcutover: warning: .*bad.json" "the config problem is named on stderr"
is "$(printf '%s' "$out" | jq .items)" "$(count_items "$FX/small.md")" "and the runbook is still checked"

# --- the large realistic file and the unnumbered one ------------------------
out=$("$PGCUTOVER" check --json "$FX/large.md"); rc=$?
is "$rc" 0 "large runbook exits 0"
is "$(printf '%s' "$out" | jq -r .items)" "$(count_items "$FX/large.md")" "large: every checklist line is an item"
is "$(printf '%s' "$out" | jq -r '[.phases[] | select(.numbered) | .id] | join(",")')" \
   "$(grep -E '^#{2,3} .*Phase [0-9]' "$FX/large.md" | sed -E 's/.*Phase ([0-9.]+).*/\1/' | paste -sd, -)" \
   "large: numbered phases at ## and ###"
is "$(printf '%s' "$out" | jq -r '[.phases[] | select(.numbered | not) | .id] | join(",")')" \
   "post-migration,sign-off" "large: later unnumbered sections with checkboxes get slug ids"
is "$(printf '%s' "$out" | jq -r '.warnings | length')" 0 "large: no warnings"

out=$("$PGCUTOVER" check --json "$FX/unnumbered.md")
is "$(printf '%s' "$out" | jq -r '[.phases[].id] | join(",")')" \
   "$(awk '/^## /{t=$0} /^[ \t]*- \[/{ if (t != last) { print t; last = t } }' "$FX/unnumbered.md" |
      sed 's/^## //' | tr 'A-Z ' 'a-z-' | paste -sd, -)" "unnumbered: every ## with checkboxes is a phase"

# --- mojibake: repaired for display, file untouched --------------------------
before=$(sha256sum "$FX/mojibake.md")
m=$("$PGCUTOVER" check --json "$FX/mojibake.md"); rc=$?
c=$("$PGCUTOVER" check --json "$FX/mojibake-clean.md")
is "$rc" 0 "mojibake file loads"
is "$(printf '%s' "$m" | jq -r .repaired_encoding)" true "repaired_encoding is true"
is "$(printf '%s' "$m" | jq -r .title)" "$(printf '%s' "$c" | jq -r .title)" "title reads as the clean source"
is "$(printf '%s' "$m" | jq -c '[.phases[] | [.id, .title, .items, .risk]]')" \
   "$(printf '%s' "$c" | jq -c '[.phases[] | [.id, .title, .items, .risk]]')" "phases read as the clean source"
is "$(printf '%s' "$m" | jq '[.warnings[] | select(test("repaired"))] | length')" 1 "one warning about the repair"
is "$(sha256sum "$FX/mojibake.md")" "$before" "the file itself is never rewritten"
human=$("$PGCUTOVER" check "$FX/mojibake.md")
like "$human" "repaired" "human summary says it repaired the text"

# --- bad input: exit codes and path:line:col -------------------------------
for f in malformed-unterminated-fence malformed-invalid-utf8 malformed-nul malformed-no-phases; do
	err=$("$PGCUTOVER" check --json "$FX/$f.md" 2>&1 >/dev/null); rc=$?
	is "$rc" 65 "$f: exit 65"
	like "$err" "^pgcutover: $FX/$f.md:[0-9]+:[0-9]+: " "$f: message has path:line:col"
done
err=$("$PGCUTOVER" check "$FX/malformed-unterminated-fence.md" 2>&1)
fence_line=$(grep -n '```' "$FX/malformed-unterminated-fence.md" | head -1 | cut -d: -f1)
like "$err" ":$fence_line:[0-9]+: unterminated" "unterminated fence points at its opening line"

"$PGCUTOVER" check "$T/does-not-exist.md" 2>/dev/null; is "$?" 66 "missing file: exit 66"
(cd "$T" && rm -f pgcutover.json && "$PGCUTOVER" check 2>/dev/null); is "$?" 64 "no runbook: exit 64"
"$PGCUTOVER" check "$FX/small.md" "$FX/large.md" 2>/dev/null; is "$?" 64 "two runbooks: exit 64"
"$PGCUTOVER" check --bogus "$FX/small.md" 2>/dev/null; is "$?" 64 "unknown option: exit 64"

# 10,000 items: all read
awk 'BEGIN { print "# Big"; for (p = 1; p <= 5; p++) { printf "## Phase %d: part\n", p;
	for (i = 0; i < 2000; i++) printf "- [ ] item %d\n", i } }' >"$T/big.md"
is "$("$PGCUTOVER" check --json "$T/big.md" | jq .items)" "$(count_items "$T/big.md")" "10,000-item runbook: every item read"

# 10,000-deep nesting: an error at the first line too deep, no crash.
# Each level is one column deeper; tabs (4 columns) keep the file small.
awk 'BEGIN { print "# Deep"; print "## Phase 1: deep";
	for (i = 0; i < 10000; i++) {
		for (k = 0; k < int(i / 4); k++) printf "\t"
		printf "%" (i % 4) "s- [ ] level %d\n", "", i } }' >"$T/deep.md"
err=$("$PGCUTOVER" check "$T/deep.md" 2>&1); rc=$?
is "$rc" 65 "10,000-deep nesting: exit 65"
like "$err" "deep.md:[0-9]+:[0-9]+: list nested deeper" "10,000-deep nesting: line:col of the first line too deep"

# 100 MB: refused with exit 65
truncate -s 100M "$T/huge.md" 2>/dev/null || dd if=/dev/zero of="$T/huge.md" bs=1 count=0 seek=100M 2>/dev/null
err=$("$PGCUTOVER" check "$T/huge.md" 2>&1); rc=$?
is "$rc" 65 "100 MB file: exit 65"
like "$err" "huge.md:1:1: .*limit" "100 MB file: message says the limit"

done_testing
