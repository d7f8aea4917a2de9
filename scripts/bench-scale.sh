#!/bin/sh
# bench-scale.sh — the coordination benchmark of `make bench` (issue 5,
# parts 3 and 4): spoold nodes over sshfs with a fixed-cost exec step.
#
#   scripts/bench-scale.sh [--out DIR] [--nodes "1 2 4 8"]
#                          [--sizes "25 50 100 500 1000"] [--page-ms 20]
#                          [--per-node-s 10] [--poll 5] [--strict]
#                          [--tail] [--claim-orders "hashed largest"]
#
# The lab: one spool directory served by a private OpenSSH sftp-server on
# 127.0.0.1 (tests/lib/sshfs-lab.sh), one sshfs mount (and so one ssh
# connection and one sftp-server process) per node, mounted with the
# options OPERATIONS.md recommends (reconnect,dir_cache=no; --strict: the
# test suite's options, which also turn off the kernel's attribute and
# name caches).  Every node runs spoold with workers=1 on its own mount.
#
# The nodes run spoold's defaults (poll_interval 5 s, heartbeat 10 s,
# lease 60 s, claim_order largest) except workers=1, settle=0 (the packs
# are complete before the nodes start) and no memory/disk reserve (the
# shared machine's free memory must not pause a run).
#
# The work: each pack is a multi-page G4 TIFF of N blank A4 300-dpi pages
# (~0.5 KB a page: the packs are real TIFFs that the scan parses, but the
# data moved is small, so the numbers are about coordination, not
# bandwidth).  The pipeline is one exec step, tests/tools/fixedcost.c,
# which copies the pack to its output and takes exactly N x page-ms
# milliseconds (default 20 ms, about what the filter chain costs per page
# on this machine), so eight nodes on two CPUs are not capped by the CPUs.
#
# The design (weak scaling): a run on n nodes gets P = n x k packs of N
# pages, k chosen so that each node has about per-node-s seconds of work
# (at least one pack).  All packs are in incoming/ before the nodes start
# (spoold --once, so each node exits when the spool is empty).  From the
# nodes' logs and fixedcost's time stamps:
#   W          = P x N x page-ms, the work (what n perfect nodes share)
#   T          = last "finished" (published) - first "claimed", any node
#   efficiency = (W / n) / T, ideal 1; speedup = n x efficiency, ideal n;
#                speedup_rel = (W/T) / (W1/T1), against the measured one-
#                node run of the same N (the thesis' definition)
#   stagger    = last node's first claim - first claim (start-up)
#   tail       = T end - the moment the first node ran out of work (the
#                last node idle time)
#   gap        = per node, from the end of one exec step to the start of
#                the next: everything a pack costs beyond its work (worker
#                finish and report, publish, done, claim, worker and exec
#                start, heartbeats in between); median and p90 over all
#   requests   = SFTP requests the sftp-servers answered during the run,
#                per pack (each is a round trip of the sshfs connection
#                unless pipelined), counted in their DEBUG3 logs, and by
#                the spool directory they touched
# Before the runs, tests/tools/protobench.c measures the protocol alone on
# node1's mount (no daemon, the lab idle): 50 packs claimed, published and
# retired one after the other with a heartbeat per pack, each call timed
# and its SFTP requests counted in node1's sftp-server log
# (DIR/protocol.tsv: phase, median ms, p90 ms, requests per call).
# --tail runs the mixed-size experiment instead (part 4): 8 nodes (the
# largest of --nodes), packs of very different sizes, once per claim order
# in --claim-orders (spoold's claim_order key), and reports the makespan
# and the tail of each.
#
# Writes DIR/scale.tsv (or DIR/tail.tsv) and DIR/runs/* (logs, stamps).
# Needs root, /dev/fuse, sshfs, openssh-server (see sshfs-lab.sh).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
out=$top/bench-out/scale
nodes="1 2 4 8" sizes="25 50 100 500 1000" page_ms=20 per_node=10 poll=5
strict=0 tail_mode=0 orders="hashed largest"
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --sizes) sizes=$2; shift 2 ;;
        --page-ms) page_ms=$2; shift 2 ;;
        --per-node-s) per_node=$2; shift 2 ;;
        --poll) poll=$2; shift 2 ;;
        --strict) strict=1; shift ;;
        --tail) tail_mode=1; shift ;;
        --claim-orders) orders=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-scale: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for v in $nodes $sizes; do
    case $v in ''|*[!0-9]*|0) echo "bench-scale: not a positive integer: '$v'" >&2; exit 2 ;; esac
done
for v in "$page_ms" "$per_node" "$poll"; do
    awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9]*\.?[0-9]+$/ && v > 0) }' ||
        { echo "bench-scale: not a positive number: '$v'" >&2; exit 2; }
done
BENCH_PART=bench-scale
. "$top/scripts/bench-lib.sh"
. "$top/tests/lib/sshfs-lab.sh"
bench_init
for p in "$build/spoold" "$build/spoolctl" "$build/tools/fixedcost" "$build/tools/tiffblank" \
         "$build/tools/protobench"; do
    [ -x "$p" ] || bench_die "$p is not built (make all)"
done
command -v tiffinfo >/dev/null || bench_die "tiffinfo missing (libtiff-tools)"
lab_can_run || bench_die "cannot run the sshfs lab here (see above)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/work
rm -rf "$work"
mkdir -p "$work/sftp" "$out/runs"
spool=$work/spool
lab=$work/lab
"$build/spoolctl" init "$spool" >/dev/null || bench_die "spoolctl init $spool"

# Every sftp-server logs each request it answers (DEBUG3) into its own file
# (the lab's default, sshd's in-process SFTP server, logs nothing).
sftp_server=${SFTP_SERVER:-/usr/lib/openssh/sftp-server}
[ -x "$sftp_server" ] || bench_die "no $sftp_server (openssh-sftp-server) to count SFTP requests"
cat >"$work/sftp-logged" <<EOF
#!/bin/sh
exec $sftp_server -e -l DEBUG3 2>>"$work/sftp/conn.\$\$.log"
EOF
chmod +x "$work/sftp-logged"
maxn=0
for n in $nodes; do [ "$n" -gt "$maxn" ] && maxn=$n; done
[ "$strict" -eq 1 ] || LAB_CACHE_OPTS=dir_cache=no
export LAB_CACHE_OPTS
cleanup() {
    bench_stop_nodes
    (lab_down "$lab") || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_say "starting the lab: private sshd on loopback, $maxn sshfs mounts (${LAB_CACHE_OPTS})"
(LAB_SFTP=$work/sftp-logged lab_up "$lab" "$spool" "$maxn") || bench_die "the sshfs lab did not start"

# template PAGES: a pack of PAGES blank A4 pages, made once.
template() {
    t=$work/tpl-$1.tif
    [ -f "$t" ] || "$build/tools/tiffblank" "$t" 2480 3508 "$1" || bench_die "tiffblank $1"
    echo "$t"
}

# conf NODE ORDER: the node's configuration.
node_conf() {
    co=""
    [ -z "$2" ] || co="claim_order = \"$2\";"
    cat >"$work/$1.conf" <<EOF
spool = "$lab/$1";
workers = 1;
poll_interval = $poll;
settle = 0;
grace = 5;
min_free_memory = 0;
min_free_disk = 0;
pack_timeout = 600;
allow_root = true;          # benchmarks may run as root (CI); spoold refuses root otherwise
$co
pipeline = ( { exec = ["$build/tools/fixedcost", "--per-page", "$page_ms",
                       "--stamp", "$work/stamps.$1", "{in}", "{out}"]; } );
EOF
}

# count_requests: total SFTP requests in the logs, then per directory.
count_requests() {
    cat "$work"/sftp/conn.*.log 2>/dev/null | awk -v root="$spool" '
        function cat_of(path,   rest, d) {
            if (index(path, root) != 1) return "other"
            rest = substr(path, length(root) + 2)
            d = rest; sub(/\/.*/, "", d)
            if (d == "incoming" || d == "claimed" || d == "done" || d == "failed" ||
                d == "nodes" || d == "tmp" || d == "out") return d
            return "other"
        }
        function close_req() { if (cur != "") { n[c == "" ? "other" : c]++; total++ } }
        /^debug[0-9]: request [0-9]+: / && $4 != "sent" {
            close_req(); cur = $3; c = ""
            if (match($0, /"[^"]*"/)) c = cat_of(substr($0, RSTART + 1, RLENGTH - 2))
            next
        }
        cur != "" && c == "" && !/^debug/ && match($0, /"[^"]*"/) {
            c = cat_of(substr($0, RSTART + 1, RLENGTH - 2))
        }
        END { close_req()
              printf "%d", total
              split("incoming claimed tmp out done nodes other", ks, " ")
              for (i = 1; i <= 7; i++) printf " %d", n[ks[i]] + 0
              printf "\n" }'
}

# analyse N_NODES PAGES PACKS TAG TOTAL_PAGES: prints the TSV fields of
# one run (PAGES: pages per pack, for the table; TOTAL_PAGES: the work).
analyse() {
    rn=$1 pages=$2 packs=$3 tag=$4 total=$5
    rd=$out/runs/$tag
    : >"$rd/claims"
    : >"$rd/finish"
    for _a in $(seq 1 "$rn"); do
        bench_log_events "$rd/node$_a.log" claimed | sed "s/\$/ node$_a/" >>"$rd/claims"
        bench_log_events "$rd/node$_a.log" finished | sed "s/\$/ node$_a/" >>"$rd/finish"
        [ -f "$work/stamps.node$_a" ] && sed "s/\$/\tnode$_a/" "$work/stamps.node$_a" >>"$rd/stamps"
    done
    # gaps between consecutive steps of a node, in ms
    sort -t "$(printf '\t')" -k5,5 -k1,1n "$rd/stamps" | awk -F'\t' '
        $5 == node { printf "%.3f\n", ($1 - pe) / 1e6 } { node = $5; pe = $2 }' >"$rd/gaps"
    awk -F'\t' '{ printf "%.3f\n", ($2 - $1) / 1e6 - $4 }' "$rd/stamps" >"$rd/overshoot"
    t0=$(awk '{ print $1 }' "$rd/claims" | bench_pct 0)
    t1=$(awk '{ print $1 }' "$rd/finish" | bench_pct 1)
    firsts=$(awk '!($3 in f) || $1 < f[$3] { f[$3] = $1 } END { for (k in f) print f[k] }' "$rd/claims")
    lasts=$(awk '!($3 in l) || $1 > l[$3] { l[$3] = $1 } END { for (k in l) print l[k] }' "$rd/finish")
    stagger=$(echo "$firsts" | bench_pct 1 | awk -v t0="$t0" '{ printf "%.3f", $1 - t0 }')
    idle=$(echo "$lasts" | bench_pct 0 | awk -v t1="$t1" '{ printf "%.3f", t1 - $1 }')
    req=$(count_requests)
    awk -v n="$rn" -v N="$pages" -v P="$packs" -v tp="$total" -v ms="$page_ms" -v t0="$t0" -v t1="$t1" \
        -v st="$stagger" -v idle="$idle" -v req="$req" \
        -v gm="$(bench_pct 0.5 <"$rd/gaps")" -v g9="$(bench_pct 0.9 <"$rd/gaps")" \
        -v os="$(bench_pct 0.5 <"$rd/overshoot")" 'BEGIN {
            W = tp * ms / 1000; T = t1 - t0
            E = T > 0 ? (W / n) / T : 0
            split(req, r, " ")
            printf "%d\t%d\t%d\t%g\t%.3f\t%.3f\t%.1f\t%.4f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%.1f\t%s",
                n, N, P, ms, W, T, tp / T * 60, E, n * E, st, idle, gm, g9,
                (n * T - W) / P * 1000, os
            printf "\t%.1f", r[1] / P
            for (i = 2; i <= 8; i++) printf "\t%.1f", r[i] / P
            printf "\n" }'
}

# run N_NODES PAGES PACKS TAG [ORDER]: one run; prints its TSV row.
run() {
    rn=$1 pages=$2 packs=$3 tag=$4 order=${5:-}
    rd=$out/runs/$tag
    rm -rf "$rd"
    mkdir -p "$rd"
    bench_spool_reset "$spool"
    rm -f "$work"/stamps.*
    total=$((packs * pages))
    if [ -n "${PACK_SIZES:-}" ]; then
        total=$(echo $PACK_SIZES | tr ' ' '\n' | awk '{ s += $1 } END { print s }')
        _r=0
        for sz in $PACK_SIZES; do
            _r=$((_r + 1))
            cp "$(template "$sz")" "$spool/incoming/$(printf 'p%05d-%d.tif' "$_r" "$sz")"
        done
    else
        tpl=$(template "$pages")
        for _r in $(seq 1 "$packs"); do
            cp "$tpl" "$spool/incoming/$(printf 'p%05d.tif' "$_r")"
        done
    fi
    for f in "$work"/sftp/conn.*.log; do [ -f "$f" ] && : >"$f"; done
    for _r in $(seq 1 "$rn"); do
        node_conf "node$_r" "$order"
    done
    started=$(bench_now)
    for _r in $(seq 1 "$rn"); do
        bench_start_node "node$_r" "$work/node$_r.conf" "$rd/node$_r.log" --once
    done
    # a hang guard, not a measurement: three times the ideal, plus start-up
    tmo=$(awk -v t="$total" -v ms="$page_ms" -v n="$rn" 'BEGIN { printf "%d", 120 + 3 * t * ms / 1000 / n }')
    bench_wait_nodes "$tmo" || bench_say "run $tag did not finish"
    cp "$work"/stamps.* "$rd/" 2>/dev/null || true
    : >"$rd/stamps"
    ok=1
    bench_check_spool "$spool" "$packs" || ok=0
    row=$(analyse "$rn" "$pages" "$packs" "$tag" "$total")
    first=$(awk '{ print $1 }' "$rd/claims" | bench_pct 0)
    printf '%s\t%s\t%s\n' "$row" "$ok" \
        "$(awk -v a="$first" -v b="$started" 'BEGIN { printf "%.3f", a - b }')"
}

# protocol COUNT: the protocol alone on node1's mount (see the header).
protocol() {
    bench_spool_reset "$spool"
    for _r in $(seq 1 "$1"); do
        : >"$spool/incoming/$(printf 'p%05d.tif' "$_r")"
    done
    # node1's sftp-server log: the one that grows when node1 is used
    sleep 0.2
    ls "$lab/node1/incoming" >/dev/null
    # shellcheck disable=SC2012
    log=$(ls -t "$work"/sftp/conn.*.log | head -n 1)
    "$build/tools/protobench" "$lab/node1" probe "$1" --log "$log" >"$out/protocol.tsv" \
        || bench_die "protobench failed"
    bench_say "protocol per pack on one sshfs mount: $(awk -F'\t' '$1 == "total" { printf "%.2f ms, %s SFTP requests (claim + paths + publish + a heartbeat)", $2, $4 }' "$out/protocol.tsv")"
}

header="nodes	pages_per_pack	packs	page_ms	work_s	makespan_s	pages_per_min	efficiency	speedup	stagger_s	tail_s	gap_median_ms	gap_p90_ms	overhead_mean_ms	step_overshoot_ms	requests_per_pack	req_incoming	req_claimed	req_tmp	req_out	req_done	req_nodes	req_other	valid	first_claim_after_start_s"

if [ "$tail_mode" -eq 1 ]; then
    # Part 4: packs of very different sizes on the most nodes: 2 packs of
    # 1000 pages, 8 of 200, 40 of 25 per... scaled to the node count.
    n=$maxn
    sizes_list=""
    for _ in $(seq 1 $((n / 2))); do sizes_list="$sizes_list 1000"; done
    for _ in $(seq 1 $((2 * n))); do sizes_list="$sizes_list 200"; done
    for _ in $(seq 1 $((10 * n))); do sizes_list="$sizes_list 25"; done
    packs=$(echo $sizes_list | wc -w)
    pages=$(echo $sizes_list | tr ' ' '\n' | awk '{ s += $1 } END { print s }')
    avg=$((pages / packs))
    printf 'claim_order\t%s\tmin_possible_s\n' "$header" >"$out/tail.tsv"
    # the best any schedule can do: the larger of W/n and the largest pack
    best=$(awk -v p="$pages" -v n="$n" -v ms="$page_ms" 'BEGIN { a = p * ms / 1000 / n; b = 1000 * ms / 1000; print (a > b ? a : b) }')
    for o in $orders; do
        bench_say "tail: $n nodes, $packs packs of 25..1000 pages ($pages pages), claim_order=$o"
        row=$(PACK_SIZES=$sizes_list run "$n" "$avg" "$packs" "tail-$o" "$o")
        # work with the real sizes (the row used the mean pack size)
        printf '%s\t%s\t%s\n' "$o" "$row" "$best" >>"$out/tail.tsv"
    done
    exit 0
fi

protocol 50
printf '%s\n' "$header" >"$out/scale.tsv"
for N in $sizes; do
    k=$(awk -v s="$per_node" -v N="$N" -v ms="$page_ms" 'BEGIN { k = int(s * 1000 / (N * ms) + 0.5); print k < 1 ? 1 : k }')
    for n in $nodes; do
        P=$((n * k))
        bench_say "N=$N pages/pack: $n node(s), $P packs of $(awk -v N="$N" -v ms="$page_ms" 'BEGIN { print N * ms / 1000 }') s"
        run "$n" "$N" "$P" "n$n-N$N" >>"$out/scale.tsv"
        tail -n 1 "$out/scale.tsv" | awk -F'\t' '{ printf "    makespan %.2f s, efficiency %.3f, gap median %s ms, %s requests/pack%s\n",
            $6, $8, $12, $16, $24 == 1 ? "" : "  (INVALID RUN)" }' >&2
    done
done
bench_say "wrote $out/scale.tsv"
