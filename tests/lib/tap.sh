# tap.sh -- TAP helpers for shell tests.  Source it; call ok/not_ok/is/like,
# then done_testing.  $PGCUTOVER is the binary under test.
TAP_N=0
TAP_FAILED=0
: "${PGCUTOVER:=pgcutover}"
# A script may define tap_fail_hook: it runs after a failed ok (the e2e
# scripts print the screen a wait timed out on).
tap_fail() { TAP_FAILED=$((TAP_FAILED + 1)); command -v tap_fail_hook >/dev/null 2>&1 && tap_fail_hook; return 0; }
ok() {  # ok COND_EXIT_STATUS NAME   e.g.  ok $? "name"  or  [ x = y ]; ok $? name
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; tap_fail; fi
}
is() {  # is GOT WANT NAME
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then echo "ok $TAP_N - $3"
	else echo "not ok $TAP_N - $3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; tap_fail; fi
}
like() {  # like GOT REGEX NAME
	TAP_N=$((TAP_N + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $TAP_N - $3"
	else echo "not ok $TAP_N - $3"; echo "#   got: '$(printf '%s' "$1" | head -c 600)'"; echo "#   want match: $2"; tap_fail; fi
}
unlike() {  # unlike GOT REGEX NAME
	TAP_N=$((TAP_N + 1))
	if ! printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $TAP_N - $3"
	else echo "not ok $TAP_N - $3"; echo "#   got: '$(printf '%s' "$1" | grep -E -- "$2" | head -c 600)'"; echo "#   want no match: $2"; tap_fail; fi
}
isnt() {  # isnt GOT UNWANTED NAME
	TAP_N=$((TAP_N + 1))
	if [ "$1" != "$2" ]; then echo "ok $TAP_N - $3"
	else echo "not ok $TAP_N - $3"; echo "#   got: '$1' (unwanted)"; tap_fail; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { echo "# $*"; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; exit $?; }
# JSON in tests is read with jq (installed by dev.sh).
