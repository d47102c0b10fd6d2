#!/bin/sh
# console_preflight.sh -- issue 13 "a pre-flight in X that says `pm2: not on
# PATH`": the console's x (run, before y/n) and X (dry run) show the plan's
# pre-flight (action.c's act_preflight, as `pgcutover run --dry-run` does):
# each command of the block that is not on PATH or not in the workdir.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"
SYS=/usr/bin:/bin
PATH=$SYS command -v pm2 >/dev/null 2>&1 && skip_all "pm2 is installed in $SYS"
mkdir -p "$E2E_DIR/bin" "$E2E_DIR/work"
cat >"$E2E_DIR/runbook.md" <<'EOF'
# Pre-flight

## Phase 1: Preparation

- [ ] Restart the app
  ```bash
  pm2 restart shop-web
  ./scripts/warm-cache.sh
  ```
- [ ] Say hello
  ```bash
  echo hello
  ```
EOF
cat >"$CFG" <<EOF
{"runbook": "runbook.md", "state": "state.db", "workdir": "$E2E_DIR/work"}
EOF
E2E_ENV="PATH=$E2E_DIR/bin:$SYS"
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 15; ok $? "console opens"
find_item Restart '1\.1'
keys X
wait_screen 'dry run, nothing is changed' 5; ok $? "X: the dry run"
wait_screen 'pre-flight: pm2 not on PATH' 5; ok $? "X: pre-flight: pm2 not on PATH"
like "$(screen)" "pre-flight: ./scripts/warm-cache.sh not found in" "X: a script missing from the workdir"
keys Escape
wait_screen_not 'dry run, nothing is changed' 5
keys x
wait_screen 'Run 1\.1\? type the item id or yes, then Enter' 5; ok $? "x asks for the item id or yes"
like "$(screen)" 'pre-flight: pm2 not on PATH' "and shows the pre-flight before the answer"
keys Escape
wait_screen 'not run; nothing changed' 5; ok $? "Esc: not run"
keys Escape
find_item 'Say hello' '1\.2'
keys X
wait_screen 'dry run, nothing is changed' 5
unlike "$(screen)" 'pre-flight' "a block whose commands are there: no pre-flight line"
keys Escape
keys q
wait_exit 10 >/dev/null
done_testing
