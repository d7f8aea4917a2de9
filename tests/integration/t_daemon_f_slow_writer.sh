#!/bin/sh
# t_daemon_f_slow_writer.sh — issue 3 test (f): a scanner that writes a pack
# slowly in place is not picked up early.  Every second for five seconds a
# TIFF file is rewritten in place with one page more (each state is a
# complete, valid TIFF, so only the settle rule can hold it back), and a
# directory pack gets one page file more; settle is 4 s (a margin for a
# test shell that a loaded machine starves for a moment).  Both must stay in
# incoming/ while being written, and their outputs must have all 5 pages.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
conf "$SCRATCH/f.conf" "$SP" "settle = 4;"
start_node n1 "$SCRATCH/f.conf"
i=1
while [ $i -le 5 ]; do
    mkpack "$SCRATCH/k$i.tif" $i
    i=$((i + 1))
done
mkdir "$SP/incoming/slowdir"
i=1
while [ $i -le 5 ]; do
    if [ $i -gt 1 ]; then
        [ -f "$SP/incoming/slow.tif" ] || fail "slow.tif was taken while being written ($i)"
        [ -d "$SP/incoming/slowdir" ] || fail "slowdir was taken while being written ($i)"
    fi
    cat "$SCRATCH/k$i.tif" >"$SP/incoming/slow.tif"      # same inode, rewritten
    cp "$(t_page)" "$SP/incoming/slowdir/page$i.tif"
    sleep 1
    i=$((i + 1))
done
[ -f "$SP/incoming/slow.tif" ] || fail "slow.tif was taken while being written (end)"
wait_until 60 spool_quiet "$SP" || fail "the slow packs were never taken"
wait_until 20 test -f "$SP/out/slowdir.tif" || fail "no output for slowdir"
expect_output "$SP/out" slow 5
expect_output "$SP/out" slowdir 5
[ "$(grep -c 'claimed slow.tif ' "$SCRATCH/n1.log")" -eq 1 ] || fail "slow.tif claimed more than once"
[ "$(count "$SP/failed")" -eq 0 ] || fail "failed/ is not empty"
exit 0
