#!/bin/sh
# t_samples.sh — the sample-page generator (scripts/mksamples.sh +
# tests/tools/mkpage.c) is deterministic and its ground truth is exact:
#  - same seed -> the same bytes (pages, refs, masks, packs, truth), whatever
#    the number of parallel workers; another seed -> other pages;
#  - a page made with no degradation is byte-identical to its reference;
#  - a page with only a 90 deg turn is its reference turned (checked with
#    the scorer's own, independent quarter turn);
#  - a page with only a border is its reference plus exactly the border
#    rectangle, and the mask is exactly that rectangle;
#  - a page with only specks is a superset of its reference by exactly the
#    truth's pepper_px pixels;
#  - the truth's parameters stay in the promised ranges and packs hold the
#    pages in order.
set -eu
. "$SPOOLD_TOP/tests/lib/samples.sh"

cd "$SCRATCH"
mk() { mksamples.sh -j 2 "$@" 2>/dev/null; }

# ---- determinism
mk --out a -n 6 --seed 11 --pack 4
mk --out b -n 6 --seed 11 --pack 4 -j 1
for d in pages ref mask packs; do
    diff -r "a/$d" "b/$d" >/dev/null || fail "seed 11 made different $d"
done
cmp a/truth.jsonl b/truth.jsonl || fail "seed 11 made a different truth"
[ "$(wc -l <a/truth.jsonl)" -eq 6 ] || fail "6 pages, $(wc -l <a/truth.jsonl) truth lines"
mk --out c -n 2 --seed 12
if cmp -s a/pages/p0001.tif c/pages/p0001.tif && cmp -s a/pages/p0002.tif c/pages/p0002.tif; then
    fail "seed 12 made the same pages as seed 11"
fi

# ---- packs: pages in order, k pages each
[ -f a/packs/pack002.tif ] && [ ! -e a/packs/pack003.tif ] || fail "6 pages in packs of 4: want 2 packs"
for p in 1 2 3 4 5 6; do
    id=$(printf p%04d $p)
    pack=$(jfield a/truth.jsonl "$id" pack)
    k=$(jfield a/truth.jsonl "$id" pack_page)
    [ "$pack" = "packs/pack00$(( (p - 1) / 4 + 1 )).tif" ] && [ "$k" -eq $(( (p - 1) % 4 )) ] \
        || fail "$id: pack $pack page $k"
done
tiffinfo a/packs/pack002.tif 2>/dev/null | grep -c "Image Width" | grep -qx 2 \
    || fail "pack002 should hold 2 pages"

# ---- parameters in range
awk -F'"skew_deg": ' 'NF > 1 { split($2, v, ","); s = v[1] + 0; if (s < -10 || s > 10) bad = 1 }
    END { exit bad }' a/truth.jsonl || fail "skew outside +-10"
grep -q '"orientation": \(0\|90\|180\|270\),' a/truth.jsonl || fail "no orientation field"
grep -v '"orientation": \(0\|90\|180\|270\),' a/truth.jsonl | grep -q . && fail "bad orientation"

# ---- no degradation: page == reference, byte for byte
mk --out clean -n 2 --seed 3 --mkpage-args "--clean"
for id in p0001 p0002; do
    cmp clean/pages/$id.tif clean/ref/$id.tif || fail "$id: clean page differs from its reference"
    [ "$(jfield clean/truth.jsonl $id border_px)" -eq 0 ] || fail "$id: clean page has a border"
done

# ---- only a turn: page == reference turned clockwise
mk --out turn -n 1 --seed 3 --mkpage-args "--clean --orient 90"
scorepage --same turn/ref/p0001.tif turn/pages/p0001.tif --turn 90 >/dev/null \
    || fail "page with a 90 deg turn is not its reference turned clockwise"
scorepage --same turn/ref/p0001.tif turn/pages/p0001.tif --turn 270 >/dev/null \
    && fail "the comparison cannot tell 90 from 270"

# ---- only a border: page == reference + the rectangle; mask == the rectangle
mk --out bord -n 1 --seed 3 --mkpage-args "--clean --borders left:solid:57"
h=$(jfield bord/truth.jsonl p0001 height)
mkpage edit bord/ref/p0001.tif want.tif --fill 0,0,57,"$h" >/dev/null
scorepage --same want.tif bord/pages/p0001.tif >/dev/null || fail "border page is not ref + 57 px strip"
mkpage edit bord/ref/p0001.tif wantmask.tif --clear 0,0,99999,99999 --fill 0,0,57,"$h" >/dev/null
scorepage --same wantmask.tif bord/mask/p0001.tif >/dev/null || fail "mask is not the 57 px strip"
[ "$(jfield bord/truth.jsonl p0001 border_region_px)" -eq $((57 * h)) ] || fail "border_region_px"

# ---- only specks: page = reference + exactly pepper_px new pixels
mk --out spk -n 1 --seed 3 --mkpage-args "--clean --specks 300"
out=$(mkpage edit spk/ref/p0001.tif sum.tif --or spk/pages/p0001.tif)
added=$(echo "$out" | sed 's/.*"added_px": \([0-9]*\).*/\1/')
want=$(jfield spk/truth.jsonl p0001 pepper_px)
[ "$added" -eq "$want" ] && [ "$want" -gt 300 ] || fail "specks: added $added, truth pepper_px $want"
scorepage --same sum.tif spk/pages/p0001.tif >/dev/null || fail "speck page lost reference ink"
[ "$(jfield spk/truth.jsonl p0001 pepper_specks)" -eq 300 ] || fail "pepper_specks"
echo "ok"
