#!/bin/sh
# counts_password.sh -- passwords reach the server only through libpq's own
# mechanisms (PGPASSWORD, a password file): the config holds none.  A wrong
# password makes the side unreachable (exit 69) with a message that names
# the server and user but never the password.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

pg_start src || exit 1
pg_start dst || exit 1

RIGHT="right-$(date +%s)-pw"
WRONG="wrong-$(date +%s)-pw"
N=13
for side in src dst; do
	pg_psql "$side" "create table t(id int primary key); insert into t select generate_series(1, $N)"
done
pg_psql dst "set password_encryption = 'scram-sha-256';
             create role counter login password '$RIGHT'; grant select on t to counter"
# the same grant on the source: `schema` compares grants and the roles they name
pg_psql src "create role counter login; grant select on t to counter"
# Password authentication for that role, first line wins.
pg_as_user sh -c 'f="$1/pg_hba.conf"; { echo "local all counter scram-sha-256"; cat "$f"; } >"$f.new" && mv "$f.new" "$f"' \
	sh "$PG_DST_DATA"
(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$PG_DST_DATA" reload) >/dev/null 2>&1
sleep 0.5

dst_ci="host=$PGC_TMP/pg port=$PG_DST_PORT dbname=postgres user=counter"
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<EOF
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$dst_ci", "tables": [{"name": "t"}]}
EOF

out=$(PGPASSWORD=$WRONG "$PGCUTOVER" -c "$cfg" counts --json --exact 2>"$PGC_TMP/err"); rc=$?
err=$(cat "$PGC_TMP/err")
is "$rc" 69 "wrong password: exit 69"
like "$err" "target unreachable: target \\(host=$PGC_TMP/pg port=$PG_DST_PORT dbname=postgres\\).*password authentication failed for user \"counter\"" \
	"the message names the server and the user"
case "$out$err" in *"$WRONG"*|*"$RIGHT"*) ok 1 "no password in the output" ;; *) ok 0 "no password in the output" ;; esac

out=$(PGPASSWORD=$RIGHT "$PGCUTOVER" -c "$cfg" counts --json --exact); rc=$?
is "$rc" 0 "password from PGPASSWORD: exit 0"
is "$(printf '%s' "$out" | jq -r '.tables[0].target')" "$N" "counted as the password role"

printf '%s:%s:postgres:counter:%s\n' "$PGC_TMP/pg" "$PG_DST_PORT" "$RIGHT" >"$PGC_TMP/pgpass"
chmod 600 "$PGC_TMP/pgpass"
out=$(env -u PGPASSWORD PGPASSFILE="$PGC_TMP/pgpass" "$PGCUTOVER" -c "$cfg" counts --json --exact); rc=$?
is "$rc" 0 "password from a password file (PGPASSFILE): exit 0"

out=$(env -u PGPASSWORD PGPASSFILE="$PGC_TMP/pgpass" "$PGCUTOVER" -c "$cfg" schema --json); rc=$?
is "$rc" 0 "schema uses the same libpq mechanisms"

done_testing
