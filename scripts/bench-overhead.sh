#!/bin/sh
# bench-overhead.sh — part 2 of `make bench`: the daemon's own cost.  The
# same packs of real pages go through one spoold node with workers=2 and
# through `xargs -P2 spoolfilter` (what a user would pick instead), on a
# local spool, alternately, --reps times each.
#
#   scripts/bench-overhead.sh [--out DIR] [--pages-dir DIR] [--packs 24]
#                             [--pack-pages 50] [--reps 3] [--poll 5]
#
# xargs: `cd IN && ls | xargs -P2 -I{} spoolfilter {} OUT/{}`, timed from
# start to exit (wall) and in CPU (user + sys of xargs and its children).
# spoold: started first on an empty spool (default chain, workers=2,
# poll_interval --poll, settle 0) and left idle until its heartbeat is
# there; then the packs are renamed into incoming/ at once (t0).  Its
# throughput is taken while it works, from the first "claimed" to the last
# "finished" (published) line of its log; the time from t0 to the first
# claim (seeing the packs: inotify, then the second look the readiness
# rule wants) is reported separately as latency.  CPU is
# that of spoold and its workers (they are its children) over the run.
# ratio = daemon pages/s while working / xargs pages/s; target >= 0.97.
#
# Writes DIR/overhead.tsv (one line per run) and DIR/summary.tsv.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
out=$top/bench-out/overhead pages_dir=$top/bench-out/pages
packs=24 pack_pages=50 reps=3 poll=5
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --pages-dir) pages_dir=$2; shift 2 ;;
        --packs) packs=$2; shift 2 ;;
        --pack-pages) pack_pages=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --poll) poll=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-overhead: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
BENCH_PART=bench-overhead
. "$top/scripts/bench-lib.sh"
bench_init
for p in "$build/spoold" "$build/spoolctl" "$build/spoolfilter" "$build/tools/cputime"; do
    [ -x "$p" ] || bench_die "$p is not built (make all)"
done
[ -d "$pages_dir/pages" ] || bench_die "no pages in $pages_dir (scripts/bench-pages.sh)"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/work
rm -rf "$work"
mkdir -p "$work/in" "$work/xout"
trap 'bench_stop_nodes' EXIT
trap 'exit 130' INT TERM

# The packs: two distinct packs of real pages (the set from page 0 and
# from the middle), alternating.
"$top/scripts/bench-pages.sh" --pack "$pages_dir" "$pack_pages" 0 "$work/a.tif"
"$top/scripts/bench-pages.sh" --pack "$pages_dir" "$pack_pages" "$pack_pages" "$work/b.tif"
for i in $(seq 1 "$packs"); do
    src=$work/a.tif
    [ $((i % 2)) -eq 0 ] && src=$work/b.tif
    ln "$src" "$work/in/$(printf 'pack%03d.tif' "$i")"
done
total=$((packs * pack_pages))

run_xargs() {
    rm -rf "$work/xout"
    mkdir -p "$work/xout"
    t0=$(bench_now)
    (cd "$work/in" && ls | "$build/tools/cputime" -o "$work/xcpu" -- \
        xargs -P2 -I{} "$build/spoolfilter" {} "$work/xout/{}") \
        || bench_die "xargs spoolfilter failed"
    t1=$(bench_now)
    [ "$(bench_count "$work/xout" '*.tif')" -eq "$packs" ] || bench_die "xargs: outputs missing"
    awk -v a="$t0" -v b="$t1" -v c="$(tail -n 1 "$work/xcpu")" -v p="$total" \
        'BEGIN { printf "xargs\t%.3f\t%.3f\t%.1f\t%.3f\t0\n", b - a, b - a, p / (b - a) * 60, c / p }'
}

run_daemon() {
    rm -rf "$work/spool" "$work/stage"
    "$build/spoolctl" init "$work/spool" >/dev/null || bench_die "spoolctl init"
    mkdir -p "$work/stage"
    for f in "$work"/in/*.tif; do ln "$f" "$work/stage/"; done
    cat >"$work/node.conf" <<EOF
spool = "$work/spool";
workers = 2;
poll_interval = $poll;
settle = 0;
min_free_memory = 0;
min_free_disk = 0;
allow_root = true;          # benchmarks may run as root (CI); spoold refuses root otherwise
EOF
    bench_start_node bench "$work/node.conf" "$work/node.log"
    i=0
    while [ ! -f "$work/spool/nodes/bench" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && bench_die "spoold did not start: $(tail -n 3 "$work/node.log")"
        sleep 0.05
    done
    sleep 1
    t0=$(bench_now)
    mv "$work"/stage/*.tif "$work/spool/incoming/"
    i=0
    while [ "$(bench_count "$work/spool/out" '*.tif')" -lt "$packs" ]; do
        i=$((i + 1))
        [ $i -gt 36000 ] && bench_die "spoold did not finish in an hour"
        sleep 0.1
    done
    cpu=$(bench_proc_cpu $BENCH_PIDS)
    bench_stop_nodes
    bench_check_spool "$work/spool" "$packs" || bench_die "spoold left the spool wrong"
    first=$(bench_log_events "$work/node.log" claimed | awk '{ print $1 }' | bench_pct 0)
    last=$(bench_log_events "$work/node.log" finished | awk '{ print $1 }' | bench_pct 1)
    awk -v t0="$t0" -v a="$first" -v b="$last" -v c="$cpu" -v p="$total" \
        'BEGIN { printf "spoold\t%.3f\t%.3f\t%.1f\t%.3f\t%.3f\n", b - a, b - t0, p / (b - a) * 60, c / p, a - t0 }'
}

printf 'tool\trep\tbusy_s\twall_s\tpages_per_min\tcpu_ms_per_page\tlatency_s\n' >"$out/overhead.tsv"
r=1
while [ "$r" -le "$reps" ]; do
    bench_say "run $r of $reps: $packs packs of $pack_pages pages, xargs -P2 spoolfilter and spoold workers=2"
    if [ $((r % 2)) -eq 1 ]; then
        run_xargs | sed "s/^xargs/xargs\t$r/" >>"$out/overhead.tsv"
        run_daemon | sed "s/^spoold/spoold\t$r/" >>"$out/overhead.tsv"
    else
        run_daemon | sed "s/^spoold/spoold\t$r/" >>"$out/overhead.tsv"
        run_xargs | sed "s/^xargs/xargs\t$r/" >>"$out/overhead.tsv"
    fi
    tail -n 2 "$out/overhead.tsv" | awk -F'\t' '{ printf "    %-6s %7.2f s busy, %7.1f pages/min, %6.2f ms CPU/page\n", $1, $3, $5, $6 }' >&2
    r=$((r + 1))
done

# ratio per rep (daemon throughput / xargs throughput), median over reps
awk -F"\t" 'NR > 1 { b[$1, $2] = $3; c[$1, $2] = $6; if ($1 == "spoold") l[$2] = $7; if ($2 > n) n = $2 }
    END { for (r = 1; r <= n; r++) printf "%.4f %.4f %.3f\n", b["xargs", r] / b["spoold", r],
          c["spoold", r] / c["xargs", r], l[r] }' "$out/overhead.tsv" >"$work/ratios"
{
    printf 'packs\t%s\npack_pages\t%s\nreps\t%s\npoll_s\t%s\n' "$packs" "$pack_pages" "$reps" "$poll"
    printf 'ratio_median\t%s\n' "$(awk '{ print $1 }' "$work/ratios" | bench_pct 0.5)"
    printf 'ratio_min\t%s\nratio_max\t%s\n' "$(awk '{ print $1 }' "$work/ratios" | bench_pct 0)" \
        "$(awk '{ print $1 }' "$work/ratios" | bench_pct 1)"
    printf 'cpu_ratio_median\t%s\n' "$(awk '{ print $2 }' "$work/ratios" | bench_pct 0.5)"
    printf 'latency_median_s\t%s\n' "$(awk '{ print $3 }' "$work/ratios" | bench_pct 0.5)"
    printf 'xargs_pages_per_min\t%s\n' "$(awk -F'\t' '$1 == "xargs" { print $5 }' "$out/overhead.tsv" | bench_pct 0.5)"
    printf 'spoold_pages_per_min\t%s\n' "$(awk -F'\t' '$1 == "spoold" { print $5 }' "$out/overhead.tsv" | bench_pct 0.5)"
    printf 'xargs_cpu_ms_page\t%s\n' "$(awk -F'\t' '$1 == "xargs" { print $6 }' "$out/overhead.tsv" | bench_pct 0.5)"
    printf 'spoold_cpu_ms_page\t%s\n' "$(awk -F'\t' '$1 == "spoold" { print $6 }' "$out/overhead.tsv" | bench_pct 0.5)"
} >"$out/summary.tsv"
rm -rf "$work/xout" "$work/spool"
bench_say "daemon/xargs throughput ratio (median of $reps): $(awk -F'\t' '$1 == "ratio_median" { print $2 }' "$out/summary.tsv")"
