#!/bin/sh
# mksamples.sh — makes the project's own sample pages: degraded A4 "scans"
# with exact ground truth, from licence texts every Debian system ships.
#
#   scripts/mksamples.sh --out DIR [-n 20] [--seed 1] [--dpi 300] [--pack 10]
#                        [-j 2] [--max-skew 10] [--texts F1:F2:...]
#                        [--mkpage-args "ARGS"]
#
# Writes DIR/pages/pNNNN.tif (degraded page, G4), DIR/ref/pNNNN.tif (clean
# upright reference), DIR/mask/pNNNN.tif (border zone), DIR/packs/packNNN.tif
# (K pages each, G4 multi-page), DIR/truth.jsonl (one JSON line per page, all
# parameters) and DIR/corpus.json (how the set was made).
#
# How: ghostscript lays out and renders each page once, anti-aliased grey,
# with tests/tools/mkpage-layout.ps; build/tools/mkpage (tests/tools/mkpage.c,
# where the degradation model and the conventions are documented) then
# turns, thresholds, adds borders and specks in C.  Pages are made in chunks
# of 4 by -j parallel workers, and the grey images are deleted as soon as
# they are used.  Same arguments -> same bytes (on the same ghostscript).
# --mkpage-args passes fixed options to every mkpage call (e.g. "--clean
# --orient 90" for the tests that check the truth is exact).
# Needs: ghostscript, fonts-urw-base35 (scripts/deps.sh), tiffcp
# (libtiff-tools) for the packs, and a built tree (make tools).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
mkpage=$build/tools/mkpage
layout=$top/tests/tools/mkpage-layout.ps

die() { echo "mksamples: $*" >&2; exit 1; }

# ---------------------------------------------------------------- one chunk
# Internal: --chunk OUT SEED DPI PACK MAXSKEW TEXTS EXTRA FIRST LAST (xargs
# adds the last two)
if [ "${1-}" = "--chunk" ]; then
    shift
    out=$1 seed=$2 dpi=$3 pack=$4 maxskew=$5 texts=$6 extra=$7 first=$8 last=$9
    tmp="$out/.work/chunk$first"
    mkdir -p "$tmp"
    w=$(awk -v d="$dpi" 'BEGIN { printf "%d", 210 / 25.4 * d + 0.5 }')
    h=$(awk -v d="$dpi" 'BEGIN { printf "%d", 297 / 25.4 * d + 0.5 }')
    permit=$(echo "$texts" | tr ':' '\n' | sed 's|/[^/]*$|/|' | sort -u | sed 's/^/--permit-file-read=/' | tr '\n' ' ')
    # shellcheck disable=SC2086
    gs -q -dBATCH -dNOPAUSE -dSAFER $permit -sDEVICE=pgmraw -r"$dpi" \
        -dDEVICEWIDTH="$w" -dDEVICEHEIGHT="$h" -dFIXEDMEDIA \
        -dTextAlphaBits=4 -dGraphicsAlphaBits=4 \
        -sMkText="$texts" -dMkFirst="$first" -dMkLast="$last" -dMkSeed="$seed" \
        -sOutputFile="$tmp/g%04d.pgm" "$layout" >"$tmp/gs.log" 2>&1 \
        || die "ghostscript failed on pages $first-$last: $(tail -n 3 "$tmp/gs.log")"
    i=$first
    while [ "$i" -le "$last" ]; do
        id=$(printf 'p%04d' "$i")
        g=$(printf '%s/g%04d.pgm' "$tmp" $((i - first + 1)))
        set --
        if [ "$pack" -gt 0 ]; then
            set -- --pack "$(printf 'packs/pack%03d.tif' $(((i - 1) / pack + 1)))" \
                   --pack-page $(((i - 1) % pack))
        fi
        # shellcheck disable=SC2086
        "$mkpage" --seed $((seed * 1000003 + i)) --dpi "$dpi" --max-skew "$maxskew" \
            --src "mkpage-layout.ps" --src-page "$i" $extra "$@" "$g" "$out" "$id" \
            >"$out/.work/$id.json" || die "mkpage failed on $id"
        rm -f "$g"
        i=$((i + 1))
    done
    rm -rf "$tmp"
    exit 0
fi

# ---------------------------------------------------------------- arguments
out="" n=20 seed=1 dpi=300 pack=10 jobs=2 maxskew=10 texts="" extra=""
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        -n) n=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --dpi) dpi=$2; shift 2 ;;
        --pack) pack=$2; shift 2 ;;
        -j) jobs=$2; shift 2 ;;
        --max-skew) maxskew=$2; shift 2 ;;
        --texts) texts=$2; shift 2 ;;
        --mkpage-args) extra=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ -n "$out" ] || die "--out DIR is required"
for v in "$n" "$seed" "$dpi" "$pack" "$jobs"; do
    case $v in ''|*[!0-9]*) die "not a non-negative integer: '$v'" ;; esac
done
[ "$n" -ge 1 ] && [ "$jobs" -ge 1 ] && [ "$dpi" -ge 72 ] || die "bad -n, -j or --dpi"
[ -x "$mkpage" ] || die "$mkpage not built (run make tools)"
command -v gs >/dev/null || die "ghostscript (gs) not installed (scripts/deps.sh)"
[ "$pack" -eq 0 ] || command -v tiffcp >/dev/null || die "tiffcp not installed (libtiff-tools)"
if [ -z "$texts" ]; then
    for f in GPL-3 Apache-2.0 LGPL-2.1 GPL-2 MPL-2.0 GFDL-1.3 Artistic; do
        [ -r "/usr/share/common-licenses/$f" ] && texts="$texts${texts:+:}/usr/share/common-licenses/$f"
    done
fi
[ -n "$texts" ] || die "no text files found (base-files' /usr/share/common-licenses)"

# ---------------------------------------------------------------- pages
start=$(date +%s)
rm -rf "$out/pages" "$out/ref" "$out/mask" "$out/packs" "$out/.work" "$out/truth.jsonl"
mkdir -p "$out/pages" "$out/ref" "$out/mask" "$out/packs" "$out/.work"
chunk=4
i=1
while [ "$i" -le "$n" ]; do
    last=$((i + chunk - 1))
    [ "$last" -le "$n" ] || last=$n
    echo "$i $last"
    i=$((last + 1))
done | xargs -P "$jobs" -n 2 sh "$0" --chunk "$out" "$seed" "$dpi" "$pack" \
        "$maxskew" "$texts" "$extra" || die "making pages failed (see above)"
i=1
while [ "$i" -le "$n" ]; do
    cat "$out/.work/$(printf 'p%04d' "$i").json"
    i=$((i + 1))
done >"$out/truth.jsonl"

# ---------------------------------------------------------------- packs
if [ "$pack" -gt 0 ]; then
    k=1 i=1
    while [ "$i" -le "$n" ]; do
        set --
        j=$i
        while [ "$j" -le "$n" ] && [ "$j" -lt $((i + pack)) ]; do
            set -- "$@" "$out/pages/$(printf 'p%04d' "$j").tif"
            j=$((j + 1))
        done
        tiffcp "$@" "$out/packs/$(printf 'pack%03d' "$k").tif" \
            || die "tiffcp failed on pack $k"
        k=$((k + 1)) i=$j
    done
fi
rm -rf "$out/.work"
secs=$(( $(date +%s) - start ))
cat >"$out/corpus.json" <<EOF2
{"generator": "scripts/mksamples.sh", "n": $n, "seed": $seed, "dpi": $dpi, "pack": $pack, "max_skew": $maxskew, "texts": "$texts", "mkpage_args": "$extra", "gs": "$(gs --version)", "seconds": $secs}
EOF2
echo "mksamples: $n pages in $out (${secs}s)" >&2
