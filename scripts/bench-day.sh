#!/bin/sh
# bench-day.sh — part 5 of `make bench`: a scanner-day through spoold.
#
#   scripts/bench-day.sh [--out DIR] [--pages-dir DIR] [--packs 212]
#                        [--pack-pages 100] [--workers 2] [--poll 5]
#
# 21,200 A4 300-dpi pages in 212 packs of 100 (the thesis' day), through
# one spoold node with 2 workers and the full default chain (read, border,
# orient, deskew, despeckle, crop, G4 write, publish) on a local spool.
# Generating 21,200 distinct pages would take longer than the benchmark
# may, so the packs are assembled from the distinct pages in --pages-dir
# (scripts/bench-pages.sh: 100 made by scripts/mksamples.sh): four packs,
# each the whole set starting at a different page, hard-linked under 212
# names.  The daemon does all the work for every pack for real.
# The packs are in incoming/ when spoold --once starts; the wall time runs
# from its start to its exit (everything published, the spool drained).
# CPU is that of spoold and its workers.  Every output is checked to be a
# G4 TIFF with the pack's page count.
#
# Writes DIR/summary.tsv and DIR/node.log.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
out=$top/bench-out/day pages_dir=$top/bench-out/pages
packs=212 pack_pages=100 workers=2 poll=5
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --pages-dir) pages_dir=$2; shift 2 ;;
        --packs) packs=$2; shift 2 ;;
        --pack-pages) pack_pages=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --poll) poll=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-day: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
BENCH_PART=bench-day
. "$top/scripts/bench-lib.sh"
bench_init
for p in "$build/spoold" "$build/spoolctl" "$build/tools/cputime"; do
    [ -x "$p" ] || bench_die "$p is not built (make all)"
done
[ -d "$pages_dir/pages" ] || bench_die "no pages in $pages_dir (scripts/bench-pages.sh)"
distinct=$(ls "$pages_dir"/pages/p*.tif | wc -l)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/work
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work/spool"' EXIT
trap 'exit 130' INT TERM

step=$((distinct / 4))
for v in 0 1 2 3; do
    "$top/scripts/bench-pages.sh" --pack "$pages_dir" "$pack_pages" $((v * step)) "$work/v$v.tif"
done
"$build/spoolctl" init "$work/spool" >/dev/null || bench_die "spoolctl init"
for i in $(seq 1 "$packs"); do
    ln "$work/v$((i % 4)).tif" "$work/spool/incoming/$(printf 'day%03d.tif' "$i")"
done
cat >"$work/node.conf" <<EOF
spool = "$work/spool";
workers = $workers;
poll_interval = $poll;
settle = 0;
keep_done = false;
min_free_memory = 0;
min_free_disk = 0;
allow_root = true;          # benchmarks may run as root (CI); spoold refuses root otherwise
EOF
total=$((packs * pack_pages))
bench_say "$total pages ($packs packs of $pack_pages, assembled from $distinct distinct pages), spoold --once, workers=$workers, default chain"
t0=$(bench_now)
"$build/tools/cputime" -o "$work/cpu" -- "$build/spoold" -c "$work/node.conf" --node day --once \
    >"$out/node.log" 2>&1 || bench_die "spoold failed: $(tail -n 3 "$out/node.log")"
t1=$(bench_now)
ok=1
[ "$(bench_count "$work/spool/out" '*.tif')" -eq "$packs" ] || ok=0
for d in incoming claimed failed; do
    [ "$(bench_count "$work/spool/$d")" -eq 0 ] || ok=0
done
bad=0
for f in "$work"/spool/out/*.tif; do
    info=$(tiffinfo "$f" 2>/dev/null) || { bad=$((bad + 1)); continue; }
    [ "$(echo "$info" | grep -c '^TIFF Directory')" -eq "$pack_pages" ] &&
        [ "$(echo "$info" | grep -c 'Compression Scheme: CCITT Group 4')" -eq "$pack_pages" ] ||
        bad=$((bad + 1))
done
[ "$bad" -eq 0 ] || { ok=0; bench_say "$bad outputs are not G4 TIFFs of $pack_pages pages"; }
first=$(bench_log_events "$out/node.log" claimed | awk '{ print $1 }' | bench_pct 0)
awk -v t0="$t0" -v t1="$t1" -v p="$total" -v cpu="$(tail -n 1 "$work/cpu")" -v ok="$ok" \
    -v first="$first" -v packs="$packs" -v pp="$pack_pages" -v w="$workers" -v d="$distinct" 'BEGIN {
        T = t1 - t0
        printf "pages\t%d\npacks\t%d\npack_pages\t%d\nworkers\t%d\ndistinct_pages\t%d\n", p, packs, pp, w, d
        printf "wall_s\t%.2f\nwall_min\t%.3f\npages_per_min\t%.1f\n", T, T / 60, p / T * 60
        printf "cpu_ms_per_page\t%.3f\nfirst_claim_s\t%.3f\nvalid\t%d\n", cpu / p, first - t0, ok
        printf "day_wall_min\t%.3f\n", T / 60 * 21200 / p
    }' >"$out/summary.tsv"
bench_say "$(awk -F'\t' '{ v[$1] = $2 } END { printf "%d pages in %.2f min: %.0f pages/min, %.2f ms CPU/page%s",
    v["pages"], v["wall_min"], v["pages_per_min"], v["cpu_ms_per_page"], v["valid"] ? "" : " (INVALID)" }' "$out/summary.tsv")"
