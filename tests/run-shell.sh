#!/bin/sh
# run-shell.sh -- runs every tests/integration/*.sh and tests/e2e/*.sh (or the
# ones named in $PGC_TESTS) and merges their TAP into one stream so the
# driver counts each case.  Scripts run $PGC_TEST_JOBS at a time (default 3:
# most of their time is spent waiting on PostgreSQL and tmux, not on a CPU);
# their output is merged in name order.  A script that dies without a plan
# is a failure.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export top_srcdir
scripts=${PGC_TESTS:-$(ls "$top_srcdir"/tests/integration/*.sh "$top_srcdir"/tests/e2e/*.sh 2>/dev/null)}
outdir=$(mktemp -d)
trap 'rm -rf "$outdir"' EXIT INT TERM

i=0
for t in $scripts; do
	i=$((i + 1))
	printf '%s\t%04d\n' "$t" "$i"
done | xargs -P "${PGC_TEST_JOBS:-3}" -L 1 sh -c '
	d=$0; t=$1; k=$2
	t0=$(date +%s)
	# a JSONL replay caches its import: in the test'"'"'s own directory, not ~/.cache
	PGCUTOVER_CACHE_DIR="$d/cache.$k" timeout "${PGC_TEST_TIMEOUT:-600}" sh "$t" >"$d/$k.out" 2>"$d/$k.err"
	echo $? >"$d/$k.rc"
	echo $(( $(date +%s) - t0 )) >"$d/$k.secs"
' "$outdir"

n=0
i=0
for t in $scripts; do
	i=$((i + 1))
	k=$(printf '%04d' "$i")
	out="$outdir/$k.out"
	name=$(basename "$(dirname "$t")")/$(basename "$t" .sh)
	rc=$(cat "$outdir/$k.rc" 2>/dev/null || echo 1)
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
	if [ "$planned" -eq 0 ] || { [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; }; then
		n=$((n + 1))
		echo "not ok $n - $name: script exited $rc without a complete plan"
		sed 's/^/#   /' "$outdir/$k.err" | tail -20
	elif [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' "$outdir/$k.err" | tail -20
	fi
	echo "# $name: $(cat "$outdir/$k.secs" 2>/dev/null)s"
done
echo "1..$n"
