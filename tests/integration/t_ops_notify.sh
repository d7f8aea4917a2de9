#!/bin/sh
# t_ops_notify.sh — spoold under a stand-in for systemd: with
# $NOTIFY_SOCKET and $WATCHDOG_USEC set it sends READY=1 (only once the
# spool checked out), STATUS lines with queue figures, WATCHDOG=1 pings and
# STOPPING=1 on SIGTERM, all from its main pid (NotifyAccess=main); with
# metrics_file it keeps a valid Prometheus file whose figures match what
# it did; a --once run leaves its final figures.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo

SP="$SCRATCH/spool"
mkdir "$SP"                     # not a spool yet: no .spool-id
PROM="$SCRATCH/metrics/spoold.prom"
mkdir "$SCRATCH/metrics"
conf "$SCRATCH/n.conf" "$SP" "pipeline = ();" "settle = 3;" "metrics_file = \"$PROM\";"

notifylisten "$SCRATCH/notify.sock" "$SCRATCH/notify.txt" 300 \
    >"$SCRATCH/listen.log" 2>&1 &
echo $! >>"$T_PIDS"
lpid=$!
wait_until 60 test -S "$SCRATCH/notify.sock" || fail "listener did not start"

# a 2 s watchdog: pings every second
export NOTIFY_SOCKET="$SCRATCH/notify.sock" WATCHDOG_USEC=2000000
start_node n1 "$SCRATCH/n.conf"
unset NOTIFY_SOCKET WATCHDOG_USEC
pid=$(node_pid n1)
has() { grep -q "$1" "$SCRATCH/notify.txt" 2>/dev/null; }
pings() { grep -c "^$pid WATCHDOG=1$" "$SCRATCH/notify.txt" 2>/dev/null; }

# before the spool exists: a status saying so, pings, but no READY
wait_until 60 has "STATUS=spool unavailable" || fail "no 'unavailable' status"
wait_until 60 sh -c "[ \$(grep -c '^$pid WATCHDOG=1\$' '$SCRATCH/notify.txt') -ge 2 ]" ||
    fail "fewer than 2 watchdog pings"
has "READY=1" && fail "READY before the spool was there"
wait_until 30 grep -q '^spoold_spool_available{.*} 0$' "$PROM" ||
    fail "metrics do not say the spool is unavailable"

# the spool appears: READY (once), then work shows in STATUS and metrics
mkspool "$SP"
wait_until 60 has "^$pid READY=1\(|\|$\)" || fail "no READY=1 after the spool appeared"
make_packs "$SP" 6
wait_until 120 sh -c "[ \$(ls '$SP/done' | wc -l) -eq 6 ]" || fail "packs not done"
wait_until 60 grep -q '^spoold_packs_total{.*result="done"} 6$' "$PROM" ||
    fail "metrics do not count 6 packs done"
wait_until 60 has "STATUS=.*[^0-9]6 packs.*[^0-9]12 pages" || fail "no STATUS with the work done"
promcheck "$PROM" >/dev/null || fail "metrics file invalid: $(promcheck "$PROM" 2>&1)"
node='node="n1",spool="'"$SP"'"'
v=$(promcheck "$PROM" "spoold_pages_total{$node,result=\"done\"}" \
    "spoold_workers{$node,state=\"total\"}") || fail "series missing"
[ "$v" = "$(printf '12\n2')" ] || fail "pages/workers: $v"
[ "$(grep -c "READY=1" "$SCRATCH/notify.txt")" -eq 1 ] || fail "READY sent twice"
# STATUS carries the queue: packs waiting in incoming/ show up as a figure
grep -q "STATUS=.*[^0-9][1-6] incoming" "$SCRATCH/notify.txt" ||
    fail "no STATUS with packs waiting in incoming/"

# SIGTERM: STOPPING=1 from the main pid, then a clean exit
kill -TERM "$pid"
wait_until 60 sh -c "! kill -0 $pid 2>/dev/null" || fail "spoold did not stop"
has "^$pid STOPPING=1" || fail "no STOPPING=1"
# every message came from the main process (NotifyAccess=main)
bad=$(grep -v "^$pid " "$SCRATCH/notify.txt" || true)
[ -z "$bad" ] || fail "messages from other pids: $bad"

# --once: the final file has the figures of the run, the census, and the
# stage times the workers measured (decode, encode, the exec step)
conf "$SCRATCH/o.conf" "$SP" "metrics_file = \"$PROM\";" \
    'pipeline = ( { filter = "none"; }, { exec = ["cp", "{in}", "{out}"]; } );'
make_packs "$SP" 3
rm -f "$PROM"
spoold -c "$SCRATCH/o.conf" --node once1 --once >"$SCRATCH/once1.log" 2>&1 ||
    fail "--once failed"
node='node="once1",spool="'"$SP"'"'
v=$(promcheck "$PROM" "spoold_packs_total{$node,result=\"done\"}" \
    "spoold_queue_packs{$node,state=\"done\"}" \
    "spoold_queue_packs{$node,state=\"claimed\"}") ||
    fail "--once metrics: $(cat "$PROM")"
[ "$v" = "$(printf '3\n9\n0')" ] || fail "--once metrics: $v"
for stage in read write exec; do
    t=$(promcheck "$PROM" "spoold_stage_seconds_total{$node,stage=\"$stage\"}") ||
        fail "no $stage time"
    awk -v t="$t" 'BEGIN { exit !(t > 0) }' || fail "$stage time is $t"
done
t=$(promcheck "$PROM" "spoold_stage_seconds_total{$node,stage=\"deskew\"}")
[ "$t" = 0 ] || fail "deskew did not run but took $t s"
kill -TERM "$lpid"
exit 0
