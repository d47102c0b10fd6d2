# actions.sh -- fixture for the actions tests: a small runbook with command
# blocks, a pgcutover.json naming a .env with two flags, the .env itself
# (mode 0640, comments, `export`), and svc.sh, a fake service manager that
# stands in for pm2 (start writes app.pid for a background process, stop
# kills it; left running, it ends once DIR is removed).  Source it, then: act_fixture DIR [COMMAND_TIMEOUT_S].
# No database is needed; the state file is DIR/state.db.

act_fixture() {
	_d=$1
	_timeout=${2:-60}
	mkdir -p "$_d"
	cat >"$_d/svc.sh" <<'SVC'
#!/bin/sh
# fake pm2: start | stop | status, pid in ./app.pid
case "$1" in
start)
	# The app lives until stopped or until this directory goes (the test's
	# clean-up), so none outlives its test.
	nohup sh -c 'while [ -d "$1" ]; do sleep 1; done' app "$PWD" >/dev/null 2>&1 &
	echo $! >app.pid
	echo "app started" ;;
stop)
	if [ -f app.pid ]; then kill "$(cat app.pid)" 2>/dev/null; rm -f app.pid; fi
	echo "app stopped" ;;
status)
	[ -f app.pid ] && kill -0 "$(cat app.pid)" 2>/dev/null ;;
esac
SVC
	chmod 755 "$_d/svc.sh"
	cat >"$_d/rb.md" <<'RB'
# Fixture cutover

## Phase 1: Preparation

- [ ] Greet
  ```bash
  echo "hello from $PGCUTOVER_ITEM"
  ```
- [ ] Fail with seven
  ```sh
  echo "about to fail" >&2
  exit 7
  ```
- [ ] Big output
  ```sh
  head -c 10000000 /dev/zero | tr '\0' x
  ```
- [ ] Escapes
  ```sh
  printf '\033[31mRED\033[0m \033]0;pwned\007 done\n'
  ```
- [ ] Sleep a long time
  ```sh
  sleep 300 &
  echo $! >sleeper.pid
  wait
  ```
- [ ] Print a secret
  ```sh
  echo "password is $APP_DB_PASSWORD"
  ```
- [ ] Needs a variable
  ```sh
  echo "deploying $RELEASE_TAG_NOT_SET"
  ```
- [ ] Needs a secret
  ```sh
  echo "using $DEPLOY_TOKEN_NOT_SET"
  ```

## Phase 5: Production Cutover

### 5.1 Cutover Window (02:00-03:00)

- [ ] Switch to the new database
  ```sh
  ./svc.sh stop
  USE_NEW_DB=true
  USE_LEGACY_SUPABASE=false
  ./svc.sh start
  ```

### 5.4 Rollback (if needed)

- [ ] Restart on the old database
  ```sh
  ./svc.sh stop
  ./svc.sh start
  ```
RB
	# "switch": false: these tests run the cutover's flag flip for what
	# they test (run, flags, rollback); the go/no-go gate on it has its own
	# (go_gate.sh, console_goboard.sh)
	cat >"$_d/pgcutover.json" <<CFG
{
  "runbook": "rb.md",
  "state": "state.db",
  "env_file": ".env",
  "flags": ["USE_NEW_DB", "USE_LEGACY_SUPABASE"],
  "command_timeout": $_timeout,
  "switch": false
}
CFG
	cat >"$_d/.env" <<'ENV'
# Application settings (kept by the operator)
USE_LEGACY_SUPABASE=true

export USE_NEW_DB=false   # flipped on cutover night
APP_NAME="booking bot"
ENV
	chmod 640 "$_d/.env"
}

# Events of a kind from `pgcutover log --json`, one JSON object per line.
act_events() {
	"$PGCUTOVER" -c "$1/pgcutover.json" log --json | jq -c ".[] | select(.kind == \"$2\")"
}

# Is pid alive?  A zombie (killed, not yet reaped by whoever adopted it)
# counts as gone.
act_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in Z*|"") return 1 ;; esac
	return 0
}
