# flags_envfile.sh -- `pgcutover flag set` on awkward .env files (issue 19):
# a NUL byte or a line dotenv and the shell read differently is refused with
# file:line:col and nothing written; an empty value keeps its comment; a
# multi-line value is replaced whole; every value set reads back exactly in
# /bin/sh and python-dotenv; backups are 0600 and only the newest
# env_backups are kept.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }
nbak() { ls -a | grep -c '^\.env\.bak-[0-9]'; }
sh_reads() { sh -c 'set -a; . ./.env; printf %s "$USE_NEW_DB"'; }
have_py=no
python3 -c 'import dotenv' 2>/dev/null && have_py=yes
py_reads() {
	python3 -c 'import sys, dotenv; sys.stdout.write(dotenv.dotenv_values(".env")["USE_NEW_DB"])'
}
sets() { act_events "$T" flag_set | wc -l; }

# 1. A NUL byte: refused before anything is written.
printf 'USE_NEW_DB=1\nA=2\0junk\nKEEP=me\n' >.env
sum=$(sha256sum .env)
err=$(P flag set USE_NEW_DB 2 2>&1 >/dev/null); rc=$?
is "$rc" 65 "a .env with a NUL is refused (65)"
like "$err" '\.env:2:4: a NUL byte' "the message names file:line:col"
is "$(sha256sum .env)" "$sum" "the file is unchanged"
is "$(nbak)" 0 "no backup"
is "$(sets)" 0 "no flag_set recorded"
P flags --json >/dev/null 2>&1; is "$?" 65 "flags refuses it too"

# 2. An empty value before a comment keeps the comment, twice.
printf 'USE_NEW_DB=true # c\nKEEP=me\n' >.env
P flag set USE_NEW_DB '' >/dev/null; is "$?" 0 "set to empty"
is "$(cat .env)" "$(printf 'USE_NEW_DB="" # c\nKEEP=me')" "written as \"\" before the comment"
is "$(sh_reads)" "" "sh reads it empty"
[ $have_py = no ] || is "$(py_reads)" "" "python-dotenv reads it empty"
is "$(P flags --json | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .value')" "" "flags reads it empty"
P flag set USE_NEW_DB on >/dev/null; is "$?" 0 "set again"
is "$(head -1 .env)" 'USE_NEW_DB="on" # c' "the comment survives a second set"

# 3. A multi-line value is replaced whole.
printf 'USE_NEW_DB="first\nline"\nKEEP=me\n' >.env
out=$(P flag set USE_NEW_DB NEWV); is "$?" 0 "set over a multi-line value"
is "$(cat .env)" "$(printf 'USE_NEW_DB="NEWV"\nKEEP=me')" "no stray line left"

# 4. 'it''s': the shell and dotenv disagree; refused, not mangled.
printf "USE_NEW_DB='it''s'\nKEEP=me\n" >.env
sum=$(sha256sum .env)
err=$(P flag set USE_NEW_DB NEWV 2>&1 >/dev/null); rc=$?
is "$rc" 65 "'it''s' is refused (65)"
like "$err" "\\.env:1:16: cannot set USE_NEW_DB: text right after the closing quote" "and says where and why"
is "$(sha256sum .env)" "$sum" "the file is unchanged"

# A runbook block that sets such a flag is refused before its first command.
rm -f app.pid
P run 5.1 --yes >out.txt 2>&1; rc=$?
is "$rc" 65 "run of a block setting it is refused (65)"
like "$(cat out.txt)" "\\.env:1:16: cannot set USE_NEW_DB" "naming file:line:col"
[ ! -f app.pid ] && ! grep -q "app stopped" out.txt; ok $? "before its first command ran"
is "$(sha256sum .env)" "$sum" "and the file is unchanged"

# 5. Every value reads back exactly, in every reader.
printf 'USE_NEW_DB=false   # flipped\nKEEP=me\n' >.env
bad=0
for v in "a b" "a#b" "x # y" "it's" 'say "hi"' '$HOME' '`id`' 'C:\dir' '~/x' 'a;b&c' '' \
         'postgres://u@h/db?x=1' "h$(printf '\303\251')llo" '=' "'" '"' '*'; do
	if ! P flag set USE_NEW_DB "$v" >/dev/null 2>&1; then
		diag "refused: $v"; bad=$((bad + 1)); continue
	fi
	[ "$(sh_reads)" = "$v" ] || { diag "sh read $(sh_reads) for $v: $(head -1 .env)"; bad=$((bad + 1)); }
	if [ $have_py = yes ] && [ "$(py_reads)" != "$v" ]; then
		diag "python-dotenv read $(py_reads) for $v: $(head -1 .env)"; bad=$((bad + 1))
	fi
	js=$(P flags --json | jq -r '.flags[] | select(.name == "USE_NEW_DB") | .value')
	[ "$js" = "$v" ] || { diag "flags read $js for $v"; bad=$((bad + 1)); }
	[ "$(sed -n 2p .env)" = KEEP=me ] || { diag "line 2 changed: $(sed -n 2p .env)"; bad=$((bad + 1)); }
done
readers=sh; [ $have_py = no ] || readers="sh, python-dotenv"
is "$bad" 0 "17 values read back exactly by $readers and flags; line 2 untouched"
err=$(P flag set USE_NEW_DB "it's \"x\"" 2>&1 >/dev/null); rc=$?
is "$rc" 64 "a value no quoting keeps is refused (64)"
unlike "$err" "it's" "without echoing the value"

# 6. Backups: 0600 whatever the file's mode, the newest env_backups kept.
rm -f .env.bak-*
printf 'USE_NEW_DB=0\n' >.env
chmod 644 .env
echo mine >.env.bak-notes
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do P flag set USE_NEW_DB "$i" >/dev/null || diag "set $i failed"; done
is "$(nbak)" 10 "12 sets keep the default 10 backups"
is "$(stat -c %a .env)" 644 "the file keeps its mode"
is "$(stat -c %a .env.bak-[0-9]* | sort -u)" 600 "every backup is 0600"
is "$(cat .env.bak-notes)" mine "a file that is not a backup is left alone"
is "$(cat .env.bak-[0-9]* | sort -t= -k2 -n | tr '\n' ' ')" \
   "USE_NEW_DB=2 USE_NEW_DB=3 USE_NEW_DB=4 USE_NEW_DB=5 USE_NEW_DB=6 USE_NEW_DB=7 USE_NEW_DB=8 USE_NEW_DB=9 USE_NEW_DB=10 USE_NEW_DB=11 " \
   "the ones kept are the newest"
jq '.env_backups = 3' pgcutover.json >cfg.tmp && mv cfg.tmp pgcutover.json
P flag set USE_NEW_DB 13 >/dev/null
is "$(nbak)" 3 "env_backups 3: one more set leaves 3"
# newest: the latest stamp, then the highest -N within one second (as
# envfile.c orders them: -10 after -2, which a plain sort does not know)
is "$(cat "$(ls .env.bak-[0-9]* | sort -t- -k2,2 -k3,3n | tail -1)")" "USE_NEW_DB=12" "the newest holds the bytes before the last set"
jq '.env_backups = 0' pgcutover.json >cfg.tmp && mv cfg.tmp pgcutover.json
err=$(P flag set USE_NEW_DB 14 2>&1 >/dev/null); rc=$?
is "$rc" 65 "env_backups 0 is a config error"
like "$err" "pgcutover.json:[0-9]+:[0-9]+: env_backups: must be between 1 and 1000" "with file:line:col"

done_testing
