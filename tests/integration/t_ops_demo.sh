#!/bin/sh
# t_ops_demo.sh — issue 6: the README's first command does its main job.
# scripts/demo.sh (what `make demo` runs after installing packages and
# building) makes its samples, runs two nodes over a spool and drains it:
# every good pack is cleaned into out/ with its report, the torn scan is
# quarantined in failed/ with a reason, both nodes' metrics files exist and
# parse, and nothing is left in incoming/ or claimed/.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need gs tiffcp tiffinfo

D="$SCRATCH/demo"
sh "$SPOOLD_TOP/scripts/demo.sh" "$D" >"$SCRATCH/demo.out" 2>&1 ||
    fail "demo.sh failed: $(tail -n 5 "$SCRATCH/demo.out")"
SP="$D/spool"
for p in pack001 pack002 pack003 pack004 box-17; do
    [ -s "$SP/out/$p.tif" ] || fail "out/$p.tif missing"
    jsonlcheck -n 1 "$SP/out/$p.json" || fail "out/$p.json is not one JSON object"
done
[ "$(tiffinfo "$SP/out/pack001.tif" 2>/dev/null | grep -c 'Image Width')" -eq 6 ] ||
    fail "out/pack001.tif should have 6 pages"
[ "$(tiffinfo "$SP/out/box-17.tif" 2>/dev/null | grep -c 'Image Width')" -eq 2 ] ||
    fail "out/box-17.tif should have 2 pages"
[ -e "$SP/failed/torn-scan.tif" ] && [ -s "$SP/failed/torn-scan.tif.err" ] ||
    fail "the torn scan is not in failed/ with its reason"
[ -z "$(find "$SP/incoming" "$SP/claimed" -mindepth 1 -maxdepth 1)" ] || fail "packs left in incoming/ or claimed/: $(ls "$SP/incoming" "$SP/claimed")"
for n in node1 node2; do
    [ -s "$D/$n.prom" ] || fail "$n wrote no metrics file"
    promcheck "$D/$n.prom" || fail "$D/$n.prom does not parse"
done
grep -q 'metrics files of both nodes parse' "$SCRATCH/demo.out" || fail "the demo did not check its metrics"
done_packs=$(cat "$D/node1.prom" "$D/node2.prom" |
    awk '/^spoold_packs_total\{.*result="done"\}/ { n += $NF } END { print n + 0 }')
[ "$done_packs" -eq 5 ] || fail "the nodes' metrics count $done_packs packs done, not 5"
exit 0
