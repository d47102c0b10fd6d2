#!/bin/sh
# fuzz_regressions.sh -- replays every file kept for a fuzz target (each
# crash a fuzzer found, tests/fuzz/regressions/<name>/, and the seed corpus,
# tests/fuzz/corpus/<name>/) through tests/fuzz/replay_<name>: the target's
# own code and oracles with a plain main(), built by `make check` with the
# suite's compiler (and so under ASan and UBSan in the sanitizer build).
# Also fails when a tests/fuzz/fuzz_<name>.c has no replay program, so a new
# target cannot be left out of the suite.
. "$top_srcdir/tests/lib/tap.sh"
: "${top_builddir:=$top_srcdir/_build}"

# Runs bin over the files; on failure names the first file that fails.
replay() {  # replay BIN LABEL FILE...
	bin=$1; label=$2; shift 2
	if "$bin" "$@" >/dev/null 2>"$tmp/err"; then
		ok 0 "$label: $# files"
		return
	fi
	for f in "$@"; do
		if ! "$bin" "$f" >/dev/null 2>"$tmp/err"; then
			ok 1 "$label: $(basename "$f") fails"
			sed 's/^/#   /' "$tmp/err" | head -15
			return
		fi
	done
	ok 1 "$label: fails only when the files run together"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in "$top_srcdir"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	bin=$top_builddir/tests/fuzz/replay_$name
	if [ ! -x "$bin" ]; then
		ok 1 "fuzz_$name.c has a replay program (add tests/fuzz/replay_$name to fuzz_replays in Makefile.am)"
		continue
	fi
	set -- "$top_srcdir/tests/fuzz/regressions/$name"/*
	[ -e "$1" ] && replay "$bin" "fuzz $name regressions" "$@"
	set -- "$top_srcdir/tests/fuzz/corpus/$name"/*
	[ -e "$1" ] && replay "$bin" "fuzz $name seed corpus" "$@"
done
done_testing
