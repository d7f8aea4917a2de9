#!/bin/sh
# t_chaos_regress.sh — regression tests, one node each, for what the fault
# harness (tests/chaos/) found:
#  (a) a daemon killed with running workers left their work directories in
#      the spool's tmp/ forever: now they are node-private temp names
#      (tmp/.NODE@w...) that the node removes when it starts again;
#  (b) an output directory outside the spool whose mount vanished (the
#      mount point is then an empty local directory) swallowed published
#      packs: now such an output must carry the spool's .spool-output
#      marker (spoolctl init --output), and without it the node does not
#      claim, says why once, and goes on when it is back; nothing is
#      written into the foreign directory;
#  (c) a dead or full output made every claim fail at once, burning all
#      attempts of good packs within a second (they ended in failed/):
#      now the node's own trouble returns the claim without counting the
#      attempt.  With max_attempts = 1: packs wait while the output file
#      system is full; the output filling up while packs are worked on
#      returns them uncounted; no pack fails, and all come out once there
#      is room (needs root for a tmpfs; skipped otherwise);
#  (d) a node killed between publishing a pack and unlinking its attempt
#      history left claimed/.P.err behind for good, so claimed/ never
#      emptied: now a node removes a history whose pack has left claimed/
#      once it is older than a lease (the rules: test_spool.c); and an
#      sshfs killed before the last close of a file unlinked while open
#      left FUSE's .fuse_hiddenNNNN name in the output for good: a node
#      removes such names when it starts and when it stops; and a work
#      directory whose removal failed while the mount was down stayed until
#      the node restarted: a node removes its own leftovers when idle and
#      when it stops.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

# ---- (a) work directories of a killed daemon are removed at restart
SP="$SCRATCH/a"
mkspool "$SP"
conf "$SCRATCH/a.conf" "$SP" \
    'pipeline = ( { filter = "none"; }, { exec = ["sh", "-c", "sleep 30; cp \"$0\" \"$1\"", "{in}", "{out}"]; } );'
mkpack "$SCRATCH/x.tif" 2
drop "$SP" "$SCRATCH/x.tif" a1.tif
start_node ka "$SCRATCH/a.conf"
workdir() { ls -A "$SP/tmp" | grep -q '^\.ka@w'; }
wait_until 60 workdir || fail "(a) no work directory appeared"
kill -KILL "$(node_pid ka)"
wait "$(node_pid ka)" 2>/dev/null
[ -n "$(ls -A "$SP/tmp")" ] || fail "(a) the killed worker left nothing to clean (test broken)"
conf "$SCRATCH/a.conf" "$SP" "pipeline = ();"
start_node ka "$SCRATCH/a.conf"
wait_until 60 test -f "$SP/out/a1.tif" || fail "(a) the pack was not finished after the restart"
t_stop_all
[ -z "$(ls -A "$SP/tmp")" ] || fail "(a) left in tmp/: $(ls -A "$SP/tmp")"

# ---- (b) an output outside the spool needs its marker
SP="$SCRATCH/b"
OUT="$SCRATCH/b-out"
mkspool "$SP"
mkdir "$OUT"
conf "$SCRATCH/b.conf" "$SP" "pipeline = ();" "output = \"$OUT\";"
start_node kb "$SCRATCH/b.conf"
LOG="$SCRATCH/kb.log"
drop "$SP" "$SCRATCH/x.tif" b1.tif
wait_until 20 grep -q "unavailable: output $OUT is not this spool's output: no .spool-output" "$LOG" ||
    fail "(b) no line for an output without its marker"
sleep 3
[ -f "$SP/incoming/b1.tif" ] || fail "(b) a pack was claimed for an output that is not the spool's"
[ -z "$(ls -A "$OUT")" ] || fail "(b) written into a foreign output: $(ls -A "$OUT")"
spoolctl init --output "$OUT" "$SP" >/dev/null || fail "(b) spoolctl init --output"
[ -f "$OUT/.spool-output" ] || fail "(b) spoolctl init --output wrote no marker"
wait_until 60 test -f "$OUT/b1.tif" || fail "(b) the node did not go on once the output was the spool's"
# the "mount" vanishes: the marker is gone, the directory is still there
mv "$OUT/.spool-output" "$SCRATCH/marker.saved"
twice() { [ "$(grep -c ' unavailable: ' "$LOG")" -eq 2 ]; }
wait_until 20 twice || fail "(b) no (single) line for the vanished output"
drop "$SP" "$SCRATCH/x.tif" b2.tif
sleep 3
[ -f "$SP/incoming/b2.tif" ] || fail "(b) claimed while the output was gone"
[ ! -e "$OUT/b2.tif" ] || fail "(b) published into the vanished output"
mv "$SCRATCH/marker.saved" "$OUT/.spool-output"
wait_until 60 test -f "$OUT/b2.tif" || fail "(b) the node did not go on when the output came back"
expect_output "$OUT" b2 2
t_stop_all

# ---- (d) an orphan attempt history is removed
SP="$SCRATCH/d"
mkspool "$SP"
printf 'attempt 1 on gone at 2026-01-01T00:00:00Z: x\n' >"$SP/claimed/.p0020.tif.err"
touch -d '1 hour ago' "$SP/claimed/.p0020.tif.err"
echo x >"$SP/out/.fuse_hidden0000001400000001"
echo x >"$SP/tmp/.fuse_hidden0000001400000002"
conf "$SCRATCH/d.conf" "$SP" "pipeline = ();"
start_node kd "$SCRATCH/d.conf"
wait_until 30 test ! -e "$SP/claimed/.p0020.tif.err" || fail "(d) the orphan history stayed in claimed/"
grep -q 'removed 1 attempt histories whose packs had left claimed/' "$SCRATCH/kd.log" ||
    fail "(d) no log line for the removed history"
[ ! -e "$SP/out/.fuse_hidden0000001400000001" ] && [ ! -e "$SP/tmp/.fuse_hidden0000001400000002" ] ||
    fail "(d) FUSE's hidden names stayed after the start: $(ls -A "$SP/out" "$SP/tmp")"
grep -q 'removed 2 hidden files (.fuse_hidden\*) an sshfs left behind' "$SCRATCH/kd.log" ||
    fail "(d) no log line for the removed hidden files"
drop "$SP" "$SCRATCH/x.tif" d1.tif
wait_until 30 test -f "$SP/out/d1.tif" || fail "(d) the node did not go on"
echo x >"$SP/out/.fuse_hidden0000001400000003"
# a work directory whose removal failed while the mount was down
mkdir "$SP/tmp/.kd@w1.1" && echo x >"$SP/tmp/.kd@w1.1/out.tif"
t_stop_all
[ ! -e "$SP/out/.fuse_hidden0000001400000003" ] || fail "(d) a hidden name stayed after the stop"
[ ! -e "$SP/tmp/.kd@w1.1" ] || fail "(d) the node's own leftover stayed in tmp/ after a clean stop"

# ---- (c) a full output does not use up attempts
[ "$(id -u)" = 0 ] || { echo "note: (c) needs root for a tmpfs: skipped"; exit 0; }
SP="$SCRATCH/c"
OUT="$SCRATCH/c-out"
mkspool "$SP"
mkdir "$OUT"
mount -t tmpfs -o size=2m spoold-test-full "$OUT" || { echo "note: (c) cannot mount a tmpfs: skipped"; exit 0; }
umount_out() { umount -l "$OUT" 2>/dev/null; }
trap 'umount_out; t_cleanup' EXIT
spoolctl init --output "$OUT" "$SP" >/dev/null || fail "(c) spoolctl init --output"
fill() { dd if=/dev/zero of="$OUT/.ballast" bs=4k 2>/dev/null; }
fill
conf "$SCRATCH/c.conf" "$SP" "output = \"$OUT\";" 'max_attempts = 1;' 'min_free_disk = 0;' \
    'pipeline = ( { filter = "none"; }, { exec = ["sh", "-c", "sleep 4; cp \"$0\" \"$1\"", "{in}", "{out}"]; } );'
i=1
while [ $i -le 4 ]; do drop "$SP" "$SCRATCH/x.tif" "c$i.tif"; i=$((i + 1)); done
start_node kc "$SCRATCH/c.conf"
LOG="$SCRATCH/kc.log"
wait_until 30 grep -q 'waiting before claiming more: disk: ' "$LOG" || fail "(c) no waiting line on a full output"
[ "$(count "$SP/incoming")" -eq 4 ] || fail "(c) claimed while the output was full"
rm -f "$OUT/.ballast"
two() { [ "$(grep -c 'claimed c[0-9]\.tif (attempt 1)' "$LOG")" -ge 2 ]; }
wait_until 30 two || fail "(c) nothing claimed once there was room"
fill    # while the two packs are worked on
wait_until 30 grep -q 'released c[0-9]\.tif (attempt 1 not counted): .*No space left on device' "$LOG" ||
    fail "(c) no pack was returned uncounted when the output filled up"
sleep 2
[ "$(count "$SP/failed")" -eq 0 ] || fail "(c) a full output sent packs to failed/: $(ls "$SP/failed")"
rm -f "$OUT/.ballast"
all_out() { [ "$(ls "$OUT" | grep -c '^c[0-9]\.tif$')" -eq 4 ]; }
wait_until 90 all_out || fail "(c) not every pack came out once there was room: $(ls "$OUT")"
[ "$(count "$SP/failed")" -eq 0 ] || fail "(c) failed/: $(ls "$SP/failed")"
ls -A "$OUT" | grep -v '^\.spool-output$' | grep -q '^\.' && fail "(c) temporary files left in the output: $(ls -A "$OUT")"
t_stop_all
exit 0
