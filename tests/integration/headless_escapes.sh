#!/bin/sh
# headless_escapes.sh -- escape sequences in a config's table name, a
# server's error, a .env value, a runbook and a note never reach the
# terminal through headless output (counts, flags, status, check, log,
# export md): they are shown as '?'; `log --json` escapes C1 controls as
# \u00XX (a terminal may obey a raw U+009B as CSI).  `run` streams a
# command's output as a shell would (raw), by design and documented.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
pg_start src || exit 1
pg_start dst || exit 1
for side in src dst; do
	pg_psql "$side" "create table clients(id serial primary key); insert into clients default values;"
done
D=$PGC_TMP
ESC=$(printf '\033')
C1=$(printf '\302\233')     # U+009B, CSI for a terminal that obeys C1
bad() { cat "$@" | grep -c -a -e "$ESC" -e "$C1" -e "$(printf '\007')"; }

printf '# Runbook \033]0;title\007\n\n## Phase 1\n\n- [ ] one \033[31mred\033[0m\n  ```sh\n  printf "\\033[32mgreen\\033[0m\\n"\n  ```\n' >"$D/runbook.md"
printf 'MODE=on\033]52;c;cHduZWQ=\007x\n' >"$D/app.env"
cat >"$D/pgcutover.json" <<EOF
{"runbook": "runbook.md", "state": "state.db", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "env_file": "app.env", "flags": ["MODE"],
 "tables": [{"name": "clients"}, {"name": "\"evil\u001b]0;pwned\u0007x\u009b2J\""}]}
EOF
cd "$D" || exit 1
P() { "$PGCUTOVER" -c "$D/pgcutover.json" "$@"; }

P counts --exact >"$D/counts.out" 2>"$D/counts.err"
grep -q "evil" "$D/counts.out"; ok $? "counts names the bad table"
is "$(bad "$D/counts.out" "$D/counts.err")" 0 "counts: no escape sequence from the table name or the server's error"
P flags >"$D/flags.out" 2>&1
grep -q "MODE" "$D/flags.out"; ok $? "flags lists the flag"
is "$(bad "$D/flags.out")" 0 "flags: no escape sequence from the .env value"
P status >"$D/status.out" 2>&1
is "$(bad "$D/status.out")" 0 "status: none from the runbook"
P check runbook.md >"$D/check.out" 2>&1
is "$(bad "$D/check.out")" 0 "check: none from the runbook"
P note "look $(printf '\033[2J')here ${C1}2J and $(printf '\033]8;;http://x\007')link" >"$D/note.out" 2>&1; rc=$?
is "$rc" 0 "a note with escapes is recorded"
P log >"$D/log.out" 2>&1
grep -q "look" "$D/log.out"; ok $? "log shows the note"
is "$(bad "$D/log.out" "$D/note.out")" 0 "log: no escape sequence"
P log --json >"$D/log.json" 2>&1
is "$(bad "$D/log.json")" 0 "log --json: no raw ESC or C1 control"
grep -q '\\u009b2J' "$D/log.json"; ok $? "log --json escapes a C1 control as \\u009b"
is "$(jq -r '[.[] | select(.kind == "note")][0].payload.text' "$D/log.json" | grep -c "$C1")" 1 \
   "and the JSON still reads back as the text recorded"
P export --format md >"$D/export.md" 2>&1
is "$(bad "$D/export.md")" 0 "export md on stdout: no escape sequence"
P run 1.1 --yes >"$D/run.out" 2>/dev/null
grep -q "$ESC\[32mgreen" "$D/run.out"; ok $? "run streams the command's own output as a shell would (raw)"

done_testing
