#!/bin/sh
# t_daemon_c_sshfs.sh — issue 3 test (c): four nodes, each on its own sshfs
# mount of the spool (a private sshd on 127.0.0.1 started by the test:
# tests/lib/sshfs-lab.sh), 200 small packs dropped on the server side and
# through one mount: every pack exactly once in the output with the right
# page count, nothing left in incoming/ or claimed/.  Needs root and
# /dev/fuse (CI has both; CI=true makes a skip a failure).
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
. "$SPOOLD_TOP/tests/lib/sshfs-lab.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
T_LAB="$SCRATCH/lab"
lab_up "$T_LAB" "$SP" 4
rc=$?
[ $rc -eq 77 ] && skip "the sshfs lab cannot run here"
[ $rc -eq 0 ] || fail "sshfs lab did not come up"
for k in 1 2 3 4; do
    [ -f "$T_LAB/node$k/.spool-id" ] || fail "node$k does not see the spool"
    conf "$SCRATCH/c$k.conf" "$T_LAB/node$k"
    start_node "n$k" "$SCRATCH/c$k.conf"
done
make_packs "$SP" 150
# the rest through node 1's mount, as a scanner on that node would
mkpack "$SCRATCH/one.tif" 1
mkpack "$SCRATCH/two.tif" 2
mkpack "$SCRATCH/three.tif" 3
i=151
while [ $i -le 200 ]; do
    case $(( i % 3 )) in 0) src=one.tif ;; 1) src=two.tif ;; *) src=three.tif ;; esac
    drop "$T_LAB/node1" "$SCRATCH/$src" "$(printf 'p%03d.tif' $i)"
    i=$((i + 1))
done
wait_until 400 spool_quiet "$SP" || fail "not done: $(count "$SP/incoming") in incoming/, $(count "$SP/claimed") in claimed/"
t_stop_all
check_packs "$SP" 200 "$SCRATCH"/n?.log
for k in 1 2 3 4; do
    [ ! -e "$SP/nodes/n$k" ] || fail "n$k left its heartbeat"
    grep -q 'finished ' "$SCRATCH/n$k.log" || echo "note: n$k finished no pack"
done
exit 0
