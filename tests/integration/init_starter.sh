#!/bin/sh
# init_starter.sh -- `pgcutover init` on a fixture runbook: the JSON it writes
# (read with jq), what it declares as flags and leaves out, refusal to
# overwrite without --force (exit 73), and that the written config loads
# again through `pgcutover -c FILE check`.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

fixture="$top_srcdir/tests/fixtures/config/shop-runbook.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XDG_STATE_HOME="$tmp/state"; export XDG_STATE_HOME
mkdir -p "$tmp/proj/docs" "$tmp/proj/ops"
cp "$fixture" "$tmp/proj/docs/MIGRATION.md"
cd "$tmp/proj" || exit 1

out=$("$PGCUTOVER" init docs/MIGRATION.md 2>"$tmp/err"); rc=$?
is "$rc" 0 "init exits 0"
ok "$([ -f pgcutover.json ]; echo $?)" "writes ./pgcutover.json by default"
jq -e . pgcutover.json >/dev/null 2>&1; ok $? "the file is valid JSON"
is "$(jq -r .runbook pgcutover.json)" "docs/MIGRATION.md" "runbook relative to the config"

# The tables of the fixture's "Copy in dependency order" list, in file order.
want_tables=$(sed -n '/dependency order/,/^- \[/p' "$fixture" |
	sed -n 's/^ *- \[.\] \([a-z_]*\) (.*/\1/p' | paste -sd, -)
is "$(jq -r '.tables | join(",")' pgcutover.json)" "$want_tables" "tables in dependency order"

is "$(jq -r '.flags | join(",")' pgcutover.json)" "MAINTENANCE,USE_NEW_DB,ENABLE_WRITES" \
	"flags: NAME=VALUE lines with a boolean value or a flag-shaped name, in file order"
is "$(jq -r '.flags | index("USE_CACHE")' pgcutover.json)" "null" "an export line is shell, not a flag"
is "$(jq -r '.flags | index("PGHOST")' pgcutover.json)" "null" "a path value is not a flag"
is "$(jq -r '.flags | index("BACKUP_FILE")' pgcutover.json)" "null" "a shell variable is not a flag"
like "$out" "left out +2: BACKUP_FILE, PGHOST" "init says what it left out"
is "$(jq -r .source pgcutover.json)" "service=pgcutover_source" "source placeholder"
is "$(jq -r .target pgcutover.json)" "service=pgcutover_target" "target placeholder"
is "$(jq -r .env_file pgcutover.json)" ".env" "env_file"
is "$(jq -r 'has("operator")' pgcutover.json)" "false" "operator omitted"
like "$out" "tables +3: customers, orders, order_items" "init prints the tables it found"
want_health=$(sed -n 's/^- \[ \] `curl \(http[^`]*\)`$/\1/p' "$fixture")
is "$(jq -r '.health | join(",")' pgcutover.json)" "$want_health" "health from the curl item"
ponr=$(jq -r .point_of_no_return pgcutover.json)
tick_out=$("$PGCUTOVER" -c pgcutover.json -s "$tmp/ponr.db" tick "$ponr" 2>&1)
like "$tick_out" "curl" "point_of_no_return is the item closed by the \"point of no return\" checkpoint"

sum_before=$(cksum < pgcutover.json)
"$PGCUTOVER" init docs/MIGRATION.md >/dev/null 2>"$tmp/err"; rc=$?
is "$rc" 73 "refuses to overwrite without --force: exit 73"
like "$(cat "$tmp/err")" "already exists; pass --force" "says why"
is "$(cksum < pgcutover.json)" "$sum_before" "file unchanged"

echo '{}' > pgcutover.json
"$PGCUTOVER" init docs/MIGRATION.md --force >/dev/null 2>&1; rc=$?
is "$rc" 0 "--force overwrites"
is "$(jq -r .runbook pgcutover.json)" "docs/MIGRATION.md" "overwritten with a full config"

"$PGCUTOVER" init docs/MIGRATION.md -o ops/pgcutover.json >/dev/null 2>&1
is "$(jq -r .runbook ops/pgcutover.json)" "../docs/MIGRATION.md" "-o: runbook relative to the output's directory"

mkdir -p deploy
"$PGCUTOVER" init docs/MIGRATION.md -o deploy/ >/dev/null 2>&1
is "$(jq -r .runbook deploy/pgcutover.json)" "../docs/MIGRATION.md" "-o DIR writes DIR/pgcutover.json"

"$PGCUTOVER" init docs/MIGRATION.md -o "$tmp/no/such/dir/pgcutover.json" >/dev/null 2>&1; rc=$?
is "$rc" 73 "cannot write: exit 73"

"$PGCUTOVER" init docs/NOPE.md -o x.json >/dev/null 2>&1; rc=$?
is "$rc" 66 "missing runbook: exit 66"
ok "$([ ! -e x.json ]; echo $?)" "nothing written for a missing runbook"

"$PGCUTOVER" init >/dev/null 2>&1; rc=$?
is "$rc" 64 "no runbook: usage error"

json=$("$PGCUTOVER" --json init docs/MIGRATION.md -o j.json 2>/dev/null)
is "$(printf '%s' "$json" | jq -r '.not_flags | join(",")')" "BACKUP_FILE,PGHOST" "--json: not_flags"
is "$(printf '%s' "$json" | jq -r '.config')" "j.json" "--json: config path"

# What init wrote loads: check reads the runbook named in the config.
cd "$tmp" || exit 1
"$PGCUTOVER" -c proj/ops/pgcutover.json check >"$tmp/check" 2>&1; rc=$?
is "$rc" 0 "pgcutover -c <written config> check exits 0"
like "$(cat "$tmp/check")" "Shop DB" "check read the runbook through the config"
grep -qi password proj/pgcutover.json; is $? 1 "no password anywhere in the starter config"
done_testing
