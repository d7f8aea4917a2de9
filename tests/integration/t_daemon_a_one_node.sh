#!/bin/sh
# t_daemon_a_one_node.sh — issue 3 test (a): one node cleans 20 packs
# (multi-page files of text pages, and directory packs) with the default
# filter chain; every output is a G4 TIFF with the pack's page count and a
# JSON report naming the node, the attempt and the stages; nothing is left
# in incoming/ or claimed/; sources are kept in done/; the metrics file
# counts the packs and pages.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
conf "$SCRATCH/a.conf" "$SP" "metrics_file = \"$SCRATCH/spoold.prom\";"
TEXT="$SPOOLD_TOP/tests/fixtures/geom/text.tif"
[ -f "$TEXT" ] || fail "no $TEXT"

i=1
while [ $i -le 16 ]; do
    args=""
    k=0
    while [ $k -le $(( i % 4 )) ]; do args="$args $TEXT"; k=$((k + 1)); done
    # shellcheck disable=SC2086
    tiffcp $args "$SCRATCH/p$i.tif" || fail "tiffcp"
    drop "$SP" "$SCRATCH/p$i.tif" "pack $i.tif"
    i=$((i + 1))
done
# four directory packs of 2 pages
for d in d1 d2 d3 d4; do
    mkdir "$SCRATCH/$d"
    cp "$(t_page)" "$SCRATCH/$d/002.tif"
    cp "$(t_page)" "$SCRATCH/$d/001.tif"
    cp -r "$SCRATCH/$d" "$SP/incoming/.$d" && mv "$SP/incoming/.$d" "$SP/incoming/$d"
done

start_node n1 "$SCRATCH/a.conf"
wait_until 120 spool_quiet "$SP" || fail "packs left in incoming/ or claimed/"
wait_until 20 test "$(count "$SP/done")" -eq 20 || fail "done/ has $(count "$SP/done") packs"

i=1
while [ $i -le 16 ]; do
    expect_output "$SP/out" "pack $i" $(( i % 4 + 1 ))
    i=$((i + 1))
done
for d in d1 d2 d3 d4; do
    expect_output "$SP/out" "$d" 2
done
[ "$(count "$SP/out")" -eq 40 ] || fail "out/ has $(count "$SP/out") files, expected 40"
[ "$(count "$SP/failed")" -eq 0 ] || fail "failed/ is not empty"
grep -q '"node":"n1"' "$SP/out/pack 1.json" || fail "report does not name the node"
grep -q '"attempt":1' "$SP/out/pack 1.json" || fail "report does not give the attempt"
grep -q '"pages":2' "$SP/out/pack 1.json" || fail "report does not give the pages"
grep -q '"stages":\["border","orient","deskew","despeckle","crop"\]' "$SP/out/pack 1.json" ||
    fail "report does not list the default chain"
[ "$(grep -c 'finished ' "$SCRATCH/n1.log")" -eq 20 ] || fail "expected 20 'finished' lines"
grep -q '^<6>.*claimed pack 3.tif (attempt 1)' "$SCRATCH/n1.log" || fail "no claimed line"
[ -f "$SP/nodes/n1" ] || fail "no heartbeat while running"

# SIGTERM on an idle node: exits 0, heartbeat removed
kill -TERM "$(node_pid n1)"
wait "$(node_pid n1)"
rc=$?
[ $rc -eq 0 ] || fail "spoold exited $rc after SIGTERM"
[ ! -e "$SP/nodes/n1" ] || fail "heartbeat left after a clean exit"

# the metrics file (written on exit too) is valid and counts the work
promcheck "$SCRATCH/spoold.prom" >/dev/null || fail "invalid metrics file"
lab="node=\"n1\",spool=\"$SP\""
v=$(promcheck "$SCRATCH/spoold.prom" "spoold_packs_total{result=\"done\",$lab}" \
    "spoold_pages_total{result=\"done\",$lab}" "spoold_queue_packs{state=\"done\",$lab}" \
    "spoold_attempts_failed_total{$lab}") || fail "metrics missing"
[ "$(echo $v)" = "20 48 20 0" ] || fail "metrics: packs, pages, done, failed = $(echo $v)"
d=$(promcheck "$SCRATCH/spoold.prom" "spoold_stage_seconds_total{stage=\"deskew\",$lab}")
awk -v d="$d" 'BEGIN { exit !(d > 0) }' || fail "no deskew time in the metrics: $d"
exit 0
