# actions_preflight.sh -- issue 13 "a pre-flight in X that says `pm2: not
# on PATH`": before a block runs, its plan (run --dry-run, --json, and the
# confirmation of run without --yes) lists each command the block names
# that is not there: not on PATH, or a ./script missing from the config's
# workdir or not executable.  Builtins, keywords, the block's own
# functions, here-documents and comments are not commands.  No database.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
mkdir bin work
# a PATH the test owns: its bin, then the system's basic tools
SYS=/usr/bin:/bin
for miss in pm2 pgc-no-such-tool; do
	PATH=$SYS command -v "$miss" >/dev/null 2>&1 && skip_all "$miss is installed in $SYS"
done
cat >rb.md <<'EOF'
# Pre-flight

## Phase 5: Cutover

- [ ] Restart the app
  ```bash
  # pm2 in a comment is not a command
  pm2 restart shop-web
  APP_ENV=prod mytool --check | grep -q ok && pgc-no-such-tool --x
  cat <<EOT > notes.txt
  notacommand either
  EOT
  greet() { echo hi; }
  greet
  for i in 1 2; do echo "$i"; done
  ./scripts/warm-cache.sh
  ./scripts/not-executable.sh
  ```
- [ ] Only sound commands
  ```bash
  echo fine | grep -q fine
  ```
EOF
cat >pgcutover.json <<EOF
{"runbook": "rb.md", "state": "state.db", "workdir": "$T/work"}
EOF
mkdir work/scripts
printf '#!/bin/sh\necho x\n' >work/scripts/not-executable.sh
P() { PATH="$T/bin:$SYS" "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

out=$(P run 5.1 --dry-run); rc=$?
is "$rc" 0 "dry run: exit 0"
like "$out" "pre-flight: pm2 not on PATH" "pm2 not on PATH"
like "$out" "pre-flight: pgc-no-such-tool not on PATH" "a command after && and a pipe"
like "$out" "pre-flight: mytool not on PATH" "a command after NAME=value"
like "$out" "pre-flight: \\./scripts/warm-cache\\.sh not found in $T/work" "a script missing from the workdir"
like "$out" "pre-flight: \\./scripts/not-executable\\.sh is not executable" "a script that cannot be run"
unlike "$out" "pre-flight: (grep|cat|echo|greet|notacommand|for|i) " \
	"no builtin, system tool, function, loop or here-document line listed"
is "$(printf '%s\n' "$out" | grep -c 'pre-flight: pm2 ')" 1 "each missing command once"

js=$(P run 5.1 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '.preflight | length')" 5 "--json: five missing commands"
is "$(printf '%s' "$js" | jq -r '.preflight[0]')" "pm2 not on PATH" "--json: in the order they come"

# the tools arrive: the pre-flight follows PATH and the workdir
for t in pm2 mytool pgc-no-such-tool; do printf '#!/bin/sh\nexit 0\n' >bin/$t; chmod +x bin/$t; done
printf '#!/bin/sh\nexit 0\n' >work/scripts/warm-cache.sh
chmod +x work/scripts/warm-cache.sh work/scripts/not-executable.sh
js=$(P run 5.1 --dry-run --json)
is "$(printf '%s' "$js" | jq -c '.preflight')" "[]" "every command there: nothing listed"
rm bin/pm2
is "$(P run 5.1 --dry-run --json | jq -c '.preflight')" '["pm2 not on PATH"]' "one removed again: listed again"

# the confirmation of a real run shows it too (no terminal: refused, shown on stderr)
P run 5.1 </dev/null >/dev/null 2>err; rc=$?
isnt "$rc" 0 "run without --yes and no terminal: not run"
like "$(cat err)" "pre-flight: pm2 not on PATH" "the plan shown before the refusal names it"
out=$(P run 5.2 --dry-run)
unlike "$out" "pre-flight" "a block whose commands are all there: no pre-flight line"

done_testing
