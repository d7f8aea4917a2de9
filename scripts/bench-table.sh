#!/bin/sh
# bench-table.sh — the table of `make bench`: reads what the parts wrote
# under DIR and writes DIR/table.txt (printed too) and DIR/table.md, with
# PASS/FAIL against the targets of issue 5.  Called by scripts/bench.sh;
# can be rerun on an existing DIR.
#
#   scripts/bench-table.sh DIR [QUICK LOAD_START LOAD_END SECONDS]
set -eu
dir=$1 quick=${2:-0} load0=${3:-?} load1=${4:-?} secs=${5:-?}
[ -d "$dir" ] || { echo "bench-table: no $dir" >&2; exit 1; }

# val FILE KEY: a value of a key<TAB>value file, or "-"
val() { awk -F'\t' -v k="$2" '$1 == k { print $2; f = 1; exit } END { if (!f) print "-" }' "$1" 2>/dev/null || echo -; }
# fmt PRINTF-FORMAT VALUE: formats numbers, passes "-"/"nan" through as "-"
fmt() { awk -v f="$1" -v v="$2" 'BEGIN { if (v == "" || v == "-" || v == "nan" || v == "inf") print "-"; else printf f "\n", v }'; }

# render MODE: a TSV table on stdin (first line the header) as aligned text
# (MODE txt: numbers right-aligned) or as a Markdown table (MODE md).
render() {
    awk -F'\t' -v mode="$1" '
        { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
          if (NF > nf) nf = NF }
        END {
            for (r = 1; r <= NR; r++) {
                line = mode == "md" ? "|" : " "
                for (i = 1; i <= nf; i++) {
                    v = c[r, i]
                    if (mode == "md") line = line " " v " |"
                    else if (i == 1 || v !~ /^[-+0-9.]+[%x]?$/) line = line sprintf(" %-" w[i] "s", v)
                    else line = line sprintf(" %" w[i] "s", v)
                }
                print line
                if (mode == "md" && r == 1) {
                    line = "|"
                    for (i = 1; i <= nf; i++) line = line (i == 1 ? " --- |" : " ---: |")
                    print line
                }
            }
        }'
}

# check NAME VALUE OP LIMIT: one PASS/FAIL line (TSV)
check() {
    r=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
        if (v == "" || v == "-" || v == "nan") { print "FAIL"; exit }
        ok = op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0; print ok ? "PASS" : "FAIL" }')
    printf '%s\t%s\t%s %s\n' "$r" "$1" "$(fmt '%.4g' "$2")" "$3 $4"
}

F=$dir/filters/summary.tsv O=$dir/overhead/summary.tsv S=$dir/scale/scale.tsv
T=$dir/tail/tail.tsv D=$dir/day/summary.tsv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------ 1. filters
{
    printf 'tool\tms/page (CPU)\tx spoolfilter\tx tiffcp\n'
    sf=$(val "$F" spoolfilter_ms_page) tc=$(val "$F" tiffcp_ms_page)
    for t in "tiffcp -c g4 (libtiff floor):tiffcp_ms_page" "spoolfilter (default chain):spoolfilter_ms_page" \
             "Leptonica chain:leptchain_ms_page" "unpaper (defaults):unpaper_ms_page"; do
        v=$(val "$F" "${t#*:}")
        printf '%s\t%s\t%s\t%s\n' "${t%%:*}" "$(fmt '%.2f' "$v")" \
            "$(awk -v a="$v" -v b="$sf" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "-" }')" \
            "$(awk -v a="$v" -v b="$tc" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "-" }')"
    done
} >"$work/t1"

# ------------------------------------------------------------ 2. overhead
{
    printf 'tool\tpages/min (busy)\tCPU ms/page\n'
    printf 'xargs -P2 spoolfilter\t%s\t%s\n' "$(fmt '%.0f' "$(val "$O" xargs_pages_per_min)")" "$(fmt '%.2f' "$(val "$O" xargs_cpu_ms_page)")"
    printf 'spoold, 1 node, workers=2\t%s\t%s\n' "$(fmt '%.0f' "$(val "$O" spoold_pages_per_min)")" "$(fmt '%.2f' "$(val "$O" spoold_cpu_ms_page)")"
} >"$work/t2"

# ------------------------------------------------------------ 3. scale
if [ -f "$S" ]; then
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            print "N pages/pack\tnodes\tpacks\tmakespan s\tpages/min\tspeedup\tefficiency\tstagger s\ttail s\tgap med ms\tgap p90 ms\tSFTP req/pack"; next }
        { printf "%s\t%s\t%s\t%.2f\t%.0f\t%.2f\t%.3f\t%.2f\t%.2f\t%.1f\t%.1f\t%.0f%s\n", $c["pages_per_pack"], $c["nodes"],
            $c["packs"], $c["makespan_s"], $c["pages_per_min"], $c["speedup"], $c["efficiency"], $c["stagger_s"],
            $c["tail_s"], $c["gap_median_ms"], $c["gap_p90_ms"], $c["requests_per_pack"], $c["valid"] == 1 ? "" : "\tINVALID" }' "$S" >"$work/t3"
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            print "nodes (N=100 if run, else the largest N)\tincoming/\tclaimed/\ttmp/\tout/\tdone/\tnodes/\tother\tall"; next }
        { r[$c["nodes"], $c["pages_per_pack"]] = $0; if (!($c["nodes"] in seen)) { seen[$c["nodes"]] = 1; ns[++k] = $c["nodes"] }
          if ($c["pages_per_pack"] == 100) has100 = 1; if ($c["pages_per_pack"] + 0 > maxN) maxN = $c["pages_per_pack"] + 0 }
        END { N = has100 ? 100 : maxN
              for (j = 1; j <= k; j++) { split(r[ns[j], N], f, "\t"); if (f[1] == "") continue
                  printf "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", ns[j], f[c["req_incoming"]], f[c["req_claimed"]],
                      f[c["req_tmp"]], f[c["req_out"]], f[c["req_done"]], f[c["req_nodes"]], f[c["req_other"]], f[c["requests_per_pack"]] } }' \
        "$S" >"$work/t3r"
fi
sc() {  # sc NODES N COLUMN: one value of scale.tsv
    awk -F'\t' -v n="$1" -v N="$2" -v col="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["nodes"] == n && $c["pages_per_pack"] == N { print $c[col]; f = 1 } END { if (!f) print "-" }' "$S" 2>/dev/null || echo -
}
N_t=100
[ "$(sc 8 100 efficiency)" = "-" ] && N_t=$(awk -F'\t' 'NR > 1 { print $2 }' "$S" 2>/dev/null | sort -n | tail -n 1)
N_t=${N_t:-100}

# ------------------------------------------------------------ protocol
PR=$dir/scale/protocol.tsv
if [ -f "$PR" ]; then
    awk -F'\t' 'BEGIN { print "call\tmedian ms\tp90 ms\tSFTP requests"
            d["claim"] = "claim (target check, rename)"; d["paths"] = "output paths"
            d["publish"] = "publish + done (fencing, 2 renames, source to done/)"
            d["heartbeat"] = "heartbeat (write, fsync, rename, stat)"
            d["total"] = "per pack, with a heartbeat per pack" }
        { printf "%s\t%s\t%s\t%s\n", ($1 in d ? d[$1] : $1), $2, $3, $4 }' "$PR" >"$work/tp"
fi
pr() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { print $c; f = 1 } END { if (!f) print "-" }' "$PR" 2>/dev/null || echo -; }

# ------------------------------------------------------------ 4. tail
if [ -f "$T" ]; then
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            print "claim order\tnodes\tpacks\tmakespan s\tbest possible s\tefficiency\ttail (last node idle) s\tgap med ms"; next }
        { printf "%s\t%s\t%s\t%.2f\t%.2f\t%.3f\t%.2f\t%.1f%s\n", $1, $c["nodes"], $c["packs"], $c["makespan_s"],
            $c["min_possible_s"], $c["efficiency"], $c["tail_s"], $c["gap_median_ms"], $c["valid"] == 1 ? "" : "\tINVALID" }' "$T" >"$work/t4"
fi

# ------------------------------------------------------------ targets
day_min=$(val "$D" wall_min)
day_note=""
if [ "$(val "$D" pages)" != "-" ] && [ "$(val "$D" pages)" != 21200 ]; then
    day_min=$(val "$D" day_wall_min)
    day_note=" (extrapolated from $(val "$D" pages) pages)"
fi
{
    printf 'result\ttarget\tvalue\n'
    check "chain ms/page, median page (thread CPU)" "$(val "$F" spoolfilter_report_ms_median)" "<=" 30
    check "daemon / xargs -P2 throughput" "$(val "$O" ratio_median)" ">=" 0.97
    check "efficiency, 8 nodes, N=$N_t" "$(sc 8 "$N_t" efficiency)" ">=" 0.97
    check "per-pack protocol ms over sshfs (claim+publish+done+heartbeat)" "$(pr total 2)" "<=" 10
    check "scanner-day wall minutes$day_note" "$day_min" "<=" 10
} >"$work/tt"

# ------------------------------------------------------------ output
emit() {    # emit MODE
    m=$1
    h() { if [ "$m" = md ]; then printf '\n### %s\n\n' "$1"; else printf '\n%s\n' "$1"; fi; }
    p() { if [ "$m" = md ]; then printf '%s\n' "$*"; else printf '  %s\n' "$*"; fi; }
    if [ "$m" = md ]; then printf '## spoold benchmark (make bench)\n\n'; else printf 'spoold benchmark (make bench)\n'; fi
    p "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) CPUs; load average $load0 at the start, $load1 at the end; ${secs} s in all$( [ "$quick" = 1 ] && echo '; QUICK mode (BENCH_QUICK=1): fewer pages and runs')"
    p "The machine is shared: absolute times are noisy; ratios measured in the same run are what count."
    h "Targets (issue 5)"
    render "$m" <"$work/tt"
    h "1. Per-page speed: $(val "$F" pages) generated A4 300-dpi pages, one core, CPU time per page (scripts/bench-filters.sh; its own table: filters/table.txt)"
    render "$m" <"$work/t1"
    p "spoolfilter per page (its report's thread CPU): median $(fmt '%.2f' "$(val "$F" spoolfilter_report_ms_median)") ms, p90 $(fmt '%.2f' "$(val "$F" spoolfilter_report_ms_p90)") ms; unpaper also needs $(fmt '%.1f' "$(val "$F" tifftopnm_ms_page)") ms/page of tifftopnm (not counted)."
    h "2. Daemon overhead: $(val "$O" packs) packs x $(val "$O" pack_pages) real pages, local spool, $(val "$O" reps) alternating runs each"
    render "$m" <"$work/t2"
    p "throughput ratio spoold / xargs (median of runs): $(fmt '%.3f' "$(val "$O" ratio_median)") (runs: $(fmt '%.3f' "$(val "$O" ratio_min)") .. $(fmt '%.3f' "$(val "$O" ratio_max)")); CPU per page spoold / xargs: $(fmt '%.3f' "$(val "$O" cpu_ratio_median)")."
    p "spoold's throughput is taken while it works (first claim to last publish); from the drop into incoming/ to its first claim took $(fmt '%.2f' "$(val "$O" latency_median_s)") s (inotify wakes it at once; readiness needs a second look, which comes max(settle, 0.5 s) later; poll_interval $(val "$O" poll_s) s)."
    h "3. Coordination scaling: one spool over sshfs (private sshd on loopback, one mount per node), workers=1 per node, fixed cost $(awk -F'\t' 'NR == 2 { print $4 }' "$S" 2>/dev/null) ms/page (scripts/bench-scale.sh)"
    [ -f "$work/t3" ] && render "$m" <"$work/t3"
    p "efficiency = (work / nodes) / makespan (ideal 1; thesis at 8 nodes: 0.93); speedup = nodes x efficiency (ideal = nodes; thesis: 7.4 at 8)."
    p "gap = per node, end of one exec step to the start of the next: everything a pack costs beyond its work (finish and report, publish, done, claim, worker and exec start, heartbeats)."
    h "The protocol alone per pack, one node's sshfs mount, lab idle (tests/tools/protobench.c, 50 packs)"
    [ -f "$work/tp" ] && render "$m" <"$work/tp"
    p "A node writes its heartbeat every 10 s (default), not per pack: with packs of 2 s the heartbeat adds a fifth of its cost per pack.  The gap above is the whole cost between two packs in a run, process starts and queueing for the 2 CPUs and the server's disk included."
    h "SFTP requests per pack by the directory they touch (sftp-server DEBUG3 log; each is an sshfs round trip unless pipelined)"
    [ -f "$work/t3r" ] && render "$m" <"$work/t3r"
    h "4. Pack size and tail: packs of 25 to 1000 pages on 8 nodes, by claim order (scripts/bench-scale.sh --tail)"
    [ -f "$work/t4" ] && render "$m" <"$work/t4"
    h "5. Scanner-day: spoold, 1 node, workers=$(val "$D" workers), full default chain, local spool (scripts/bench-day.sh)"
    p "$(val "$D" pages) pages in $(val "$D" packs) packs of $(val "$D" pack_pages), assembled from $(val "$D" distinct_pages) distinct generated pages: $(fmt '%.2f' "$(val "$D" wall_min)") min wall, $(fmt '%.0f' "$(val "$D" pages_per_min)") pages/min, $(fmt '%.2f' "$(val "$D" cpu_ms_per_page)") ms CPU/page (spoold + workers)$( [ "$(val "$D" valid)" = 0 ] && echo ' INVALID: outputs missing or wrong')."
    [ -n "$day_note" ] && p "a whole day (21,200 pages) at this rate: $(fmt '%.2f' "$day_min") min."
    h "Time per part (s)"
    { printf 'part\tseconds\texit\tload after\n'; cat "$dir/times.tsv" 2>/dev/null; } | render "$m"
}
emit txt >"$dir/table.txt"
emit md >"$dir/table.md"
cat "$dir/table.txt"
