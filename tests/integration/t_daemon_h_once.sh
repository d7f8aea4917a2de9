#!/bin/sh
# t_daemon_h_once.sh — issue 3 test (h): spoold --once processes until
# incoming/ is empty and its own work is done, then exits 0 (for cron);
# on an empty spool it exits 0 at once; without a spool it exits non-zero.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
conf "$SCRATCH/h.conf" "$SP"
i=1
while [ $i -le 10 ]; do
    mkpack "$SCRATCH/p$i.tif" $(( i % 3 + 1 ))
    drop "$SP" "$SCRATCH/p$i.tif"
    i=$((i + 1))
done

spoold -c "$SCRATCH/h.conf" --node once1 --once >"$SCRATCH/once1.log" 2>&1 &
pid=$!
echo $pid >>"$T_PIDS"
wait_until 120 sh -c "! kill -0 $pid 2>/dev/null" || fail "--once did not exit"
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "--once exited $rc"
spool_quiet "$SP" || fail "--once left packs in incoming/ or claimed/"
i=1
while [ $i -le 10 ]; do
    expect_output "$SP/out" "p$i" $(( i % 3 + 1 ))
    i=$((i + 1))
done
[ ! -e "$SP/nodes/once1" ] || fail "--once left its heartbeat"

# nothing to do: exits 0
spoold -c "$SCRATCH/h.conf" --node once2 --once >"$SCRATCH/once2.log" 2>&1 \
    || fail "--once on an empty spool exited $?"

# not a spool (no .spool-id): an error, not a hang, and nothing created
mkdir "$SCRATCH/nospool"
if spoold -c "$SCRATCH/h.conf" --spool "$SCRATCH/nospool" --node once3 --once \
        >"$SCRATCH/once3.log" 2>&1; then
    fail "--once on a directory without .spool-id exited 0"
fi
[ "$(count "$SCRATCH/nospool")" -eq 0 ] || fail "spoold created files in a non-spool"
grep -q '^<3>' "$SCRATCH/once3.log" || fail "no error line for a missing spool"
exit 0
