# pg.sh -- real, throw-away PostgreSQL clusters for shell tests (POSIX sh).
#
# Usage, after sourcing tests/lib/tap.sh:
#
#   . "$top_srcdir/tests/lib/pg.sh"
#   pg_require                 # skip_all unless initdb/pg_ctl/postgres exist
#   pg_start src               # initdb + start; exports PG_SRC_CONNINFO,
#   pg_start dst               #   PG_SRC_PORT, PG_SRC_DATA (name upper-cased)
#   pg_psql src "select count(*) from t"   # prints unaligned tuples only
#   pg_psql_file src FILE      # runs an SQL file (ON_ERROR_STOP)
#   pg_stop dst                # stop one (pg_start again restarts it)
#   pg_conninfo src            # prints the conninfo; pg_psql_bin the psql
#   pg_tmp                     # just $PGC_TMP and the trap, no cluster
#
# Everything lives in $PGC_TMP (mktemp -d in $PGC_TMPROOT, default /tmp),
# which pg_tmp creates and an EXIT trap removes after stopping every cluster
# (register more clean-up commands with `pg_atexit 'cmd'`; do not install
# your own EXIT trap).  Clusters listen
# on a Unix socket in $PGC_TMP/pg only (listen_addresses=''), trust auth, user
# `pgcutover`, fsync off; set PG_<NAME>_PORT before pg_start to pick a port,
# PG_<NAME>_CONF to add postgresql.conf lines (wal_level = logical ...).
# Binaries: $PGCUTOVER_PG_BINDIR (as for `pgcutover demo`), else initdb on
# PATH, else /usr/lib/postgresql/15/bin, else the newest
# /usr/lib/postgresql/*/bin.  New clusters are copies of a cached initdb
# template in $PGC_TMPROOT or /tmp (PGC_NO_INITDB_CACHE=1: run initdb every
# time).
# As root the server runs as `postgres` (or `nobody`) via runuser/setpriv,
# because PostgreSQL refuses to run as root; $PG_RUN_USER names that user and
# `pg_as_user CMD...` runs a command the same way.

PG_SUPERUSER=pgcutover
PG_CLUSTERS=""
PG_ATEXIT=""
PG_NEXT_PORT=""
PG_RUN_USER=""

# Locates the server binaries into PG_BINDIR; returns 1 when there are none.
pg_find_bindir() {
	[ -n "${PG_BINDIR:-}" ] && return 0
	for _pg_d in "${PGCUTOVER_PG_BINDIR:-}" "${PGC_PG_BINDIR:-}" \
		"$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent/x)" 2>/dev/null || echo /nonexistent/x)")" \
		/usr/lib/postgresql/15/bin \
		$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		[ -n "$_pg_d" ] || continue
		if [ -x "$_pg_d/initdb" ] && [ -x "$_pg_d/pg_ctl" ]; then
			PG_BINDIR=$_pg_d
			return 0
		fi
	done
	return 1
}

pg_require() {
	pg_find_bindir || skip_all "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; install the postgresql package"
	if [ "$(id -u)" -eq 0 ]; then
		if id postgres >/dev/null 2>&1; then PG_RUN_USER=postgres; else PG_RUN_USER=nobody; fi
		command -v runuser >/dev/null 2>&1 || command -v setpriv >/dev/null 2>&1 ||
			skip_all "running as root but neither runuser nor setpriv is available to drop privileges for PostgreSQL"
	fi
	return 0
}

# Runs a command as the unprivileged server user when root, else as is.
pg_as_user() {
	if [ -z "$PG_RUN_USER" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$PG_RUN_USER" -- "$@"
	else
		setpriv --reuid="$PG_RUN_USER" --regid="$(id -g "$PG_RUN_USER")" --init-groups -- "$@"
	fi
}

pg_atexit() { PG_ATEXIT="$PG_ATEXIT
$1"; }

pg_cleanup() {
	for _pg_n in $PG_CLUSTERS; do
		pg_stop "$_pg_n" >/dev/null 2>&1
	done
	PG_CLUSTERS=""
	if [ -n "$PG_ATEXIT" ]; then
		eval "$PG_ATEXIT"
		PG_ATEXIT=""
	fi
	[ -n "${PGC_TMP:-}" ] && [ -d "$PGC_TMP" ] && rm -rf "$PGC_TMP"
	PGC_TMP=""
}

# Creates $PGC_TMP once per test and installs the clean-up trap.
pg_tmp() {
	[ -n "${PGC_TMP:-}" ] && [ -d "$PGC_TMP" ] && return 0
	# /tmp keeps the socket path short (108 bytes at most) and is traversable
	# by the unprivileged user; $TMPDIR might not be.  `dev.sh test` sets
	# PGC_TMPROOT to a short, traversable directory of the run's own.
	PGC_TMP=$(mktemp -d "${PGC_TMPROOT:-/tmp}/pgc.XXXXXX") || { echo "pg.sh: mktemp failed" >&2; exit 1; }
	export PGC_TMP
	trap 'pg_cleanup' EXIT
	trap 'pg_cleanup; exit 130' INT
	trap 'pg_cleanup; exit 143' TERM
	mkdir "$PGC_TMP/pg"
	if [ -n "$PG_RUN_USER" ]; then
		chmod 0711 "$PGC_TMP"
		chown "$PG_RUN_USER" "$PGC_TMP/pg"
	fi
}

# Upper-cased variable-safe name: src-db -> SRC_DB.
pg_var() { printf '%s' "$1" | tr 'a-z-' 'A-Z_' | tr -cd 'A-Z0-9_'; }

# initdb into DIR.  A fresh cluster is always the same, so the first one
# is kept as a template (per user and binaries, in /tmp) and later ones are
# copies: cp is several times faster than initdb.  PGC_NO_INITDB_CACHE=1
# turns that off.
pg_initdb() {
	_pg_i_args="--auth=trust -U $PG_SUPERUSER -E UTF8 --locale=C --no-sync"
	if [ "${PGC_NO_INITDB_CACHE:-0}" = 1 ]; then
		(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/initdb" -D "$1" $_pg_i_args) >"$2" 2>&1
		return $?
	fi
	_pg_i_key=$(printf '%s %s' "$PG_BINDIR" "$_pg_i_args" | cksum | cut -d' ' -f1)
	_pg_i_tpl=${PGC_TMPROOT:-/tmp}/pgc-initdb-$(id -u)-$_pg_i_key
	# /tmp is shared: only a template made by us (or our server user) counts.
	if [ -e "$_pg_i_tpl" ] && [ "$(stat -c %U "$_pg_i_tpl")" != "${PG_RUN_USER:-$(id -un)}" ]; then
		(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/initdb" -D "$1" $_pg_i_args) >"$2" 2>&1
		return $?
	fi
	if [ ! -f "$_pg_i_tpl/data/PG_VERSION" ] || [ ! -f "$_pg_i_tpl/complete" ]; then
		# Built aside and renamed into place, so a concurrent test never
		# copies a half-made template.
		_pg_i_new=$(mktemp -d "${PGC_TMPROOT:-/tmp}/pgc-initdb-new.XXXXXX") || return 1
		[ -n "$PG_RUN_USER" ] && chown "$PG_RUN_USER" "$_pg_i_new" && chmod 0755 "$_pg_i_new"
		(cd "$_pg_i_new" && pg_as_user "$PG_BINDIR/initdb" -D "$_pg_i_new/data" $_pg_i_args) >"$2" 2>&1 || {
			rm -rf "$_pg_i_new"
			return 1
		}
		touch "$_pg_i_new/complete"
		mv -T "$_pg_i_new" "$_pg_i_tpl" 2>/dev/null || rm -rf "$_pg_i_new"
	fi
	cp -a "$_pg_i_tpl/data" "$1" 2>>"$2" && [ -f "$_pg_i_tpl/complete" ]
}

pg_start() {
	_pg_name=$1
	case "$_pg_name" in
	''|*[!a-z0-9_-]*) echo "pg.sh: cluster name must be [a-z0-9_-]+: '$_pg_name'" >&2; return 1 ;;
	esac
	pg_require
	pg_tmp
	_pg_v=$(pg_var "$_pg_name")
	_pg_data="$PGC_TMP/pg/$_pg_name"
	_pg_sock="$PGC_TMP/pg"
	_pg_log="$PGC_TMP/pg/$_pg_name.log"
	eval "_pg_port=\${PG_${_pg_v}_PORT:-}"
	if [ -z "$_pg_port" ]; then
		# Sockets live in this test's own directory, so the port only has to
		# differ from the other clusters here; the pid spreads it further.
		[ -n "$PG_NEXT_PORT" ] || PG_NEXT_PORT=$((20000 + ($$ % 20000) * 2))
		_pg_port=$PG_NEXT_PORT
		while [ -e "$_pg_sock/.s.PGSQL.$_pg_port" ] || [ -e "$_pg_sock/.s.PGSQL.$_pg_port.lock" ]; do
			_pg_port=$((_pg_port + 1))
		done
		PG_NEXT_PORT=$((_pg_port + 1))
	fi
	if [ ! -f "$_pg_data/PG_VERSION" ]; then
		pg_initdb "$_pg_data" "$PGC_TMP/$_pg_name.initdb.log" || {
			echo "pg.sh: initdb for '$_pg_name' failed:" >&2
			tail -20 "$PGC_TMP/$_pg_name.initdb.log" >&2
			return 1
		}
		pg_as_user sh -c 'cat >>"$1"' sh "$_pg_data/postgresql.conf" <<EOF
# added by tests/lib/pg.sh
listen_addresses = ''
unix_socket_directories = '$_pg_sock'
port = $_pg_port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
EOF
		# Extra settings for this cluster, e.g. PG_SRC_CONF='wal_level = logical'.
		eval "_pg_extra=\${PG_${_pg_v}_CONF:-}"
		[ -n "$_pg_extra" ] && printf '%s\n' "$_pg_extra" | pg_as_user sh -c 'cat >>"$1"' sh "$_pg_data/postgresql.conf"
	fi
	(cd "$_pg_sock" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$_pg_data" -l "$_pg_log" -w -t 60 start) >/dev/null 2>&1 || {
		echo "pg.sh: pg_ctl start for '$_pg_name' failed:" >&2
		tail -20 "$_pg_log" >&2
		return 1
	}
	case " $PG_CLUSTERS " in *" $_pg_name "*) ;; *) PG_CLUSTERS="$PG_CLUSTERS $_pg_name" ;; esac
	eval "PG_${_pg_v}_PORT=$_pg_port; PG_${_pg_v}_DATA=\$_pg_data"
	eval "PG_${_pg_v}_CONNINFO=\"host=\$_pg_sock port=\$_pg_port dbname=postgres user=\$PG_SUPERUSER\""
	export "PG_${_pg_v}_PORT" "PG_${_pg_v}_DATA" "PG_${_pg_v}_CONNINFO"
}

pg_stop() {
	_pg_v=$(pg_var "$1")
	eval "_pg_data=\${PG_${_pg_v}_DATA:-}"
	[ -n "$_pg_data" ] || return 0
	(cd "$PGC_TMP/pg" && pg_as_user "$PG_BINDIR/pg_ctl" -D "$_pg_data" -m fast -w -t 60 stop) >/dev/null 2>&1
}

pg_conninfo() { _pg_v=$(pg_var "$1"); eval "printf '%s' \"\$PG_${_pg_v}_CONNINFO\""; }

pg_psql_bin() {
	if [ -x "$PG_BINDIR/psql" ]; then echo "$PG_BINDIR/psql"; else echo psql; fi
}

pg_psql() {
	"$(pg_psql_bin)" "$(pg_conninfo "$1")" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2"
}

pg_psql_file() {
	"$(pg_psql_bin)" "$(pg_conninfo "$1")" -X -q -A -t -v ON_ERROR_STOP=1 -f "$2"
}
