#!/bin/sh
# secrets_leak.sh -- a distinct random secret planted in every place one can
# enter pgcutover: its environment (a secret-looking name), an endpoint's
# key_env (a Supabase key, used over REST), the .env (a secret-looking value
# and a URL's password), a password in ~/.pgpass (PGPASSFILE) used against a
# real PostgreSQL with scram authentication, a command's text, a command's
# output (a token written in two pieces), notes, a flag set by hand and a
# webhook URL carrying a token.  Then every headless command that shows,
# records or exports something runs, and the state, its -wal, the exports,
# the logs, every stdout and stderr, and every file pgcutover wrote (the
# work directory, HOME, the cache) are searched for each secret: none may
# appear.  The operator's own files that hold them by design (.env and its
# backups, the config, the password file) are not searched.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/rest.sh"
rest_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

rnd() { printf '%s%s' "$1" "$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"; }
S_ENV=$(rnd envsec)       # environment, secret-looking name
S_KEY=$(rnd restkey)      # key_env of the REST source (a name that does not look secret)
S_DOTENV=$(rnd dotenv)    # .env DB_PASSWORD
S_URL=$(rnd urlpw)        # .env DATABASE_URL password
S_PGPASS=$(rnd pgpass)    # target password, in the password file only
S_CMD=$(rnd cmdtxt)       # assigned in a command's text
S_OUT=$(rnd cmdout)       # printed by a command in two pieces
S_NOTE=$(rnd notepw)      # a URL password in a note
S_HOOK=$(rnd hooktok)     # the webhook URL's token
S_RUNURL=$(rnd runurl)    # a URL password a run block writes to a flag
S_SET=$(rnd flagset)      # a secret flag set by hand
SECRETS="S_ENV S_KEY S_DOTENV S_URL S_PGPASS S_CMD S_OUT S_NOTE S_HOOK S_RUNURL S_SET"

pg_start src || exit 1
pg_start dst || exit 1
N=17
for side in src dst; do
	pg_psql "$side" "create table t(id int primary key); insert into t select generate_series(1, $N)"
done
# The target: password authentication for a role whose password is in a
# password file, nowhere else.
pg_psql dst "set password_encryption = 'scram-sha-256';
             create role counter login password '$S_PGPASS'; grant select on t to counter"
pg_as_user sh -c 'f="$1/pg_hba.conf"; { echo "local all counter scram-sha-256"; cat "$f"; } >"$f.new" && mv "$f.new" "$f"' \
	sh "$PG_DST_DATA"
(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$PG_DST_DATA" reload) >/dev/null 2>&1
sleep 0.5
# The source: over REST, with the key from key_env.
SUPA_SVC=$S_KEY
export SUPA_SVC
rest_start api src --key-env SUPA_SVC || exit 1

W=$PGC_TMP/work OUT=$PGC_TMP/out
mkdir -p "$W" "$OUT" "$PGC_TMP/home"
HOME=$PGC_TMP/home XDG_STATE_HOME=$PGC_TMP/home/.local/state XDG_CACHE_HOME=$PGC_TMP/home/.cache
PGCUTOVER_CACHE_DIR=$PGC_TMP/home/.cache/pgcutover
export HOME XDG_STATE_HOME XDG_CACHE_HOME PGCUTOVER_CACHE_DIR
printf '*:%s:*:counter:%s\n' "$PG_DST_PORT" "$S_PGPASS" >"$W/pgpass"
chmod 600 "$W/pgpass"
PGPASSFILE=$W/pgpass
export PGPASSFILE
PGC_LEAK_SECRET=$S_ENV PGC_OUT_TOKEN=$S_OUT
export PGC_LEAK_SECRET PGC_OUT_TOKEN
unset PGPASSWORD

cat >"$W/rb.md" <<EOF
# Leak test

## Phase 1: Work

- [ ] Use secrets
  \`\`\`sh
  export API_TOKEN=$S_CMD
  echo "token \$API_TOKEN env \$PGC_LEAK_SECRET"
  printf 'out %s' "\$(printf %s "\$PGC_OUT_TOKEN" | cut -c1-9)"
  sleep 0.3
  printf '%s done\n' "\$(printf %s "\$PGC_OUT_TOKEN" | cut -c10-)"
  \`\`\`
- [ ] Point the app at the new database
  \`\`\`sh
  DATABASE_URL=postgres://app:$S_RUNURL@db2:5432/app
  echo switched
  \`\`\`
- [ ] Fail, to send a notification
  \`\`\`sh
  echo "failing with \$PGC_LEAK_SECRET" >&2
  exit 3
  \`\`\`
EOF
cat >"$W/app.env" <<EOF
MODE=blue
DB_PASSWORD=$S_DOTENV
DATABASE_URL=postgres://app:$S_URL@db1:5432/app
EOF
chmod 600 "$W/app.env"
cat >"$W/pgcutover.json" <<EOF
{"runbook": "rb.md", "state": "state.db", "env_file": "app.env",
 "flags": ["MODE", "DATABASE_URL", "DB_PASSWORD"],
 "source": {"supabase": {"url": "$REST_API_URL", "key_env": "SUPA_SVC"}},
 "target": "host=$PGC_TMP/pg port=$PG_DST_PORT dbname=postgres user=counter",
 "tables": [{"name": "t"}],
 "notify": {"webhook": "http://127.0.0.1:9/hook/$S_HOOK?token=$S_HOOK"}}
EOF
cd "$W" || exit 1
touch "$PGC_TMP/marker"
k=0
P() {  # P NAME ARGS...: runs pgcutover, stdout and stderr kept in OUT
	k=$((k + 1))
	_n=$1; shift
	"$PGCUTOVER" -c "$W/pgcutover.json" "$@" >"$OUT/$k-$_n.out" 2>"$OUT/$k-$_n.err"
}
# Every secret the environment carries is in the environment of each run.
P run1 run 1.1 --yes; is "$?" 0 "run 1.1 (secrets in text, environment and output)"
like "$(cat "$OUT/$k-run1.out")" "out \\*\\*\\* done" "the token written in two pieces is masked live"
P run2 run 1.2 --yes; is "$?" 0 "run 1.2 (a URL with a password written to a flag)"
P run3 run 1.3 --yes; is "$?" 3 "run 1.3 fails (and notifies)"
like "$(cat "$OUT/$k-run3.err")" "notif|webhook" "the webhook was tried (and failed: nothing listens)"
P note1 note 1.1 "rotated $S_ENV and $S_DOTENV; db at postgres://app:$S_NOTE@db4/app"; is "$?" 0 "note"
P set1 flag set DATABASE_URL "postgres://app:$S_URL@db3:5432/app"; is "$?" 0 "flag set DATABASE_URL"
P set2 flag set DB_PASSWORD "$S_SET"; is "$?" 0 "flag set DB_PASSWORD"
P flags flags; is "$?" 0 "flags"
P flagsj flags --json; is "$?" 0 "flags --json"
P counts counts --exact; is "$?" 0 "counts over REST and a scram password from the password file"
P countsj counts --json --exact; is "$?" 0 "counts --json"
is "$(jq -r '.tables[0].target' "$OUT/$k-countsj.out")" "$N" "the target was counted (the password file was used)"
P log log; is "$?" 0 "log"
P logj log --json; is "$?" 0 "log --json"
P status status --json; is "$?" 0 "status --json"
P jsonl export --format jsonl -o "$W/export.jsonl"; is "$?" 0 "export jsonl"
P md export --format md -o "$W/export.md"; is "$?" 0 "export md"
P mdout export --format md; is "$?" 0 "export md to stdout"
P verify export --verify "$W/export.jsonl"; is "$?" 0 "export --verify"
[ -s state.db ] && [ -s export.jsonl ]; ok $? "the state and the exports are there"

# Everything pgcutover wrote since the marker, but the operator's secret
# stores (.env and its backups, the password file, the config).
files=$(find "$W" "$OUT" "$PGC_TMP/home" -type f -newer "$PGC_TMP/marker" \
	! -name 'app.env' ! -name 'app.env.bak-*' ! -name pgpass ! -name pgcutover.json | sort)
nfiles=$(printf '%s\n' "$files" | grep -c .)
diag "searched $nfiles files: $(printf '%s\n' "$files" | sed "s|$PGC_TMP/||" | tr '\n' ' ')"
printf '%s\n' "$files" | grep -q 'state.db-wal\|state.db$'; ok $? "the state is among them"
for v in $SECRETS; do
	eval "s=\$$v"
	hits=$(printf '%s\n' "$files" | while IFS= read -r f; do grep -l -a -F -- "$s" "$f"; done | sed "s|$PGC_TMP/||" | tr '\n' ' ')
	is "$hits" "" "$v: in no file pgcutover wrote, no output"
done

done_testing
