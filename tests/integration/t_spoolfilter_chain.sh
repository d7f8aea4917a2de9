#!/bin/sh
# t_spoolfilter_chain.sh — spoolfilter with the default chain (border,
# orient, deskew, despeckle, crop) on the project's own degraded sample
# pages (scripts/mksamples.sh, known truth): a 4-page pack comes out as 4
# G4 pages in order whose sizes are those the report gives; the report has
# a time for every stage and finds each page's skew; --threads 2 writes the
# same bytes; --crop=a4 gives A4 pages at the page's resolution; --no-crop
# keeps the size; the chain's accuracy itself is tested by the filters'
# own tests and the benchmark.
set -u
cd "$SCRATCH" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

mksamples.sh -j 2 --out s -n 4 --seed 5 --pack 4 --mkpage-args "--orient 0" \
    >/dev/null 2>err.txt || { cat err.txt; fail "mksamples"; }
pack=s/packs/pack001.tif
[ -f "$pack" ] || fail "no pack"

# num KEY LINE: a number from a report line
num() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p"; }

spoolfilter --report rep.jsonl "$pack" out.tif 2>err.txt || fail "default chain: $(cat err.txt)"
[ -s err.txt ] && fail "stderr: $(cat err.txt)"
jsonlcheck -n 4 rep.jsonl || fail "report"
tiffinfo out.tif >info.txt 2>&1 || fail "tiffinfo"
[ "$(grep -c 'Compression Scheme: CCITT Group 4' info.txt)" -eq 4 ] || fail "not 4 G4 pages"
grep 'Image Width' info.txt | sed 's/[^0-9]*\([0-9]*\)[^0-9]*\([0-9]*\).*/\1x\2/' >sizes.txt
i=0
while IFS= read -r line; do
    i=$((i + 1))
    w=$(num width "$line") h=$(num height "$line")
    [ "$(sed -n "${i}p" sizes.txt)" = "${w}x$h" ] || fail "page $i: report ${w}x$h, file $(sed -n "${i}p" sizes.txt)"
    for stage in read border orient deskew despeckle crop write; do
        t=$(printf '%s\n' "$line" | sed -n "s/.*\"$stage\":\([0-9.]*\).*/\1/p")
        [ -n "$t" ] || fail "page $i: no time for $stage"
    done
    id=$(printf p%04d $i)
    truth=$(grep "\"id\": \"$id\"" s/truth.jsonl | sed -n 's/.*"skew_deg": \(-\{0,1\}[0-9.]*\).*/\1/p')
    skew=$(num skew "$line")
    awk -v a="$skew" -v b="$truth" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.2) }' ||
        fail "page $i: skew $skew, truth $truth"
done <rep.jsonl
[ "$i" -eq 4 ] || fail "$i report lines"

spoolfilter --threads 2 "$pack" out2.tif || fail "--threads 2"
cmp -s out.tif out2.tif || fail "--threads 2 wrote other bytes"

spoolfilter --crop=a4 "$pack" a4.tif || fail "--crop=a4"
[ "$(tiffinfo a4.tif 2>/dev/null | grep -c 'Image Width: 2480 Image Length: 3508')" -eq 4 ] ||
    fail "--crop=a4 sizes: $(tiffinfo a4.tif 2>/dev/null | grep 'Image Width')"

spoolfilter --no-crop "$pack" nocrop.tif || fail "--no-crop"
tiffinfo nocrop.tif 2>/dev/null | grep 'Image Width' >got.txt
tiffinfo "$pack" 2>/dev/null | grep 'Image Width' >want.txt
cmp -s got.txt want.txt || fail "--no-crop changed sizes"
echo ok
