#!/bin/sh
# t_daemon_j_notify.sh — spoold under a service manager (Type=notify):
# READY=1 after its first heartbeat, STATUS= with the queue figures,
# WATCHDOG=1 from the event loop when $WATCHDOG_USEC asks for it, and
# STOPPING=1 on SIGTERM, all sent to $NOTIFY_SOCKET (here a test sink).
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff notifysink

SP="$SCRATCH/spool"
mkspool "$SP"
conf "$SCRATCH/j.conf" "$SP" "pipeline = ();"
notifysink "$SCRATCH/notify.sock" "$SCRATCH/notify.txt" 2>"$SCRATCH/sink.log" &
sink=$!
echo $sink >>"$T_PIDS"
wait_until 10 test -S "$SCRATCH/notify.sock" || fail "no notification socket"
mkpack "$SCRATCH/x.tif" 2
drop "$SP" "$SCRATCH/x.tif" a.tif
NOTIFY_SOCKET="$SCRATCH/notify.sock" WATCHDOG_USEC=400000 start_node n1 "$SCRATCH/j.conf"
wait_until 60 test -f "$SP/out/a.tif" || fail "the pack was not cleaned"
wait_until 20 grep -q '^STATUS=running: .*1 packs (2 pages) done' "$SCRATCH/notify.txt" ||
    fail "no STATUS with the figures: $(tail -n 3 "$SCRATCH/notify.txt")"
kill -TERM "$(node_pid n1)"
wait "$(node_pid n1)" || fail "exit status $?"
N="$SCRATCH/notify.txt"
[ "$(grep -c '^READY=1$' "$N")" -eq 1 ] || fail "READY=1 not sent exactly once"
[ "$(grep -c '^WATCHDOG=1$' "$N")" -ge 3 ] || fail "too few WATCHDOG=1 ($(grep -c '^WATCHDOG=1$' "$N"))"
grep -q '^STOPPING=1$' "$N" || fail "no STOPPING=1"
# READY comes before any STATUS with work done, STOPPING after it
r=$(grep -n '^READY=1$' "$N" | cut -d: -f1)
s=$(grep -n '^STOPPING=1$' "$N" | cut -d: -f1)
[ "$r" -lt "$s" ] || fail "STOPPING before READY"
exit 0
