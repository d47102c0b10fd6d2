# rest.sh -- a PostgREST-compatible server for shell tests (POSIX sh), on
# top of tests/lib/pg.sh: tests/lib/postgrest-mini.py answering over
# loopback from a real PostgreSQL cluster started with pg_start.
#
#   . "$top_srcdir/tests/lib/tap.sh"; . "$top_srcdir/tests/lib/pg.sh"
#   . "$top_srcdir/tests/lib/rest.sh"
#   rest_require                  # skip_all without python3 (and pg_require)
#   pg_start src
#   SUPABASE_KEY=$(rest_new_key sb)   # random per run: never a fixture
#   rest_start api src [mini-server options...]
#       # exports REST_API_URL (http://127.0.0.1:PORT) and REST_API_LOG
#   rest_stop api
#
# The key is read by the server from the environment variable named by
# --key-env (default SUPABASE_KEY), so export it before rest_start.  Servers
# are killed by pg.sh's clean-up and also exit by themselves when the test
# shell goes away or after --lifetime seconds (default 300).

REST_SERVERS=""

rest_require() {
	command -v python3 >/dev/null 2>&1 ||
		skip_all "python3 is needed for the PostgREST test server (tests/lib/postgrest-mini.py); install python3"
	python3 -c 'import http.server, json, subprocess' 2>/dev/null ||
		skip_all "python3 lacks its standard library (http.server); install python3"
	pg_require
	# The test server is on loopback: a proxy from the environment must not
	# be asked for it.
	no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
	NO_PROXY=$no_proxy
	export no_proxy NO_PROXY
}

# rest_new_key sb|jwt -- a random key of the new (sb_secret_...) or the JWT shape.
rest_new_key() {
	_rk=$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
	case "$1" in
	jwt) printf 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.%s' "$_rk" ;;
	*)   printf 'sb_secret_%s' "$_rk" ;;
	esac
}

rest_start() {
	_rs_name=$1 _rs_db=$2
	shift 2
	_rs_v=$(pg_var "$_rs_name")
	_rs_dir="$PGC_TMP/rest-$_rs_name"
	mkdir -p "$_rs_dir"
	rm -f "$_rs_dir/port"
	python3 "$top_srcdir/tests/lib/postgrest-mini.py" --conninfo "$(pg_conninfo "$_rs_db")" \
		--psql "$(pg_psql_bin)" --port-file "$_rs_dir/port" --log "$_rs_dir/requests.log" --parent-pid $$ \
		"$@" >"$_rs_dir/stdout" 2>"$_rs_dir/stderr" &
	_rs_pid=$!
	pg_atexit "kill $_rs_pid 2>/dev/null"
	REST_SERVERS="$REST_SERVERS $_rs_name:$_rs_pid"
	# Wait for the port file (bounded: 10 s), or for the server to die.
	_rs_i=0
	while [ ! -s "$_rs_dir/port" ]; do
		if ! kill -0 "$_rs_pid" 2>/dev/null || [ $_rs_i -ge 100 ]; then
			echo "rest.sh: postgrest-mini '$_rs_name' did not start:" >&2
			cat "$_rs_dir/stderr" >&2
			return 1
		fi
		sleep 0.1
		_rs_i=$((_rs_i + 1))
	done
	eval "REST_${_rs_v}_URL=http://127.0.0.1:$(cat "$_rs_dir/port")"
	eval "REST_${_rs_v}_LOG=\$_rs_dir/requests.log"
	eval "REST_${_rs_v}_PID=\$_rs_pid"
	export "REST_${_rs_v}_URL" "REST_${_rs_v}_LOG"
}

rest_stop() {
	_rs_v=$(pg_var "$1")
	eval "_rs_pid=\${REST_${_rs_v}_PID:-}"
	[ -n "$_rs_pid" ] || return 0
	kill "$_rs_pid" 2>/dev/null
	wait "$_rs_pid" 2>/dev/null
	eval "REST_${_rs_v}_PID="
	return 0
}
