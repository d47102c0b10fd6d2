#!/bin/sh
# config_errors.sh -- a command that loads pgcutover.json reports a bad file
# as "path:line:col: message" with exit 65, never repeats an inline password,
# and resolves the runbook against the config's directory (not the cwd).
. "$top_srcdir/tests/lib/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XDG_STATE_HOME="$tmp/state"; export XDG_STATE_HOME
cp "$top_srcdir/tests/fixtures/config/shop-runbook.md" "$tmp/plan.md"

run() {  # run FILE: `status` with that config; sets rc and err
	"$PGCUTOVER" -c "$1" -s "$tmp/s.db" status >/dev/null 2>"$tmp/err"
	rc=$?
	err=$(cat "$tmp/err")
}

printf '{\n  "runbook": "plan.md",\n  "sourc": "service=x"\n}\n' > "$tmp/typo.json"
run "$tmp/typo.json"
is "$rc" 65 "unknown key: exit 65"
like "$err" "typo.json:3:3: unknown key \"sourc\" \\(did you mean \"source\"\\?\\)" "unknown key at line:col"

printf '{\n  "runbook": "plan.md",\n}\n' > "$tmp/comma.json"
run "$tmp/comma.json"
is "$rc" 65 "syntax error: exit 65"
like "$err" "comma.json:2:23: trailing comma before '}'" "syntax error at line:col"

printf '{"runbook": "plan.md",\n "pool_size": "eight"}\n' > "$tmp/type.json"
run "$tmp/type.json"
like "$err" "type.json:2:15: pool_size: must be a number, not a string" "wrong type at line:col"

printf '{"runbook": "plan.md",\n "target": "host=db user=app password=Hunter2Secret dbname=x"}\n' > "$tmp/pw.json"
run "$tmp/pw.json"
is "$rc" 65 "inline password: exit 65"
like "$err" "pw.json:2:12: target: a password is written" "password refused at its position"
like "$err" "pgpass" "points to ~/.pgpass"
case "$err" in *Hunter2Secret*) found=0 ;; *) found=1 ;; esac
is "$found" 1 "the password is not echoed"

printf '{"state": "s.db"}\n' > "$tmp/norb.json"
run "$tmp/norb.json"
like "$err" "norb.json:1:1: missing required key \"runbook\"" "missing runbook"

run "$tmp/absent.json"
is "$rc" 66 "missing config: exit 66"

# Relative paths are relative to the config file, wherever the command runs.
mkdir -p "$tmp/elsewhere"
printf '{"runbook": "plan.md", "state": "here.db"}\n' > "$tmp/good.json"
(cd "$tmp/elsewhere" && "$PGCUTOVER" -c ../good.json status >/dev/null 2>"$tmp/err"); rc=$?
is "$rc" 0 "a valid config loads from another directory"
(cd "$tmp/elsewhere" && "$PGCUTOVER" -c ../good.json note "config test" >/dev/null 2>"$tmp/err"); rc=$?
is "$rc" 0 "note with that config exits 0"
ok "$([ -f "$tmp/here.db" ] && [ ! -e "$tmp/elsewhere/here.db" ]; echo $?)" \
	"state path resolved against the config's directory, not the cwd"
done_testing
