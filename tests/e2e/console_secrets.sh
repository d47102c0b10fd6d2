#!/bin/sh
# console_secrets.sh -- what the console shows of secrets: a command that
# exports a password and a token and echoes them (one of them in two
# writes) shows *** on the screen, in what it will run and in its output,
# and the flags panel shows a URL flag with *** for its password.  Each
# secret is random, and the captured screens are searched for every one.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"
rnd() { printf '%s%s' "$1" "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
S_PW=$(rnd pw) S_TOK=$(rnd tok) S_ENV=$(rnd env) S_URL=$(rnd url)

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
jq '.flags += ["DATABASE_URL"]' "$CFG" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
printf 'DATABASE_URL=postgres://app:%s@db1:5432/app\n' "$S_URL" >>"$D/.env"
awk -v pw="$S_PW" -v tk="$S_TOK" '
	{ print }
	/echo "using \$DEPLOY_TOKEN_NOT_SET"/ { getline; print
		print "- [ ] Leaky command"
		print "  ```sh"
		print "  export DB_PASSWORD=" pw " API_TOKEN=" tk
		print "  echo \"pw=$DB_PASSWORD tok=$API_TOKEN\""
		print "  printf \"env=%s\" \"$(printf %s \"$APP_SECRET\" | cut -c1-7)\"; sleep 0.3"
		print "  printf \"%s end\\n\" \"$(printf %s \"$APP_SECRET\" | cut -c8-)\""
		print "  ```"
	}' "$D/rb.md" >"$D/rb.new" && mv "$D/rb.new" "$D/rb.md"
E2E_ENV="APP_SECRET=$S_ENV"
shots=$E2E_DIR/screens
: >"$shots"
shot() { screen >>"$shots"; }

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Phase 1 · Preparation'
keys /; text "Leaky"; keys Enter; wait_screen 'found in 1\.9' 5
keys x
wait_screen 'pgcutover will run:' 5; ok $? "x shows what will run"
shot
like "$(screen)" 'DB_PASSWORD=\*\*\* API_TOKEN=\*\*\*' "the command shown with its secrets masked"
wait_screen 'Run 1\.9\? type the item id or yes, then Enter' 5
text yes; keys Enter
wait_screen '1\.9: ok, exit 0' 10; ok $? "the command ran"
shot
like "$(screen)" 'pw=\*\*\* tok=\*\*\*' "its output shows *** for what it exported"
like "$(screen)" 'env=\*\*\* end' "and for a secret written in two pieces"
keys Escape
keys F
wait_screen '\.env flags' 5; ok $? "F opens the flags panel"
wait_screen 'DATABASE_URL +postgres://app:\*\*\*@' 5; ok $? "a URL flag shown with *** for its password"
shot
keys Escape q
is "$(wait_exit 15)" 0 "quit"
for v in S_PW S_TOK S_ENV S_URL; do
	eval "s=\$$v"
	grep -q -F -- "$s" "$shots"; [ $? -ne 0 ]; ok $? "$v on no captured screen"
	hits=$(grep -l -a -F -- "$s" "$D"/state.db* 2>/dev/null | tr '\n' ' ')
	is "$hits" "" "$v in no state file"
done

done_testing
