#!/bin/sh
# check_countdown.sh -- issue 15 items 2 and 3: countdown steps ("T-48 Hours
# (2 Days Before)", "T-2 Hours", "T+30 min") are offsets from go-time, not
# durations, and the duration under them is theirs; 12-hour windows
# ("(8:00 AM - 2:00 PM)") are the downtime plan; duration ranges
# ("15-30 minutes", "2-4 hours") keep both ends and the plan uses the upper.
# Once the downtime clock starts, countdown steps are placed from it.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"
cd "$T" || exit 1
cp "$top_srcdir/tests/fixtures/runbooks/countdown.md" rb.md

j=$($P check --json rb.md)
step() {   # step TITLE-PREFIX FIELD
	printf '%s' "$j" | jq -r --arg t "$1" --arg f "$2" '.schedule[] | select(.step | startswith($t)) | .[$f]'
}
is "$(step 'T-48 Hours' offset_min)" $((-48 * 60)) "T-48 Hours is 48 hours before go-time"
is "$(step 'T-48 Hours' duration_min)" 30 "its duration is the **Duration:** under it, not 48 h nor '2 Days Before'"
is "$(step 'T-2 Hours' offset_min)" -120 "T-2 Hours"
is "$(step 'T-2 Hours' duration_min)" 30 "'15-30 minutes': the plan uses the upper end"
is "$(step 'T-2 Hours' duration_min_low)" 15 "and keeps the lower one"
is "$(step 'T+30 min' offset_min)" 30 "T+30 min is after go-time"
is "$(step 'T+30 min' duration_min)" null "and no duration"
is "$(step 'Maintenance window' window_from)-$(step 'Maintenance window' window_to)" "08:00-14:00" \
   "(8:00 AM - 2:00 PM) is a window on the 24-hour clock"
is "$(step 'Stop writers' at)" 08:00 "8:00 AM is a start time"
is "$(step 'Go live' at)" 14:00 "2 PM alone is one too"
is "$(step 'Copy' duration_min_low)-$(step 'Copy' duration_min)" "120-240" "'(2-4 hours)' keeps both ends"

d=$($P -r rb.md downtime --json)
is "$(printf '%s' "$d" | jq .planned_s)" $((6 * 3600)) "the downtime plan is the 12-hour window: 6 hours"

$P -r rb.md downtime start >/dev/null; ok $? "downtime start (go-time)"
d=$($P -r rb.md downtime --json)
like "$(printf '%s' "$d" | jq -r '[.late_steps[].step] | join(",")')" "T-48 Hours.*T-2 Hours" \
     "at go-time the T-48 and T-2 steps still open are late"
is "$(printf '%s' "$d" | jq -r '[.late_steps[] | select(.step == "T+30 min")] | length')" 0 \
   "T+30 min is not due yet"
due=$(printf '%s' "$d" | jq -r '.late_steps[] | select(.step | startswith("T-2 Hours")) | .late_s')
ok "$([ "$due" -ge $(((120 - 30) * 60)) ] && [ "$due" -lt $(((120 - 30) * 60 + 60)) ]; echo $?)" \
   "T-2 Hours (30 min long) was due 90 minutes before go-time ($due s late)"
done_testing
