#!/bin/sh
# gen-runbook.sh -- writes a runbook with N checklist items (default 10000)
# in the shape real migration plans have: numbered phases at ## and ###,
# steps with schedule times, nested items, indented bash blocks with flag
# lines, checkpoints, a rollback step, emoji and a Post-Migration section.
# Used by bench/check.sh; usage: gen-runbook.sh [N] > runbook.md
N=${1:-10000}
awk -v n="$N" 'BEGIN {
	print "# 🚀 Bench migration: Supabase → PostgreSQL 16"
	print ""; print "**Status:** In progress"; print "**Date:** 2025-11-06"; print ""
	print "## Prerequisites"; print ""
	nphases = 8                       # 0, 0.8, 1..5 and post-migration
	split("0 0.8 1 2 3 4 5", ids, " ")
	per = int(n / nphases); made = 0
	for (p = 1; p <= nphases; p++) {
		if (p <= 2) printf "### ✅ Phase %s: Preparation part %d\n\n", ids[p], p
		else if (p < nphases) printf "## Phase %s: Work package %d (2 days)\n\n**Risk Level:** HIGH\n**Duration:** 2-4 hours\n\n", ids[p], p
		want = (p == nphases) ? n - made : per
		if (p == nphases) printf "## Post-Migration (30 days)\n\n"
		step = 0
		for (i = 0; i < want; i++) {
			if (i % 40 == 0) {
				step++
				h = (p <= 2) ? "####" : "###"
				if (i + 40 >= want && p == 7) printf "%s %d.%d Rollback (if needed)\n\n", h, p, step
				else printf "%s %d.%d Step %d (%02d:%02d, 10 min)\n\n", h, p, step, step, step % 24, (step * 7) % 60
			}
			if (i % 10 == 0) {
				printf "- [ ] Parent item %d with **bold** and a [link](https://example.invalid/%d)\n", i, i
			} else if (i % 10 == 5) {
				printf "  - [x] Nested item %d: check `table_%d` ______\n", i, i
				print  "    ```bash"
				print  "    ./scripts/compare-counts.sh table_" i
				print  "    USE_NEW_DB=true"
				print  "    ```"
			} else {
				printf "  - [ ] Nested item %d on table_%d (1,%03d records)\n", i, i, i % 1000
			}
			made++
			if (i % 40 == 39) printf "\n**Checkpoint:** step %d verified\n\n", step
		}
		print ""
	}
}'
