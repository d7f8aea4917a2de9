#!/bin/sh
# t_chaos_privilege.sh — least privilege (issue 4, item 4):
#  - as root, spoold refuses to start unless allow_root = true or
#    --allow-root, and says why;
#  - it runs as an unprivileged user and group on a spool made with
#    `spoolctl init --group-writable` (setgid, group-writable directories),
#    the way spoold.service (User=, Group=) and OPERATIONS.md set it up;
#  - files it creates get 0666 & ~umask (umask "027" here: 0640);
#  - an exec step gets stdin on /dev/null, stdout and stderr captured, no
#    other descriptor of the daemon, a clean environment (PATH, HOME,
#    LANG and SPOOLD_* only: a secret in the daemon's environment does
#    not reach it), the worker's resource limits (memory_limit as
#    RLIMIT_AS, cpu_limit as RLIMIT_CPU, no core files), and is stopped
#    at its timeout.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff stat
[ "$(id -u)" = 0 ] || skip "needs root (to switch to an unprivileged user)"
need setpriv

SP="$SCRATCH/spool"
mkspool "$SP"
mkpack "$SCRATCH/x.tif" 2

# ---- root is refused without allow_root
cat >"$SCRATCH/root.conf" <<EOF
spool = "$SP";
node = "r1";
EOF
if spoold -c "$SCRATCH/root.conf" --once >"$SCRATCH/root.log" 2>&1; then
    fail "spoold ran as root without allow_root"
fi
grep -q 'refusing to run as root' "$SCRATCH/root.log" || fail "no reason given for refusing root"
[ "$(count "$SP/nodes")" -eq 0 ] || fail "the refused daemon touched the spool"
spoold -c "$SCRATCH/root.conf" --allow-root --check-config | grep -q '^allow_root true' ||
    fail "--allow-root does not set allow_root"

# ---- an unprivileged user and group on a group-writable spool
GID=54321 USR=65534
SP2="$SCRATCH/shared"
spoolctl init --group-writable "$SP2" >/dev/null || fail "spoolctl init --group-writable"
chgrp -R "$GID" "$SP2" || fail "chgrp"
[ "$(stat -c %a "$SP2/claimed")" = 2775 ] || fail "claimed/ is $(stat -c %a "$SP2/claimed"), not 2775"
chmod 755 "$SCRATCH"      # the user must reach the spool
# three check steps (no {out}: their output is only reported) that show
# what an exec step gets, by exec'ing into a program that reports itself
conf "$SCRATCH/u.conf" "$SP2" 'umask = "027";' 'memory_limit = "300M";' 'cpu_limit = 50;' \
    'pipeline = ( { exec = ["sh", "-c", "exec ls -l /proc/self/fd"]; },
                  { exec = ["sh", "-c", "exec env"]; },
                  { exec = ["sh", "-c", "exec cat /proc/self/limits"]; },
                  { filter = "none"; } );'
sed -i '/^allow_root/d' "$SCRATCH/u.conf"
drop "$SP2" "$SCRATCH/x.tif" a.tif
chgrp -R "$GID" "$SP2/incoming"
# started with a secret in the environment and an extra open descriptor
SECRET_TOKEN=do-not-leak setpriv --reuid=$USR --regid=$GID --clear-groups \
    spoold -c "$SCRATCH/u.conf" --node u1 >>"$SCRATCH/u1.log" 2>&1 7<"$SCRATCH/x.tif" &
echo $! >>"$T_PIDS"
U1=$!
wait_until 60 test -f "$SP2/out/a.tif" || fail "the unprivileged node did not finish a.tif"
alive "$U1" || fail "the unprivileged node died"
expect_output "$SP2/out" a 2
[ "$(stat -c %u "$SP2/out/a.tif")" = $USR ] || fail "a.tif not created by the unprivileged user"
for f in "$SP2/out/a.tif" "$SP2/out/a.json"; do
    [ "$(stat -c %a "$f")" = 640 ] || fail "$f has mode $(stat -c %a "$f"), not 640 (umask 027)"
done
[ "$(stat -c %g "$SP2/out/a.tif")" = $GID ] || fail "a.tif is not in the spool's group (setgid directory)"

# what the exec steps saw: the output_tail of steps 1-3 in the report
tail_of() {
    awk -v k="$1" 'BEGIN { RS = "\"output_tail\":\"" } NR == k + 1 { sub(/"}.*/, ""); print }' \
        "$SP2/out/a.json" | sed 's/\\u000a/\n/g; s/\\n/\n/g; s/\\"/"/g; s/\\\\/\\/g'
}
tail_of 1 >"$SCRATCH/fds"
tail_of 2 >"$SCRATCH/env"
tail_of 3 >"$SCRATCH/limits"
fds=$(sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)/\1 \2/p' "$SCRATCH/fds")
echo "$fds" | grep -q '^0 /dev/null$' || fail "stdin is not /dev/null: $fds"
echo "$fds" | grep -q '^1 pipe:' || fail "stdout is not the capture pipe: $fds"
echo "$fds" | grep -q '^2 pipe:' || fail "stderr is not the capture pipe: $fds"
# ls itself opens one descriptor: the directory it lists
others=$(echo "$fds" | awk '$1 > 2 && $2 !~ /^\/proc\/[0-9]+\/fd$/')
[ -z "$others" ] || fail "the exec step inherited descriptors: $others"
names=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$SCRATCH/env" | sort | tr '\n' ' ')
[ -n "$names" ] || fail "no environment seen"
for v in $names; do
    case $v in PATH|HOME|LANG|SPOOLD_PACK|SPOOLD_NODE|SPOOLD_ATTEMPT|PWD) ;;
        *) fail "the exec step's environment has $v ($names)" ;; esac
done
grep -q do-not-leak "$SCRATCH/env" && fail "the daemon's environment leaked into the exec step"
grep -q '^SPOOLD_PACK=a.tif$' "$SCRATCH/env" || fail "no SPOOLD_PACK"
lim() { awk -v k="$1" 'index($0, k) == 1 { print $(NF - 2) }' "$SCRATCH/limits"; }
if ! asan; then
    [ "$(lim 'Max address space')" = $((300 * 1024 * 1024)) ] ||
        fail "RLIMIT_AS is $(lim 'Max address space'), not memory_limit"
fi
[ "$(lim 'Max cpu time')" = 50 ] || fail "RLIMIT_CPU is $(lim 'Max cpu time'), not cpu_limit"
[ "$(lim 'Max core file size')" = 0 ] || fail "core files are allowed"

# the heartbeat and the history files follow the umask too
[ "$(stat -c %a "$SP2/nodes/u1")" = 640 ] || fail "nodes/u1 has mode $(stat -c %a "$SP2/nodes/u1")"
kill -TERM "$U1"
wait "$U1" || fail "the unprivileged node exited $? after SIGTERM"

# ---- an exec step is stopped at its timeout
conf "$SCRATCH/t.conf" "$SP" 'max_attempts = 1;' \
    'pipeline = ( { exec = ["sh", "-c", "sleep 60; cp \"$0\" \"$1\"", "{in}", "{out}"]; timeout = 2; } );'
drop "$SP" "$SCRATCH/x.tif" slow.tif
start_node t1 "$SCRATCH/t.conf"
wait_until 60 test -f "$SP/failed/slow.tif.err" || fail "the step was not stopped at its timeout"
grep -q 'timed out after' "$SP/failed/slow.tif.err" || fail "slow.tif.err: $(cat "$SP/failed/slow.tif.err")"
t_stop_all
exit 0
