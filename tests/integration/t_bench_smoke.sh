#!/bin/sh
# t_bench_smoke.sh — the plumbing of `make bench`, not its numbers: the
# coordination part (scripts/bench-scale.sh) runs one node over the sshfs
# lab with two tiny packs and a 1 ms/page fixed cost, and its row must
# say the run was valid (every pack published once) with the fields the
# table needs; the table (scripts/bench-table.sh) must render it with a
# PASS/FAIL line per target; the plots are drawn when gnuplot is there.
# No timing is asserted.  Runs in a few seconds.
. "$(dirname "$0")/../lib/spooltest.sh"
need sshfs tiffinfo
command -v awk >/dev/null || skip "no awk"
top=$T_TOP
out=$SCRATCH/bench
SPOOLD_BUILD=${SPOOLD_BUILD:-$top/build} "$top/scripts/bench-scale.sh" --out "$out/scale" \
    --nodes 1 --sizes 5 --per-node-s 0.001 --page-ms 1 >"$SCRATCH/scale.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    grep -q "cannot run the sshfs lab" "$SCRATCH/scale.log" && skip "no sshfs lab here"
    cat "$SCRATCH/scale.log" >&2
    fail "bench-scale.sh exited $rc"
fi
tsv=$out/scale/scale.tsv
[ -f "$tsv" ] || fail "no scale.tsv"
[ "$(wc -l <"$tsv")" -eq 2 ] || fail "scale.tsv should have a header and one row: $(cat "$tsv")"
# the row: valid, 1 node, 5 pages a pack, 1 pack, positive makespan and
# a request count (the sftp-server log was read)
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { exit !($c["valid"] == 1 && $c["nodes"] == 1 && $c["pages_per_pack"] == 5 &&
             $c["packs"] == 1 && $c["makespan_s"] > 0 && $c["requests_per_pack"] > 0 &&
             $c["efficiency"] > 0) }' "$tsv" || fail "unexpected row: $(tail -n 1 "$tsv")"
[ -f "$out/scale/runs/n1-N5/node1.log" ] || fail "no node log kept"
grep -q 'finished p00001.tif' "$out/scale/runs/n1-N5/node1.log" || fail "the pack was not finished"
# the lab is down again: no mount of ours left
mount | grep -q "$out/scale/work/lab" && fail "the lab is still mounted"

"$top/scripts/bench-table.sh" "$out" 0 - - 1 >"$SCRATCH/table.out" 2>&1 || fail "bench-table.sh failed"
[ -f "$out/table.txt" ] && [ -f "$out/table.md" ] || fail "no table files"
[ "$(grep -cE '^ +(PASS|FAIL) ' "$out/table.txt")" -eq 5 ] || fail "not five target lines: $(cat "$out/table.txt")"
grep -q '^| N pages/pack |' "$out/table.md" || fail "no scaling table in table.md"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -e "dir='$out'" "$top/scripts/bench-plots.gp" 2>"$SCRATCH/gnuplot.log" || fail "gnuplot: $(cat "$SCRATCH/gnuplot.log")"
    [ -s "$out/scale-efficiency.png" ] || fail "no efficiency plot"
fi
exit 0
