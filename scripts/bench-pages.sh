#!/bin/sh
# bench-pages.sh — the real pages of `make bench` (used by bench-overhead.sh
# and bench-day.sh): N distinct degraded A4 300-dpi pages made by the
# project's generator (scripts/mksamples.sh), kept in DIR and reused while
# N and the seed stay the same, and packs assembled from them.
#
#   scripts/bench-pages.sh DIR N SEED                 makes DIR/pages/*.tif
#   scripts/bench-pages.sh --pack DIR PAGES START OUT
#       writes OUT, a multi-page G4 TIFF of PAGES pages taken from the set
#       in order, starting at page START (0-based) and wrapping around.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1-}" = "--pack" ]; then
    dir=$2 pages=$3 start=$4 outf=$5
    n=$(ls "$dir"/pages/p*.tif | wc -l)
    [ "$n" -gt 0 ] || { echo "bench-pages: no pages in $dir/pages" >&2; exit 1; }
    ls "$dir"/pages/p*.tif | awk -v p="$pages" -v s="$start" -v n="$n" '
        { f[NR - 1] = $0 } END { for (i = 0; i < p; i++) print f[(s + i) % n] }' >"$outf.list"
    # shellcheck disable=SC2046
    tiffcp $(cat "$outf.list") "$outf" || { echo "bench-pages: tiffcp $outf failed" >&2; exit 1; }
    rm -f "$outf.list"
    exit 0
fi

[ $# -eq 3 ] || { echo "usage: bench-pages.sh DIR N SEED | --pack DIR PAGES START OUT" >&2; exit 2; }
dir=$1 n=$2 seed=$3
if grep -q "\"n\": $n, \"seed\": $seed, \"dpi\": 300," "$dir/corpus.json" 2>/dev/null; then
    exit 0
fi
echo "bench-pages: making $n distinct pages (seed $seed) in $dir with scripts/mksamples.sh" >&2
"$top/scripts/mksamples.sh" --out "$dir" -n "$n" --seed "$seed" --dpi 300 --pack 0 -j 2
