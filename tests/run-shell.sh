#!/bin/sh
# run-shell.sh -- runs every tests/integration/*.sh and tests/e2e/*.sh (or the
# ones named in $PGC_TESTS) and merges their TAP into one stream so the
# driver counts each case.  A script that dies without a plan is a failure.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export top_srcdir
n=0
scripts=${PGC_TESTS:-$(ls "$top_srcdir"/tests/integration/*.sh "$top_srcdir"/tests/e2e/*.sh 2>/dev/null)}
for t in $scripts; do
	name=$(basename "$(dirname "$t")")/$(basename "$t" .sh)
	out=$(mktemp)
	t0=$(date +%s)
	timeout "${PGC_TEST_TIMEOUT:-600}" sh "$t" >"$out" 2>"$out.err"
	rc=$?
	planned=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			n=$((n + 1))
			st=${line%% [0-9]*}
			rest=$(printf '%s' "$line" | sed -E 's/^(not )?ok [0-9]+ ?-? ?//')
			echo "$st $n - $name: $rest" ;;
		1..0*SKIP*|1..0*skip*)
			planned=1; n=$((n + 1))
			echo "ok $n - $name # SKIP ${line#*SKIP}" ;;
		1..*) planned=1 ;;
		*) echo "$line" ;;
		esac
	done <"$out"
	if [ "$planned" -eq 0 ] || { [ $rc -ne 0 ] && ! grep -q '^not ok' "$out"; }; then
		n=$((n + 1))
		echo "not ok $n - $name: script exited $rc without a complete plan"
		sed 's/^/#   /' "$out.err" | tail -20
	elif [ $rc -ne 0 ]; then
		sed 's/^/#   /' "$out.err" | tail -20
	fi
	echo "# $name: $(( $(date +%s) - t0 ))s"
	rm -f "$out" "$out.err"
done
echo "1..$n"
