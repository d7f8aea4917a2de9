#!/bin/sh
# bench-filters.sh — the filter benchmark (make bench-filters; never a test).
#
#   scripts/bench-filters.sh [--out DIR] [-n 50] [--seed 2024] [--reps 3]
#                            [--core 0] [--no-unpaper]
#
# On a generated set of A4 300-dpi pages with known degradations (skew up to
# +-10 deg, all four orientations, borders, specks; scripts/mksamples.sh,
# packs of 10), on one core (taskset -c CORE), in one run:
#  - speed, as CPU time of each process (tests/tools/cputime.c, user + sys,
#    median of --reps runs over the whole set, per page):
#      spoolfilter (default chain; stages that are not built yet are
#        switched off and named in the table), per stage from its --report;
#      tiffcp -c g4 on the same packs (the libtiff decode + encode floor);
#      leptchain (tests/tools/leptchain.c: Leptonica's read, deskew,
#        orient, remove small components, write G4);
#      unpaper with default options, page by page (it reads only the first
#        page of a TIFF and no TIFF at all: each page is converted to PBM by
#        tifftopnm first, timed separately and not charged to unpaper);
#    and the ratios between them;
#  - accuracy of every tool against the ground truth (tests/tools/
#    scorepage.c): residual skew (median, p95), orientation right, border
#    pixels left, speck pixels left, content lost (median, p90); tiffcp's
#    row is the untouched input ("do nothing").
# Prints a table with PASS/FAIL against the targets of issue 2 and writes
# it, a key<TAB>value summary (summary.tsv, reused by the scale benchmark)
# and per-page TSVs to DIR (default bench-out/filters).  The page set is
# kept in DIR/set and reused while -n and --seed stay the same.
# Per page: spoolfilter's report gives each page's thread CPU time per stage
# (read + stages + write); the median over all pages and runs is the number
# the 30 ms target is checked on.  spoolfilter and tiffcp also run once per
# single-page file (CPU of the whole process, start-up included) for
# comparison.  Needs scripts/deps.sh --bench (unpaper, netpbm).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
tools=$build/tools
out=$top/bench-out/filters n=50 seed=2024 reps=3 core=0 do_unpaper=1
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        -n) n=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --core) core=$2; shift 2 ;;
        --no-unpaper) do_unpaper=0; shift ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-filters: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for v in "$n" "$seed" "$reps" "$core"; do
    case $v in ''|*[!0-9]*) echo "bench-filters: not a number: '$v'" >&2; exit 2 ;; esac
done
say() { echo "bench-filters: $*" >&2; }

"$top/scripts/deps.sh" --bench || say "could not install every benchmark package; going on"
for p in "$build/spoolfilter" "$tools/mkpage" "$tools/scorepage" "$tools/leptchain" "$tools/cputime"; do
    [ -x "$p" ] || { say "$p is not built (make all)"; exit 1; }
done
PATH="$build:$tools:$top/scripts:$PATH"
export PATH SPOOLD_BUILD="$build"
pin=""
command -v taskset >/dev/null && pin="taskset -c $core"
mkdir -p "$out"
out=$(cd "$out" && pwd)
set_dir=$out/set

# ---------------------------------------------------------------- the pages
if ! grep -q "\"n\": $n, \"seed\": $seed, \"dpi\": 300, \"pack\": 10," "$set_dir/corpus.json" 2>/dev/null; then
    say "making $n pages (seed $seed) in $set_dir"
    mksamples.sh --out "$set_dir" -n "$n" --seed "$seed" --dpi 300 --pack 10 -j 2
fi
packs=$(ls "$set_dir"/packs/pack*.tif)
ids=$(sed -n 's/^{"id": "\([^"]*\)".*/\1/p' "$set_dir/truth.jsonl")
rm -rf "$out/out" "$out/work"
mkdir -p "$out/out/tiffcp" "$out/out/spoolfilter" "$out/out/leptchain" "$out/out/unpaper" \
         "$out/work/pbm" "$out/work/rep"
times=$out/times.tsv
: >"$times"

# ---------------------------------------------------------------- spoolfilter's stages
# Stages not built yet make spoolfilter refuse; switch those off, say so.
sfopts=""
first=$(echo "$packs" | head -n 1)
for _ in 1 2 3 4 5 6; do
    # shellcheck disable=SC2086
    if msg=$(spoolfilter $sfopts "$first" "$out/work/probe.tif" 2>&1); then
        break
    fi
    st=$(echo "$msg" | sed -n "s/.*filter '\([a-z]*\)' is not available.*/\1/p")
    [ -n "$st" ] || { say "spoolfilter fails: $msg"; exit 1; }
    sfopts="$sfopts --no-$st"
done
chain=${sfopts:+default chain without:$(echo "$sfopts" | sed 's/--no-/ /g')}
chain=${chain:-default chain}
say "spoolfilter: $chain"

# ---------------------------------------------------------------- speed
# run TOOL REP PACK: one timed run on one core; appends TOOL REP PACK MS.
run() {
    tool=$1 rep=$2 pk=$3
    name=$(basename "$pk" .tif)
    o=$out/out/$tool/$name.tif
    case $tool in
        tiffcp) set -- tiffcp -c g4 "$pk" "$o" ;;
        # shellcheck disable=SC2086
        spoolfilter) set -- spoolfilter $sfopts --report "$out/work/rep/$name.$rep.jsonl" "$pk" "$o" ;;
        leptchain) set -- leptchain --report "$out/work/rep/lept-$name.$rep.jsonl" "$pk" "$o" ;;
    esac
    # shellcheck disable=SC2086
    cputime -o "$out/work/t" -- $pin "$@" >/dev/null 2>"$out/work/err" \
        || { say "$tool failed on $name: $(tail -n 2 "$out/work/err")"; exit 1; }
    printf '%s\t%s\t%s\t%s\n' "$tool" "$rep" "$name" "$(tail -n 1 "$out/work/t")" >>"$times"
}
say "timing tiffcp, spoolfilter and leptchain on $(echo "$packs" | wc -l) packs, $reps runs each"
r=1
while [ "$r" -le "$reps" ]; do
    for pk in $packs; do
        for tool in tiffcp spoolfilter leptchain; do
            run "$tool" "$r" "$pk"
        done
    done
    r=$((r + 1))
done
for pk in $packs; do     # the reports of the last run name the outputs' pages
    name=$(basename "$pk" .tif)
    cp "$out/work/rep/$name.$reps.jsonl" "$out/out/spoolfilter/$name.jsonl"
    cp "$out/work/rep/lept-$name.$reps.jsonl" "$out/out/leptchain/$name.jsonl"
done

say "timing spoolfilter and tiffcp page by page (single-page files), $reps runs each"
r=1
while [ "$r" -le "$reps" ]; do
    for id in $ids; do
        pg=$set_dir/pages/$id.tif
        # shellcheck disable=SC2086
        cputime -o "$out/work/t" -- $pin spoolfilter $sfopts "$pg" "$out/work/one.tif" \
            2>"$out/work/err" || { say "spoolfilter failed on $id: $(cat "$out/work/err")"; exit 1; }
        printf 'spoolfilter-page\t%s\t%s\t%s\n' "$r" "$id" "$(tail -n 1 "$out/work/t")" >>"$times"
        cputime -o "$out/work/t" -- $pin tiffcp -c g4 "$pg" "$out/work/one.tif" 2>/dev/null \
            || { say "tiffcp failed on $id"; exit 1; }
        printf 'tiffcp-page\t%s\t%s\t%s\n' "$r" "$id" "$(tail -n 1 "$out/work/t")" >>"$times"
    done
    r=$((r + 1))
done

have_unpaper=0
if [ "$do_unpaper" -eq 1 ] && command -v unpaper >/dev/null && command -v tifftopnm >/dev/null; then
    have_unpaper=1
    say "timing unpaper page by page (slow: a few seconds a page)"
    for id in $ids; do
        cputime -o "$out/work/t" -- $pin tifftopnm "$set_dir/pages/$id.tif" \
            >"$out/work/pbm/$id.pbm" 2>/dev/null || { say "tifftopnm failed on $id"; exit 1; }
        printf 'tifftopnm\t1\t%s\t%s\n' "$id" "$(tail -n 1 "$out/work/t")" >>"$times"
        rm -f "$out/out/unpaper/$id.pbm"
        cputime -o "$out/work/t" -- $pin unpaper "$out/work/pbm/$id.pbm" \
            "$out/out/unpaper/$id.pbm" >/dev/null 2>&1 || say "unpaper failed on $id"
        printf 'unpaper\t1\t%s\t%s\n' "$id" "$(tail -n 1 "$out/work/t")" >>"$times"
    done
else
    [ "$do_unpaper" -eq 0 ] || say "unpaper or tifftopnm missing (scripts/deps.sh --bench): no unpaper row"
fi

# ms per page of a tool: median over runs of (sum over its files) / pages
per_page() {
    awk -F'\t' -v t="$1" -v n="$n" '$1 == t { s[$2] += $4; if (!($2 in seen)) { seen[$2] = 1; k++ } }
        END { if (!k) { print "nan"; exit } m = 0; i = 0
              for (r in s) v[++i] = s[r] / n
              for (a = 1; a <= i; a++) for (b = a + 1; b <= i; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x }
              printf "%.2f\n", v[int((i + 1) / 2)] }' "$times"
}
# page_stat TOOL P: percentile P over pages of the fastest run of each page
page_stat() {
    awk -F'\t' -v t="$1" '$1 == t { if (!($3 in m) || $4 < m[$3]) m[$3] = $4 }
        END { i = 0; for (k in m) v[++i] = m[k]; if (!i) { print "nan"; exit }
              for (a = 1; a <= i; a++) for (b = a + 1; b <= i; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x }
              k = int('"$2"' * i + 0.999999); if (k < 1) k = 1; printf "%.2f\n", v[k] }' "$times"
}
pg_sf_med=$(page_stat spoolfilter-page 0.5)
pg_sf_p90=$(page_stat spoolfilter-page 0.9)
pg_tc_med=$(page_stat tiffcp-page 0.5)
ms_tiffcp=$(per_page tiffcp)
ms_sf=$(per_page spoolfilter)
ms_lept=$(per_page leptchain)
ms_unpaper=$(per_page unpaper)
ms_conv=$(per_page tifftopnm)
scorepage --timings "$out"/work/rep/pack*.jsonl >"$out/stages-spoolfilter.tsv"
scorepage --timings "$out"/work/rep/lept-*.jsonl >"$out/stages-leptchain.tsv"
stage() { awk -F'\t' -v s="$2" -v c="$3" '$1 == s { print $c }' "$out/stages-$1.tsv"; }

# ---------------------------------------------------------------- accuracy
say "scoring the outputs"
score() {   # score TOOL ARGS...
    t=$1
    shift
    scorepage --truth "$set_dir/truth.jsonl" -j 2 --tsv "$out/score-$t.tsv" \
        --summary "$out/score-$t.sum" "$@" 2>"$out/work/score-$t.log" \
        || say "scorepage reported problems for $t (see $out/score-$t.tsv)"
}
score tiffcp --outputs "$out/out/tiffcp" --packs
score spoolfilter --outputs "$out/out/spoolfilter" --packs --report '{pack}.jsonl'
score leptchain --outputs "$out/out/leptchain" --packs --report '{pack}.jsonl'
[ "$have_unpaper" -eq 1 ] && score unpaper --outputs "$out/out/unpaper" --pattern '{id}.pbm'
sv() { awk -F'\t' -v k="$2" '$1 == k { print $2 }' "$out/score-$1.sum" 2>/dev/null; }

# ---------------------------------------------------------------- the table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "-" }'; }
row() {     # row TOOL LABEL MS
    t=$1
    if [ ! -f "$out/score-$t.sum" ]; then
        printf '%-13s %9s %8s %8s\n' "$2" "$3" "$(ratio "$3" "$ms_sf")" "$(ratio "$3" "$ms_tiffcp")"
        return
    fi
    printf '%-13s %9s %8s %8s %7.3f %7.3f %5s/%-3s %8.3f %8.2f %7.3f %7.3f\n' "$2" "$3" \
        "$(ratio "$3" "$ms_sf")" "$(ratio "$3" "$ms_tiffcp")" \
        "$(sv "$t" resid_skew_median)" "$(sv "$t" resid_skew_p95)" \
        "$(sv "$t" orient_right)" "$(sv "$t" pages)" "$(sv "$t" border_left_pct)" \
        "$(sv "$t" speck_left_pct)" "$(sv "$t" lost_pct_median)" "$(sv "$t" lost_pct_p90)"
}
check() {   # check NAME VALUE OP LIMIT
    r=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
        if (v == "" || v == "nan" || v == "-") { print "FAIL"; exit }
        ok = op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0; print ok ? "PASS" : "FAIL" }')
    v=$(awk -v v="$2" 'BEGIN { if (v ~ /^-?[0-9.e+-]+$/) printf "%.4g", v; else print v }')
    printf '  %s  %-44s %10s %s %s\n' "$r" "$1" "$v" "$3" "$4"
}
{
    echo "Filter benchmark: $n A4 300-dpi pages (seed $seed, packs of 10), one core ($pin), median of $reps runs"
    echo "spoolfilter: $chain"
    echo
    printf '%-13s %9s %8s %8s %7s %7s %9s %8s %8s %7s %7s\n' tool "ms/page" "x spoolf" "x tiffcp" \
        "skew" "skew" orient "border" "specks" lost lost
    printf '%-13s %9s %8s %8s %7s %7s %9s %8s %8s %7s %7s\n' "" "(CPU)" "" "" \
        "med" "p95" right "left %" "left %" "med %" "p90 %"
    row tiffcp "tiffcp -c g4" "$ms_tiffcp"
    row spoolfilter spoolfilter "$ms_sf"
    row leptchain "leptonica" "$ms_lept"
    if [ "$have_unpaper" -eq 1 ]; then
        row unpaper unpaper "$ms_unpaper"
        echo "  (unpaper: + $ms_conv ms/page for tifftopnm TIFF -> PBM, not included)"
    fi
    echo "  (tiffcp changes nothing: its row is the untouched input)"
    echo "  (specks left, isolated specks only: spoolfilter $(sv spoolfilter speck_left_isolated_pct)%," \
         "leptonica $(sv leptchain speck_left_isolated_pct)%; $(sv tiffcp speck_attached_share_pct)%" \
         "of the input's speck pixels touch text: merged with a glyph, no filter can tell them from ink," \
         "so the target is checked on isolated specks)"
    echo
    echo "spoolfilter per page and stage, from its report (thread CPU ms; all pages and runs):"
    printf '  %-10s %8s %8s %7s\n' stage median p90 "share"
    awk -F'\t' 'NR > 1 { n[NR] = $1; md[NR] = $2; p9[NR] = $3; mn[NR] = $4; if ($1 == "total") t = $4 }
        END { for (i = 2; i <= NR; i++) printf "  %-10s %8.2f %8.2f %6.1f%%\n", n[i], md[i], p9[i], (t > 0 ? 100 * mn[i] / t : 0) }' \
        "$out/stages-spoolfilter.tsv"
    echo "one process per single-page file (CPU incl. process start, fastest of $reps runs):"
    echo "  spoolfilter median $pg_sf_med p90 $pg_sf_p90 ms; tiffcp -c g4 median $pg_tc_med ms"
    echo
    echo "targets (issue 2):"
    check "spoolfilter ms/page, median page (report CPU)" "$(stage spoolfilter total 2)" "<=" 30
    check "spoolfilter CPU / tiffcp CPU" "$(ratio "$ms_sf" "$ms_tiffcp")" "<=" 3
    if [ "$have_unpaper" -eq 1 ]; then
        check "unpaper CPU / spoolfilter CPU" "$(ratio "$ms_unpaper" "$ms_sf")" ">=" 90
    else
        echo "  n/a   unpaper not installed"
    fi
    check "residual skew median (deg)" "$(sv spoolfilter resid_skew_median)" "<=" 0.03
    check "residual skew p95 (deg)" "$(sv spoolfilter resid_skew_p95)" "<=" 0.1
    check "orientation right (pages)" "$(sv spoolfilter orient_right)" ">=" "$n"
    check "border pixels left (%)" "$(sv spoolfilter border_left_pct)" "<=" 0.1
    check "speck pixels left, isolated specks (%)" "$(sv spoolfilter speck_left_isolated_pct)" "<=" 5
    check "content lost median (%)" "$(sv spoolfilter lost_pct_median)" "<=" 0.1
    check "content lost p90 (%)" "$(sv spoolfilter lost_pct_p90)" "<=" 0.5
} | tee "$out/table.txt"

{
    printf 'pages\t%s\nseed\t%s\nchain\t%s\n' "$n" "$seed" "$chain"
    printf 'tiffcp_ms_page\t%s\nspoolfilter_ms_page\t%s\nleptchain_ms_page\t%s\n' \
        "$ms_tiffcp" "$ms_sf" "$ms_lept"
    printf 'unpaper_ms_page\t%s\ntifftopnm_ms_page\t%s\n' "$ms_unpaper" "$ms_conv"
    printf 'spoolfilter_page_ms_median\t%s\nspoolfilter_page_ms_p90\t%s\ntiffcp_page_ms_median\t%s\n' \
        "$pg_sf_med" "$pg_sf_p90" "$pg_tc_med"
    printf 'spoolfilter_report_ms_median\t%s\nspoolfilter_report_ms_p90\t%s\n' \
        "$(stage spoolfilter total 2)" "$(stage spoolfilter total 3)"
    for t in tiffcp spoolfilter leptchain unpaper; do
        [ -f "$out/score-$t.sum" ] && sed "s/^/${t}_/" "$out/score-$t.sum"
    done
} >"$out/summary.tsv"
say "table: $out/table.txt; summary: $out/summary.tsv; per page: $out/score-*.tsv, $out/times.tsv"
