# bench-plots.gp — the plots of `make bench` (gnuplot 5), drawn from what
# the parts wrote under dir:
#   gnuplot -e "dir='bench-out'" scripts/bench-plots.gp
# scale-speedup.png     speedup against nodes, one line per pack size, the
#                       ideal line and the thesis' point (8 nodes, 7.4)
# scale-efficiency.png  efficiency against nodes, ideal 1, thesis 0.93
# scale-gap.png         per-pack gap (cost beyond the work) and SFTP
#                       requests per pack against nodes
# tail.png              what every node did over time in the mixed-size
#                       runs, one panel per claim order (the tail is the
#                       white space at the right)
# filters.png           CPU per page of each tool (log scale)
# A plot whose data is missing is skipped.

if (!exists("dir")) dir = "bench-out"
scale = dir . "/scale/scale.tsv"
have(f) = system("test -s '" . f . "' && echo 1 || echo 0") + 0

set terminal pngcairo size 900,600 font "sans,11" noenhanced
set grid
set key left top

# pack sizes present, in order
sizes = system("awk -F'\t' 'NR > 1 { print $2 }' '" . scale . "' 2>/dev/null | sort -n | uniq | tr '\\n' ' '")
nodes_max = system("awk -F'\t' 'NR > 1 && $1 > m { m = $1 } END { print m + 0 }' '" . scale . "' 2>/dev/null") + 0
rows(N) = sprintf("< awk -F'\t' 'NR > 1 && $2 == %s' '%s' | sort -n", N, scale)

if (have(scale) && nodes_max > 0) {
    set output dir . "/scale-speedup.png"
    set title "Coordination scaling over sshfs: speedup (fixed-cost work, workers=1 per node)"
    set xlabel "nodes"
    set ylabel "speedup = nodes x efficiency"
    set xrange [0:nodes_max + 0.5]
    set yrange [0:nodes_max + 0.5]
    set xtics 1
    plot x with lines dashtype 2 lc rgb "gray40" title "ideal", \
         "< echo 8 7.4" using 1:2 with points pt 7 ps 1.8 lc rgb "black" title "thesis (8 nodes: 7.4)", \
         for [N in sizes] rows(N) using 1:9 with linespoints lw 2 pt 7 title sprintf("N = %s pages/pack", N)

    set output dir . "/scale-efficiency.png"
    set title "Coordination scaling over sshfs: efficiency = (work / nodes) / makespan"
    set ylabel "efficiency"
    set yrange [0.7:1.05]
    set key left bottom
    plot 1 with lines dashtype 2 lc rgb "gray40" title "ideal", \
         0.97 with lines dashtype 3 lc rgb "red" title "target 0.97", \
         "< echo 8 0.93" using 1:2 with points pt 7 ps 1.8 lc rgb "black" title "thesis (8 nodes: 0.93)", \
         for [N in sizes] rows(N) using 1:8 with linespoints lw 2 pt 7 title sprintf("N = %s", N)

    set output dir . "/scale-gap.png"
    set title "Per-pack cost beyond the work (median gap between steps) and SFTP requests per pack"
    set ylabel "gap, ms (median)"
    set y2label "SFTP requests per pack"
    set yrange [0:*]
    set y2range [0:*]
    set y2tics
    set key left top
    plot 10 with lines dashtype 3 lc rgb "red" title "target 10 ms", \
         for [N in sizes] rows(N) using 1:12 with linespoints lw 2 pt 7 title sprintf("gap, N = %s", N), \
         for [N in sizes] rows(N) using 1:16 axes x1y2 with linespoints lw 1 dashtype 2 pt 6 title sprintf("requests, N = %s", N)
    unset y2tics
    unset y2label
}

# tail: one panel per claim order, a bar per step (node against time)
tailtsv = dir . "/tail/tail.tsv"
if (have(tailtsv)) {
    orders = system("awk -F'\t' 'NR > 1 { print $1 }' '" . tailtsv . "' | tr '\\n' ' '")
    norders = words(orders)
    steps(o) = sprintf("< awk -F'\t' 'NR == FNR { if ($1 < t0 || t0 == \"\") t0 = $1; next } { sub(/node/, \"\", $5); printf \"%%.3f %%s %%.3f %%s\\n\", ($1 - t0) / 1e9, $5, ($2 - $1) / 1e9, $3 }' '%s/tail/runs/tail-%s/stamps' '%s/tail/runs/tail-%s/stamps'", dir, o, dir, o)
    set output dir . "/tail.png"
    set terminal pngcairo size 900, 300 * norders + 60 font "sans,11" noenhanced
    set multiplot layout norders, 1 title "Packs of 25-1000 pages on 8 nodes: what each node ran (bar = one pack, colour = its pages)"
    unset key
    set xlabel "seconds since the first step"
    set ylabel "node"
    set xrange [0:*]
    set yrange [0.3:8.7]
    set ytics 1
    set xtics auto
    set cbrange [0:1000]
    set cblabel "pages"
    set palette defined (0 "#9ecae1", 200 "#3182bd", 1000 "#de2d26")
    do for [o in orders] {
        set title sprintf("claim_order = %s", o)
        plot steps(o) using 1:2:3:(0):4 with vectors nohead lw 12 lc palette
    }
    unset multiplot
    set terminal pngcairo size 900,600 font "sans,11" noenhanced
}

# filters: CPU per page of each tool
fsum = dir . "/filters/summary.tsv"
if (have(fsum)) {
    set output dir . "/filters.png"
    set title "Per-page CPU time (one core): the chain against the libtiff floor and other tools"
    unset xlabel
    set ylabel "ms per page (log scale)"
    set logscale y
    set yrange [1:*]
    set xrange [*:*]
    set style fill solid 0.6
    set boxwidth 0.6
    unset key
    set xtics ("tiffcp -c g4" 0, "spoolfilter" 1, "Leptonica chain" 2, "unpaper" 3)
    plot sprintf("< awk -F'\t' '$1 == \"tiffcp_ms_page\" { print 0, $2 } $1 == \"spoolfilter_ms_page\" { print 1, $2 } $1 == \"leptchain_ms_page\" { print 2, $2 } $1 == \"unpaper_ms_page\" && $2 + 0 > 0 { print 3, $2 }' '%s'", fsum) \
         using 1:2 with boxes lc rgb "#3182bd", \
         "" using 1:($2 * 1.25):(sprintf("%.1f", $2)) with labels
    unset logscale y
}
