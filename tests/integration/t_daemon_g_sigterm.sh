#!/bin/sh
# t_daemon_g_sigterm.sh — issue 3 test (g): SIGTERM drains.
#   1. packs that finish within the grace period are published; packs not
#      yet claimed stay in incoming/; the node exits 0 and removes its
#      heartbeat.
#   2. packs still running when the grace period ends are killed and
#      returned as P@+0 (the shutdown does not cost an attempt); exit 0.
#   3. another node then cleans them as attempt 1.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
slow() {   # conf FILE with an exec step that sleeps $2 s (pids in steps.pids)
    conf "$1" "$SP" "grace = $3;" \
        "pipeline = ( { exec = [\"sh\", \"-c\", \"sleep $2 & echo \$! >>$SCRATCH/steps.pids; wait; cp \$0 \$1\", \"{in}\", \"{out}\"]; } );"
}
make_packs "$SP" 4
mine() { [ "$(ls "$SP/claimed" | grep -c "@$1\$")" -eq "$2" ]; }

# 1. grace long enough
slow "$SCRATCH/g1.conf" 4 30
start_node g1 "$SCRATCH/g1.conf"
wait_until 60 mine g1 2 || fail "g1 did not claim two packs"
kill -TERM "$(node_pid g1)"
wait "$(node_pid g1)"
rc=$?
[ $rc -eq 0 ] || fail "g1 exited $rc"
[ "$(count "$SP/out")" -eq 4 ] || fail "expected 2 outputs (4 files), out/ has $(count "$SP/out")"
[ "$(count "$SP/incoming")" -eq 2 ] || fail "the 2 unclaimed packs should stay in incoming/"
[ "$(count "$SP/claimed")" -eq 0 ] || fail "claimed/ is not empty: $(ls "$SP/claimed")"
[ ! -e "$SP/nodes/g1" ] || fail "g1 left its heartbeat"
grep -q 'no more claims' "$SCRATCH/g1.log" || fail "no drain message"

# 2. grace too short: killed and released without using an attempt
slow "$SCRATCH/g2.conf" 60 1
start_node g2 "$SCRATCH/g2.conf"
wait_until 60 mine g2 2 || fail "g2 did not claim the two packs"
kill -TERM "$(node_pid g2)"
wait "$(node_pid g2)"
rc=$?
[ $rc -eq 0 ] || fail "g2 exited $rc"
[ "$(ls "$SP/claimed" | grep -c '@+0$')" -eq 2 ] || fail "expected two P@+0 in claimed/: $(ls "$SP/claimed")"
[ ! -e "$SP/nodes/g2" ] || fail "g2 left its heartbeat"
[ "$(grep -c 'released p[0-9]*.tif (attempt 1 not counted)' "$SCRATCH/g2.log")" -eq 2 ] ||
    fail "expected two 'released' lines"
wait_until 10 none_alive "$SCRATCH/steps.pids" || fail "a killed pack's step is still running"

# 3. another node cleans them as attempt 1
conf "$SCRATCH/g3.conf" "$SP" "pipeline = ();"
spoold -c "$SCRATCH/g3.conf" --node g3 --once >"$SCRATCH/g3.log" 2>&1 || fail "g3 --once failed"
check_packs "$SP" 4 "$SCRATCH"/g?.log
[ "$(grep -l '"attempt":1' "$SP"/out/*.json | wc -l)" -eq 4 ] || fail "every pack should be attempt 1"
exit 0
