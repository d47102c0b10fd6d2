#!/bin/sh
# demo_usage.sh -- `pgcutover demo` refuses bad options with exit 64, never
# touches a directory that is not its own (exit 73, contents kept), and
# `--stop` on a directory without a demo is a harmless no-op; without
# PostgreSQL binaries it says so (exit 69) and creates nothing.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PGCUTOVER" demo --rows 5 --dir "$tmp/x" --no-console </dev/null >/dev/null 2>&1
is "$?" "64" "--rows below the minimum is a usage error"
"$PGCUTOVER" demo --rows lots --dir "$tmp/x" --no-console </dev/null >/dev/null 2>&1
is "$?" "64" "--rows that is not a number is a usage error"
"$PGCUTOVER" demo --dir </dev/null >/dev/null 2>&1
is "$?" "64" "--dir without a value is a usage error"
"$PGCUTOVER" demo --frobnicate </dev/null >/dev/null 2>&1
is "$?" "64" "an unknown option is a usage error"
[ ! -e "$tmp/x" ]; ok $? "usage errors create nothing"

err=$(PGCUTOVER_PG_BINDIR=$tmp/nowhere "$PGCUTOVER" demo --dir "$tmp/y" --no-console </dev/null 2>&1 >/dev/null)
is "$?" "69" "no PostgreSQL binaries: exit 69 (unavailable)"
like "$err" "initdb" "and the message names what is missing"
[ ! -e "$tmp/y" ]; ok $? "and nothing is created"

mkdir "$tmp/mine"
echo "precious" >"$tmp/mine/notes.txt"
if pg_find_bindir; then
	err=$("$PGCUTOVER" demo --dir "$tmp/mine" --no-console </dev/null 2>&1 >/dev/null)
	is "$?" "73" "a non-empty directory that is not a demo is refused"
	like "$err" "not a demo directory" "and the message says why"
	is "$(cat "$tmp/mine/notes.txt")" "precious" "its contents are untouched"
	if [ "$(id -u)" -eq 0 ]; then
		# /tmp is shared: a directory someone else made first is not ours.
		mkdir "$tmp/theirs"
		printf 'created_dir=1\ncomplete=1\n' >"$tmp/theirs/.pgcutover-demo"
		chown -R nobody "$tmp/theirs"
		err=$("$PGCUTOVER" demo --dir "$tmp/theirs" --no-console </dev/null 2>&1 >/dev/null)
		is "$?" "73" "a demo directory owned by another user is refused"
		"$PGCUTOVER" demo --stop --dir "$tmp/theirs" </dev/null >/dev/null 2>&1
		is "$?" "73" "and --stop will not remove it"
		[ -f "$tmp/theirs/.pgcutover-demo" ]; ok $? "its files are still there"
	fi
fi

"$PGCUTOVER" demo --stop --dir "$tmp/mine" </dev/null >/dev/null 2>&1
is "$?" "0" "--stop where there is no demo exits 0"
[ -f "$tmp/mine/notes.txt" ]; ok $? "--stop removes nothing from a directory without a demo"
done_testing
