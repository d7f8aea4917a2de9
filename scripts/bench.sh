#!/bin/sh
# bench.sh — `make bench`: spoold's speed and scale in one go (issue 5).
# A benchmark, never a test: nothing here runs in `make check`.
#
#   scripts/bench.sh [--out DIR] [--quick] [--only "filters overhead scale tail day"]
#   BENCH_QUICK=1 scripts/bench.sh        (the same as --quick)
#
# Runs, in this order, and writes everything under DIR (default bench-out/):
#  1. filters/   per-page speed of the filter chain against the libtiff floor
#                (tiffcp), Leptonica's chain and unpaper: scripts/bench-filters.sh
#                on a subset (12 pages, 3 runs; quick: 4 pages, 1 run)
#  2. overhead/  spoold (one node, workers=2) against xargs -P2 spoolfilter on
#                the same packs of real pages, 5 alternating runs each (the
#                machine's load changes from minute to minute; short runs
#                close together keep the pairs comparable):
#                scripts/bench-overhead.sh
#  3. scale/     coordination: 1, 2, 4, 8 nodes over sshfs (a private sshd on
#                loopback), fixed-cost exec step, packs of 25..1000 pages,
#                20 s of work per node (10 packs of 100 pages; the thesis
#                had 26 per node): scripts/bench-scale.sh
#  4. tail/      packs of very different sizes on 8 nodes, claimed in spoold's
#                hashed order and largest first: scripts/bench-scale.sh --tail
#  5. day/       a scanner-day, 21,200 pages in packs of 100, through spoold
#                with 2 workers and the full chain: scripts/bench-day.sh
# then prints the table (DIR/table.txt, DIR/table.md) with PASS/FAIL against
# the targets of issue 5 and draws the plots (DIR/*.png, gnuplot; skipped
# with a note if gnuplot is missing).  Real pages for 2 and 5 are made once
# by scripts/mksamples.sh into DIR/pages and reused.
# Quick mode (for trying things; ~5 minutes): fewer pages and runs, scaling at
# N=100 only, a tenth of the scanner-day (its wall time is extrapolated, and
# the table says so).
# Needs root and /dev/fuse for 3 and 4 (the sshfs lab); packages from
# scripts/deps.sh --bench, which this script calls.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
out=$top/bench-out quick=${BENCH_QUICK:-0} only="filters overhead scale tail day"
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --only) only=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case $quick in 0|1) ;; *) quick=1 ;; esac
BENCH_PART=bench
. "$top/scripts/bench-lib.sh"
export SPOOLD_BUILD="$build"
"$top/scripts/deps.sh" --bench || bench_say "could not install every benchmark package; going on"
for p in "$build/spoold" "$build/spoolctl" "$build/spoolfilter" "$build/tools/fixedcost" \
         "$build/tools/mkpage" "$build/tools/cputime"; do
    [ -x "$p" ] || bench_die "$p is not built (make all)"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
want() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }
load() { awk '{ print $1 }' /proc/loadavg; }
stamp() { date +%s; }

t_begin=$(stamp)
load0=$(load)
bench_say "writing to $out (quick=$quick); load average $load0 on $(nproc) CPUs"
: >"$out/times.tsv"
part() {    # part NAME COMMAND...: runs one part, records its time
    _pn=$1
    shift
    _p0=$(stamp)
    bench_say "---- $_pn"
    if "$@"; then _prc=0; else _prc=$?; fi
    printf '%s\t%s\t%s\t%s\n' "$_pn" $(( $(stamp) - _p0 )) "$_prc" "$(load)" >>"$out/times.tsv"
    [ "$_prc" -eq 0 ] || bench_say "$_pn failed (exit $_prc); its rows will say so"
}

s_nodes="1 2 4 8"
if [ "$quick" -eq 1 ]; then
    f_args="-n 4 --reps 1" o_args="--packs 8 --pack-pages 50 --reps 1"
    s_sizes="100" s_per=6 d_args="--packs 21" pages_n=100
else
    f_args="-n 12 --reps 3" o_args="--packs 16 --pack-pages 50 --reps 5"
    s_sizes="25 50 100 500 1000" s_per=20 d_args="--packs 212" pages_n=100
fi

if want filters; then
    # shellcheck disable=SC2086
    part filters "$top/scripts/bench-filters.sh" --out "$out/filters" $f_args
fi
if want overhead || want day; then
    part pages "$top/scripts/bench-pages.sh" "$out/pages" "$pages_n" 11
fi
if want overhead; then
    # shellcheck disable=SC2086
    part overhead "$top/scripts/bench-overhead.sh" --out "$out/overhead" --pages-dir "$out/pages" $o_args
fi
if want scale; then
    part scale "$top/scripts/bench-scale.sh" --out "$out/scale" --nodes "$s_nodes" \
        --sizes "$s_sizes" --per-node-s "$s_per"
fi
if want tail; then
    part tail "$top/scripts/bench-scale.sh" --out "$out/tail" --tail --nodes 8 --claim-orders "hashed largest"
fi
if want day; then
    # shellcheck disable=SC2086
    part day "$top/scripts/bench-day.sh" --out "$out/day" --pages-dir "$out/pages" $d_args
fi
load1=$(load)
t_total=$(( $(stamp) - t_begin ))

# ---------------------------------------------------------------- table
"$top/scripts/bench-table.sh" "$out" "$quick" "$load0" "$load1" "$t_total"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -e "dir='$out'" "$top/scripts/bench-plots.gp" 2>"$out/gnuplot.log" \
        || bench_say "gnuplot failed: $(tail -n 3 "$out/gnuplot.log")"
    bench_say "plots: $(cd "$out" && ls ./*.png 2>/dev/null | sed "s,^./,," | tr "\n" " ")"
else
    bench_say "gnuplot is not installed (scripts/deps.sh --bench): no plots"
fi
bench_say "table: $out/table.txt ($out/table.md); total ${t_total} s"
