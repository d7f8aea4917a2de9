#!/bin/sh
# t_daemon_b_four_local.sh — issue 3 test (b): four daemons on one local
# spool, 200 small packs: every pack exactly once in the output (and one
# "finished" line for it in all logs), none left in incoming/ or claimed/,
# each output a valid G4 TIFF with the right page count.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
conf "$SCRATCH/b.conf" "$SP"
for k in 1 2 3 4; do
    start_node "n$k" "$SCRATCH/b.conf"
done
make_packs "$SP" 200
wait_until 300 spool_quiet "$SP" || fail "not done: $(count "$SP/incoming") in incoming/, $(count "$SP/claimed") in claimed/"
t_stop_all
check_packs "$SP" 200 "$SCRATCH"/n?.log
for k in 1 2 3 4; do
    [ ! -e "$SP/nodes/n$k" ] || fail "n$k left its heartbeat"
done
exit 0
