# bench-lib.sh — helpers shared by the parts of `make bench`
# (scripts/bench-*.sh; sourced, not run).  Needs $top (the source tree) and
# $build (the build directory) set by the caller.
#
#   bench_say TEXT          progress on stderr, prefixed with the part's name
#   bench_die TEXT          the same, then exit 1
#   bench_now               wall clock, seconds since the epoch (ns digits)
#   bench_log_events LOG WORD
#                           "SECONDS PACK" for every spoold log line
#                           "<N>HH:MM:SS.mmm WORD PACK..." (claimed,
#                           finished), SECONDS since the epoch, from the
#                           day of $BENCH_DAY0 (set by bench_init)
#   bench_pct P             percentile P (0..1) of the numbers on stdin
#                           (nearest rank); "nan" if none
#   bench_mean              mean of the numbers on stdin; "nan" if none
#   bench_start_node NAME CONF LOG [ARGS...]
#                           spoold in the background; its pid is recorded
#                           so that bench_stop_nodes (and the EXIT trap)
#                           can stop it
#   bench_wait_nodes SECONDS
#                           waits until every recorded node has exited
#                           (--once); 1 if some are still running after
#                           SECONDS (they are then stopped)
#   bench_proc_cpu PID      CPU ms (user + sys) of a running process and of
#                           its children it has waited for (/proc/PID/stat)
#   bench_stop_nodes        SIGTERM, then SIGKILL after 20 s, to every node
#   bench_spool_reset DIR   empties every state directory of a spool (the
#                           layout and .spool-id stay)
#   bench_check_spool DIR P
#                           0 if every one of P packs was published once
#                           (P .tif and P .json in out/, P in done/) and
#                           nothing is left in incoming/, claimed/, failed/
set -u

BENCH_PART=${BENCH_PART:-bench}
BENCH_PIDS=${BENCH_PIDS:-}
BENCH_DAY0=${BENCH_DAY0:-}

bench_say() { echo "$BENCH_PART: $*" >&2; }
bench_die() { echo "$BENCH_PART: $*" >&2; exit 1; }

bench_now() { date +%s.%N; }

# Midnight of the day the part started, in epoch seconds, so that the
# HH:MM:SS.mmm stamps of spoold's log can be turned into epoch seconds (a
# run that crosses midnight gets +86400 for stamps earlier than the start).
bench_init() {
    _bi_now=$(date +%s)
    _bi_tod=$(date +%H:%M:%S | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }')
    BENCH_DAY0=$((_bi_now - _bi_tod))
    BENCH_TOD0=$_bi_tod
    BENCH_PIDS=""
}

bench_log_events() {
    awk -v w="$2" -v d0="$BENCH_DAY0" -v t0="$BENCH_TOD0" '
        $2 == w && match($1, /^<[0-9]>[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]$/) {
            split(substr($1, 4), a, ":")
            s = a[1] * 3600 + a[2] * 60 + a[3]
            if (s < t0 - 60) s += 86400
            p = $3; sub(/:$/, "", p)
            printf "%.3f %s\n", d0 + s, p
        }' "$1"
}

bench_pct() {
    sort -g | awk -v p="$1" '{ v[++n] = $1 }
        END { if (!n) { print "nan"; exit } k = int(p * n + 0.999999); if (k < 1) k = 1
              if (k > n) k = n; print v[k] }'
}

bench_mean() {
    awk '{ s += $1; n++ } END { if (n) printf "%.6g\n", s / n; else print "nan" }'
}

bench_start_node() {
    _sn_name=$1 _sn_conf=$2 _sn_log=$3
    shift 3
    "$build/spoold" -c "$_sn_conf" --node "$_sn_name" "$@" >"$_sn_log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
}

bench_wait_nodes() {
    _wn_end=$(( $(date +%s) + $1 ))
    for _wn_p in $BENCH_PIDS; do
        while kill -0 "$_wn_p" 2>/dev/null; do
            if [ "$(date +%s)" -ge "$_wn_end" ]; then
                bench_say "nodes still running after $1 s: stopping them"
                bench_stop_nodes
                return 1
            fi
            sleep 0.1
        done
        wait "$_wn_p" 2>/dev/null || true
    done
    BENCH_PIDS=""
    return 0
}

bench_proc_cpu() {
    sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" \
        '{ printf "%.0f\n", ($12 + $13 + $14 + $15) * 1000 / hz }'
}

bench_stop_nodes() {
    for _sn_p in $BENCH_PIDS; do
        kill -TERM "$_sn_p" 2>/dev/null || true
    done
    for _sn_p in $BENCH_PIDS; do
        _sn_i=0
        while kill -0 "$_sn_p" 2>/dev/null && [ $_sn_i -lt 100 ]; do
            sleep 0.2
            _sn_i=$((_sn_i + 1))
        done
        kill -KILL "$_sn_p" 2>/dev/null || true
        wait "$_sn_p" 2>/dev/null || true
    done
    BENCH_PIDS=""
}

bench_spool_reset() {
    for _sr_d in incoming claimed "done" failed nodes tmp out; do
        [ -d "$1/$_sr_d" ] || bench_die "$1 is not a spool (no $_sr_d/)"
        find "$1/$_sr_d" -mindepth 1 -delete || bench_die "cannot empty $1/$_sr_d"
    done
}

bench_count() {
    find "$1" -mindepth 1 -maxdepth 1 -name "${2:-*}" | wc -l
}

bench_check_spool() {
    _cs_ok=0
    [ "$(bench_count "$1/out" '*.tif')" -eq "$2" ] || _cs_ok=1
    [ "$(bench_count "$1/out" '*.json')" -eq "$2" ] || _cs_ok=1
    [ "$(bench_count "$1/done")" -eq "$2" ] || _cs_ok=1
    for _cs_d in incoming claimed failed; do
        [ "$(bench_count "$1/$_cs_d")" -eq 0 ] || _cs_ok=1
    done
    if [ $_cs_ok -ne 0 ]; then
        bench_say "spool $1 is not as expected for $2 packs: out $(bench_count "$1/out"), done" \
            "$(bench_count "$1/done"), incoming $(bench_count "$1/incoming"), claimed" \
            "$(bench_count "$1/claimed"), failed $(bench_count "$1/failed")"
    fi
    return $_cs_ok
}
