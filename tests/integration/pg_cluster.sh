#!/bin/sh
# pg_cluster.sh -- tests/lib/pg.sh gives every test real, isolated PostgreSQL
# clusters: two start side by side, answer on their own Unix sockets, keep
# their data apart, stop and restart, and run unprivileged when we are root.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require

pg_start alpha; ok $? "first cluster starts"
pg_start beta;  ok $? "second cluster starts beside it"

like "$PG_ALPHA_CONNINFO" "^host=$PGC_TMP/pg port=[0-9]+ dbname=postgres user=pgcutover$" \
	"conninfo names the socket directory, port and superuser"
[ "$PG_ALPHA_PORT" != "$PG_BETA_PORT" ]; ok $? "the two clusters use different ports"

is "$(pg_psql alpha 'select 1 + 1')" "2" "query the first cluster"
pg_psql alpha "create table t(id int); insert into t select generate_series(1, 7)"
pg_psql beta  "create table t(id int); insert into t select generate_series(1, 3)"
is "$(pg_psql alpha 'select count(*) from t')" "7" "first cluster keeps its own rows"
is "$(pg_psql beta 'select count(*) from t')" "3" "second cluster keeps its own rows"

is "$(pg_psql alpha "select current_setting('listen_addresses')")" "" "no TCP listener"
is "$(pg_psql alpha "select current_setting('fsync')")" "off" "fsync off for speed"
is "$(pg_psql alpha 'select current_user')" "pgcutover" "superuser is pgcutover"

if [ "$(id -u)" -eq 0 ]; then
	srv_uid=$(stat -c %u "$PG_ALPHA_DATA")
	[ "$srv_uid" -ne 0 ]; ok $? "as root the data directory belongs to $PG_RUN_USER, not root"
fi

pg_stop beta
pg_psql beta 'select 1' >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "a stopped cluster refuses connections"
pg_start beta; ok $? "a stopped cluster starts again"
is "$(pg_psql beta 'select count(*) from t')" "3" "its data survived the restart"

tmp=$PGC_TMP
pid=$(head -1 "$PG_ALPHA_DATA/postmaster.pid")
# A zombie counts as gone: in a container nobody may reap the postmaster.
alive() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in ''|Z*) return 1 ;; esac; return 0; }
alive "$pid"; ok $? "server process $pid is running before clean-up"
( pg_cleanup )
[ ! -d "$tmp" ]; ok $? "clean-up removes the temporary directory"
alive "$pid"; [ $? -ne 0 ]; ok $? "clean-up stopped the servers"
PGC_TMP=""; PG_CLUSTERS=""
done_testing
