#!/bin/sh
# t_samples_score.sh — the scorer (tests/tools/scorepage.c) against known
# answers:
#  - references scored against themselves: orientation right, no residual
#    skew, 0 px lost, 0 border px, 0 speck px;
#  - the untouched inputs: the measured skew is the true skew (0.02 deg),
#    the turn found is the one that undoes the orientation, ~100 % of the
#    border and specks are left and nothing is lost; the same through the
#    multi-page packs;
#  - known defects on a clean page: a 0.5 deg rotation, a border strip (all
#    and a third of it left), 9 specks of 3x3 in the margin (isolated), a
#    line through the text (stuck to it), a missing paragraph — each
#    measured with the right magnitude;
#  - a tool's report (JSON Lines "skew", "orientation") is compared with the
#    truth.
set -eu
. "$SPOOLD_TOP/tests/lib/samples.sh"

cd "$SCRATCH"
mksamples.sh -j 2 --out s -n 4 --seed 5 --pack 2 2>/dev/null

# ---- references against themselves
scorepage --truth s/truth.jsonl --outputs s/ref -j 2 --tsv ref.tsv --summary ref.sum 2>/dev/null
[ "$(sumval ref.sum aligned)" -eq 4 ] && [ "$(sumval ref.sum orient_right)" -eq 4 ] \
    || fail "references: not all aligned and upright"
between "$(sumval ref.sum resid_skew_max)" 0 0.01 || fail "references: residual skew"
for id in p0001 p0002 p0003 p0004; do
    for c in lost_px border_px noise_px; do
        [ "$(tsvcol ref.tsv $id $c)" -eq 0 ] || fail "reference $id: $c = $(tsvcol ref.tsv $id $c)"
    done
done

# ---- the untouched inputs, as single pages and as packs
scorepage --truth s/truth.jsonl -j 2 --tsv in.tsv 2>/dev/null
scorepage --truth s/truth.jsonl --outputs s/packs --packs -j 2 --tsv inpk.tsv 2>/dev/null
for id in p0001 p0002 p0003 p0004; do
    skew=$(jfield s/truth.jsonl $id skew_deg)
    o=$(jfield s/truth.jsonl $id orientation)
    within "$(tsvcol in.tsv $id resid_skew)" "$skew" 0.02 \
        || fail "input $id: measured skew $(tsvcol in.tsv $id resid_skew), true $skew"
    [ "$(tsvcol in.tsv $id turn)" -eq $(( (360 - o) % 360 )) ] \
        || fail "input $id: turn $(tsvcol in.tsv $id turn) for orientation $o"
    [ "$(tsvcol in.tsv $id orient_ok)" -eq "$([ "$o" -eq 0 ] && echo 1 || echo 0)" ] \
        || fail "input $id: orient_ok"
    if [ "$(tsvcol in.tsv $id in_border_px)" -gt 0 ]; then
        between "$(tsvcol in.tsv $id border_left_pct)" 99.9 100.1 || fail "input $id: border left"
    fi
    if [ "$(tsvcol in.tsv $id in_noise_px)" -gt 0 ]; then
        between "$(tsvcol in.tsv $id speck_left_pct)" 99.5 100.5 || fail "input $id: specks left"
    fi
    within "$(tsvcol in.tsv $id lost_excess_pct)" 0 0.01 || fail "input $id: lost"
    for c in resid_skew turn border_px noise_px lost_px; do
        [ "$(tsvcol in.tsv $id $c)" = "$(tsvcol inpk.tsv $id $c)" ] || fail "pack $id: $c differs"
    done
done

# ---- known defects on a clean page with a 60 px left border zone
mksamples.sh -j 2 --out d -n 1 --seed 5 --mkpage-args "--clean --borders left:solid:60" 2>/dev/null
h=$(jfield d/truth.jsonl p0001 height)
w=$(jfield d/truth.jsonl p0001 width)
mkdir o
score() {   # score d with outputs o/p0001.tif -> out.tsv
    scorepage --truth d/truth.jsonl --outputs o --tsv out.tsv 2>/dev/null || fail "scorepage failed"
}
# the reference turned 0.5 deg counter-clockwise
mkpage edit d/ref/p0001.tif o/p0001.tif --rotate 0.5 >/dev/null
score
within "$(tsvcol out.tsv p0001 resid_skew)" 0.5 0.02 || fail "0.5 deg read as $(tsvcol out.tsv p0001 resid_skew)"
[ "$(tsvcol out.tsv p0001 orient_ok)" -eq 1 ] || fail "0.5 deg: orientation"
# the whole border left, then a third of it
cp d/pages/p0001.tif o/p0001.tif
score
between "$(tsvcol out.tsv p0001 border_left_pct)" 99.9 100.1 || fail "whole border: $(tsvcol out.tsv p0001 border_left_pct)"
between "$(tsvcol out.tsv p0001 border_px)" $((60 * h * 98 / 100)) $((60 * h)) || fail "border px"
mkpage edit d/ref/p0001.tif o/p0001.tif --fill 0,0,20,"$h" >/dev/null
score
between "$(tsvcol out.tsv p0001 border_left_pct)" 32 35 || fail "a third of the border: $(tsvcol out.tsv p0001 border_left_pct)"
[ "$(tsvcol out.tsv p0001 noise_px)" -eq 0 ] || fail "border strip counted as specks"
# nine 3x3 specks in the top margin (white in every layout)
set --
for i in 1 2 3 4 5 6 7 8 9; do set -- "$@" --fill $((200 + 150 * i)),24,3,3; done
mkpage edit d/ref/p0001.tif o/p0001.tif "$@" >/dev/null
score
[ "$(tsvcol out.tsv p0001 noise_px)" -eq 81 ] || fail "9 specks of 9 px: noise $(tsvcol out.tsv p0001 noise_px)"
[ "$(tsvcol out.tsv p0001 noise_attached_px)" -eq 0 ] || fail "isolated specks counted as stuck to text"
[ "$(tsvcol out.tsv p0001 lost_px)" -eq 0 ] || fail "specks: lost"
# a 2 px line from top to bottom through the text: spurious, and stuck to text
mkpage edit d/ref/p0001.tif o/p0001.tif --fill $((w / 3)),0,2,"$h" >/dev/null
score
noise=$(tsvcol out.tsv p0001 noise_px)
[ "$noise" -gt $((h / 2)) ] && [ "$(tsvcol out.tsv p0001 noise_attached_px)" -eq "$noise" ] \
    || fail "line through text: noise $noise, attached $(tsvcol out.tsv p0001 noise_attached_px)"
# a missing paragraph: clear a band across the text
out=$(mkpage edit d/ref/p0001.tif o/p0001.tif --clear 0,$((h / 3)),"$w",300)
removed=$(echo "$out" | sed 's/.*"removed_px": \([0-9]*\).*/\1/')
score
lost=$(tsvcol out.tsv p0001 lost_px)
[ "$removed" -gt 5000 ] || fail "the band held only $removed px of text"
between "$lost" $((removed * 95 / 100)) "$removed" || fail "missing paragraph: lost $lost of $removed"
ref=$(tsvcol out.tsv p0001 ref_px)
within "$(tsvcol out.tsv p0001 lost_excess_pct)" "$(awk -v l="$lost" -v r="$ref" 'BEGIN { print 100 * l / r }')" 0.001 \
    || fail "lost_excess_pct"
# a wrong orientation is seen as such
mkpage edit d/ref/p0001.tif o/p0001.tif --turn 180 >/dev/null
score
[ "$(tsvcol out.tsv p0001 orient_ok)" -eq 0 ] && [ "$(tsvcol out.tsv p0001 turn)" -eq 180 ] \
    || fail "page upside down not seen"

# ---- a tool's report
cp d/ref/p0001.tif o/p0001.tif
echo '{"index": 0, "skew": 0.25, "orientation": 0}' >o/p0001.jsonl
scorepage --truth d/truth.jsonl --outputs o --report '{id}.jsonl' --tsv out.tsv 2>/dev/null
within "$(tsvcol out.tsv p0001 rep_skew_err)" 0.25 0.0001 || fail "reported skew error"
[ "$(tsvcol out.tsv p0001 rep_orient_ok)" -eq 1 ] || fail "reported orientation"
echo ok
