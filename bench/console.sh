#!/bin/sh
# console.sh -- console benchmark through tmux on a generated 10,000-item
# runbook: key press to updated frame (send a key with send-keys, poll
# capture-pane until the screen differs from the frame before) for N
# cursor moves (j) and a few ticks (Space, an fsynced event each), plus the
# console's RSS from /proc/PID/status.  Prints p50/p99 against the 30 ms
# target and RSS against 20 MB, as ratios (< 1.00 is within target).
#
#   PGCUTOVER=./pgcutover sh bench/console.sh [ITEMS] [KEYS]
#   COUNTS_FROM=DIR/pgcutover.json ... also counts live while keys are sent:
#     the source, target and tables of that config (e.g. the demo's, loaded
#     with `pgcutover demo --rows 10000000`); `e` (exact count(*) of every
#     table) is sent, unmeasured, every EVERY samples so counts stay in
#     flight, and the report says how many samples had counts running.
#   VERIFY=1 (with COUNTS_FROM): a row-level verify of those tables runs in
#     the background while the keys are measured (V starts it, V again
#     hides its screen); the report says whether it was still running at
#     the end.
# The tmux figures include tmux's own work and the capture round trips, so
# they are an upper bound of what the operator sees; the console also
# writes its own input-to-frame time per key (PGCUTOVER_UI_TRACE), reported
# as "in-process".  On a loaded machine the difference is scheduling.
# LESS_TOO=1 (default) also times `less` scrolling as many lines in the same
# tmux and prints the console/less ratio of the j p99.
# The control-mode client is checked in the same run against an independent
# method (XCHECK=N j presses timed by polling capture-pane with one tmux
# process per poll until the selected row changes).
set -eu
: "${PGCUTOVER:=pgcutover}"
ITEMS=${1:-10000}
KEYS=${2:-300}
TICKS=${TICKS:-20}
TARGET_MS=30
TARGET_RSS_KB=$((20 * 1024))
PHASES=${PHASES:-"0 1 2 3 4 5"}   # PHASES=3 puts every item in one phase

command -v tmux >/dev/null || { echo "bench/console.sh: tmux is required" >&2; exit 1; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgc-bench.XXXXXX")
SOCK="pgc-bench-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$DIR"' EXIT INT TERM

# ---- a runbook in the shape operators write: phases, steps, nested items ----
awk -v items="$ITEMS" -v phases="$PHASES" 'BEGIN {
	n = split(phases, ph, " ");
	per = int(items / n);
	print "# Stress: 10,000 items → somewhere else\n";
	made = 0;
	for (p = 1; p <= n; p++) {
		printf "## Phase %s: Stress phase %s\n\n**Risk Level:** %s\n\n", ph[p], ph[p], (p % 2 ? "HIGH" : "LOW");
		want = (p == n) ? items - made : per;
		for (i = 1; i <= want; i++) {
			if (i % 25 == 1)
				printf "\n### %s.%d Step %d (%02d:%02d, 10 min)\n\n", ph[p], int(i / 25) + 1, int(i / 25) + 1, int(i / 25) % 24, (i * 7) % 60;
			depth = (i % 5 == 2 || i % 5 == 3) ? 1 : (i % 5 == 4 ? 2 : 0);
			pad = sprintf("%" depth * 2 "s", "");
			printf "%s- [ ] item %d of phase %s: copy table_%d (%d records)\n", pad, i, ph[p], i, i * 37;
			if (i % 50 == 0)
				printf "%s  ```bash\n%s  ./scripts/check.sh table_%d\n%s  ```\n", pad, pad, i, pad;
			made++;
		}
		printf "\n**Checkpoint:** phase %s verified\n\n", ph[p];
	}
}' > "$DIR/runbook.md"
printf '{"runbook": "runbook.md", "state": "state.db", "source": "host=/nonexistent", "target": "host=/nonexistent"}\n' > "$DIR/pgcutover.json"
EVERY=${EVERY:-25}
AFTER_J=""
if [ -n "${COUNTS_FROM:-}" ]; then
	[ -r "$COUNTS_FROM" ] || { echo "bench/console.sh: COUNTS_FROM: cannot read $COUNTS_FROM" >&2; exit 2; }
	jq --slurpfile c "$COUNTS_FROM" '.source = $c[0].source | .target = $c[0].target | .tables = $c[0].tables' \
		"$DIR/pgcutover.json" > "$DIR/cfg.tmp" && mv "$DIR/cfg.tmp" "$DIR/pgcutover.json"
	AFTER_J=":e:$EVERY"
	echo "counting live: $(jq -r '.tables | length' "$DIR/pgcutover.json") tables of $COUNTS_FROM, e every $EVERY samples"
fi
got=$("$PGCUTOVER" check --json "$DIR/runbook.md" | jq '[.phases[].items] | add')
echo "runbook: $got items in $(echo $PHASES | wc -w) phases"

tm new-session -d -s b -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 PGCUTOVER_UI_TRACE='$DIR/trace.txt' '$PGCUTOVER' -c '$DIR/pgcutover.json' --operator bench console; sleep 600"
until tm capture-pane -p -t =b: | grep -q 'DRIVER'; do sleep 0.05; done
if [ "${LESS_TOO:-1}" = 1 ] && command -v less >/dev/null; then
	# made now, beside the console: a new session after the measurements
	# made tmux 3.3a's server exit here
	awk -v n="$ITEMS" 'BEGIN { for (i = 1; i <= n; i++) printf "line %d of the runbook: copy table_%d\n", i, i }' > "$DIR/less.txt"
	tm new-session -d -s l -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 less '$DIR/less.txt'; sleep 600"
	until tm capture-pane -p -t =l: | grep -q 'line 1 of'; do sleep 0.05; done
fi
pid=$(pgrep -n -f -- "-c $DIR/pgcutover.json --operator bench console")
tm send-keys -t =b: 3
until tm capture-pane -p -t =b: | grep -q 'Phase 3 · Stress'; do sleep 0.05; done
if [ "${VERIFY:-0}" = 1 ] && [ -n "${COUNTS_FROM:-}" ]; then
	tm send-keys -t =b: V
	until tm capture-pane -p -t =b: | grep -q 'verifying\.\.\.'; do sleep 0.05; done
	tm send-keys -t =b: V   # hides its screen; the run goes on
	until tm capture-pane -p -t =b: | grep -q 'verify goes on in the background'; do sleep 0.05; done
	echo "verify running in the background while keys are measured"
fi

# The measuring client is one persistent tmux control-mode client (python3):
# spawning a tmux process per poll would measure process start-up instead.
# t0 = just before send-keys is written; t1 = arrival of the pane output
# after which capture-pane shows the changed frame.  The header clock
# repaints once a second, so output alone is not taken as the answer.
cat > "$DIR/measure.py" <<'PY'
import os, subprocess, sys, time, select
sock, target, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
session, target = target, target + ":"   # "=b": exactly session b ("b" alone
                                         # also matches a window named bash)
plan = [a.split(":") for a in sys.argv[4:]]
p = subprocess.Popen(["tmux", "-L", sock, "-f", "/dev/null", "-C", "attach", "-t", session],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
buf = b""
def lines(timeout):
    global buf
    end = time.perf_counter() + timeout
    while True:
        while b"\n" in buf:
            l, buf = buf.split(b"\n", 1)
            yield l, time.perf_counter()
        left = end - time.perf_counter()
        if left <= 0:
            return
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            return
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            return
        buf += chunk
outputs = 0
# tmux -C answers every command with a %begin/%end (or %error) block whose
# third field is 1 for a command this client sent; the attach given on the
# command line gets a block of its own first, with flags 0.  Taking that
# block as the first command's reply would shift every reply by one (each
# screen read would be the one before), so only flags-1 blocks count, and
# the n-th of them answers the n-th command sent.
sent = 0
answered = 0
def command(cmd):
    global outputs, sent, answered
    p.stdin.write((cmd + "\n").encode())
    sent += 1
    out, inblock, mine, seen_output = [], False, False, False
    for l, t in lines(10):
        if l.startswith(b"%begin"):
            f = l.split()
            inblock, mine = True, len(f) >= 4 and f[3] == b"1"
            out = []
            continue
        if inblock and (l.startswith(b"%end") or l.startswith(b"%error")):
            inblock = False
            if not mine:
                continue
            answered += 1
            if answered == sent:
                return out, seen_output
            continue   # an older command's late reply
        if inblock:
            out.append(l)
        elif l.startswith(b"%output"):
            seen_output = True
            outputs += 1
    sys.exit("measure.py: no reply to %r within 10 s" % cmd)
command("refresh-client -C 120x40")
def screen():
    # -e: a change of attributes only (Tab moves the focus highlight) is a
    # new frame too
    return command("capture-pane -p -e -t " + target)[0]
def settle():
    for _ in lines(0.05):
        pass
for entry in plan:
    # KEY:COUNT[:AFTER] -- AFTER is sent unmeasured after each sample
    key, count = entry[0], entry[1]
    after = entry[2] if len(entry) > 2 else None
    every = int(entry[3]) if len(entry) > 3 else 1
    res = []
    for i in range(int(count)):
        settle()
        before = screen()
        t0 = time.perf_counter()
        command("send-keys -t %s %s" % (target, key))
        t1 = None
        while t1 is None:
            n = outputs
            if screen() != before:
                t1 = time.perf_counter()
                break
            if outputs != n:
                continue   # output came in during the capture: look again
            got = False
            for l, t in lines(5):
                if l.startswith(b"%output"):
                    outputs += 1
                    got = True
                    break
            if not got:
                break
        if t1 is not None:
            res.append((t1 - t0) * 1000.0)
        if after and i % every == 0:
            command("send-keys -t %s %s" % (target, after))
    with open(os.path.join(outdir, key + ".txt"), "w") as f:
        f.write("".join("%.3f\n" % v for v in res))
p.stdin.close()
PY

# The independent check of the client above: no control mode at all; after
# each j, a new `tmux capture-pane -e` process per poll until the selected
# (reverse-video) row shows another item.  Each poll costs a process start,
# so this reads a few ms high; it must agree with the control-mode figures
# within that, or the measuring client is wrong.
cat > "$DIR/xcheck.py" <<'PY'
import subprocess, sys, time
sock, target, out, n = sys.argv[1], sys.argv[2] + ":", sys.argv[3], int(sys.argv[4])
tm = ["tmux", "-L", sock, "-f", "/dev/null"]
def selected():
    s = subprocess.run(tm + ["capture-pane", "-p", "-e", "-t", target], capture_output=True).stdout
    return [l for l in s.split(b"\n") if b"\x1b[7m" in l]
res = []
for i in range(n):
    time.sleep(0.05)
    before = selected()
    t0 = time.perf_counter()
    subprocess.run(tm + ["send-keys", "-t", target, "j"])
    while time.perf_counter() - t0 < 5:
        if selected() != before:
            res.append((time.perf_counter() - t0) * 1000.0)
            break
with open(out, "w") as f:
    f.write("".join("%.3f\n" % v for v in res))
costs = []
for i in range(20):
    t0 = time.perf_counter()
    selected()
    costs.append((time.perf_counter() - t0) * 1000.0)
costs.sort()
with open(out + ".poll", "w") as f:
    f.write("%.2f\n" % costs[len(costs) // 2])
PY
XCHECK=${XCHECK:-40}

report() {
	sort -n "$2" | awk -v name="$1" -v target="$TARGET_MS" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { printf "%-22s no samples\n", name; exit }
			p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1];
			printf "%-22s n=%-4d p50 %6.2f ms (ratio %.2f)  p99 %6.2f ms (ratio %.2f)  max %6.2f ms\n",
			       name, NR, p50, p50 / target, p99, p99 / target, v[NR];
		}'
}

tm set-option -g window-size manual
python3 "$DIR/measure.py" "$SOCK" =b "$DIR" "j:$KEYS$AFTER_J" "k:$((KEYS / 2))" "Space:$TICKS:j" "G:1" "g:1" "Tab:9"
report "cursor down (j)" "$DIR/j.txt"
python3 "$DIR/xcheck.py" "$SOCK" =b "$DIR/xcheck.txt" "$XCHECK"
report "j, cross-check" "$DIR/xcheck.txt"
echo "  (cross-check: capture-pane polled by a new tmux process each time until the selected row changes;"
echo "   one poll costs $(cat "$DIR/xcheck.txt.poll") ms, so it reads between one and two polls high)"
report "cursor up (k)" "$DIR/k.txt"
report "tick (Space, fsync)" "$DIR/Space.txt"
cat "$DIR/G.txt" "$DIR/g.txt" > "$DIR/Gg.txt"
report "bottom/top (G/g)" "$DIR/Gg.txt"
report "pane focus (Tab)" "$DIR/Tab.txt"
report "in-process (all keys)" "$DIR/trace.txt"
echo "  (in-process: terminal input read to frame written, no tmux, no scheduler queue)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
if [ "${VERIFY:-0}" = 1 ] && [ -n "${COUNTS_FROM:-}" ]; then
	n_active=$(jq -r .source "$DIR/pgcutover.json" | xargs -I{} psql "{}" -XAtc \
		"select count(*) from pg_stat_activity where application_name = 'pgcutover' and state = 'active'" 2>/dev/null)
	echo "verify queries active on the source at the end: ${n_active:-?}"
fi

rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
awk -v r="$rss" -v h="$hwm" -v t="$TARGET_RSS_KB" 'BEGIN {
	printf "RSS %.1f MB (ratio %.2f vs 20 MB), peak %.1f MB (ratio %.2f)\n", r / 1024, r / t, h / 1024, h / t }'
tm send-keys -t =b: q

# The best alternative in the same tmux: `less` scrolling a file of as many
# lines, one line per j, measured by the same client; with COUNTS_FROM,
# while `pgcutover counts --exact` runs over and over on those servers (the
# same load as the console's counts), or with VERIFY=1 `pgcutover verify`
# (the same load as the console's verify, which runs through all of less's
# samples, not only the first ones).
if [ "${LESS_TOO:-1}" = 1 ] && command -v less >/dev/null; then
	mkdir -p "$DIR/less"
	loader=""
	if [ -n "${COUNTS_FROM:-}" ]; then
		load_cmd="counts --exact"
		[ "${VERIFY:-0}" = 1 ] && load_cmd=verify
		( while :; do "$PGCUTOVER" -c "$COUNTS_FROM" $load_cmd >/dev/null 2>&1 || :; done ) &
		loader=$!
	fi
	python3 "$DIR/measure.py" "$SOCK" =l "$DIR/less" "j:$KEYS"
	if [ -n "$loader" ]; then kill "$loader" 2>/dev/null || :; wait "$loader" 2>/dev/null || :; fi
	report "less, j (same tmux)" "$DIR/less/j.txt"
	sort -n "$DIR/j.txt" > "$DIR/j.s"; sort -n "$DIR/less/j.txt" > "$DIR/lj.s"
	awk 'NR == FNR { a[FNR] = $1; na = FNR; next } { b[FNR] = $1; nb = FNR }
		END { if (!na || !nb) exit; pa = a[int((na - 1) * 0.99) + 1]; pb = b[int((nb - 1) * 0.99) + 1];
		      how = ENVIRON["COUNTS_FROM"] == "" ? "" : ENVIRON["VERIFY"] == "1" ? " (both with a verify running)" : " (both with exact counts running)";
		      printf "console j p99 / less j p99: %.2f / %.2f ms, ratio %.2f%s\n", pa, pb, pa / pb, how }' "$DIR/j.s" "$DIR/lj.s"
	tm send-keys -t =l: q
fi
