#!/bin/sh
# spooltest.sh — shell helpers for the daemon's integration tests
# (tests/integration/t_daemon*.sh): a spool, small G4 packs, configs, nodes
# started in the background and always stopped, waiting with a generous
# bound (a hang guard, not a timing assertion), and output checks.
#
# Source it after setting nothing: it uses $SCRATCH (from
# tests/run-integration.sh) and the programs on PATH (build/ first).
# Every test ends through t_exit/fail so the EXIT trap stops what it
# started.

set -u
: "${SCRATCH:?run me through tests/run-integration.sh}"
T_TOP=${SPOOLD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
T_PIDS="$SCRATCH/.pids"
T_LAB=""
: >"$T_PIDS"

fail() {
    echo "FAIL: $*" >&2
    for l in "$SCRATCH"/*.log; do
        [ -e "$l" ] || continue
        echo "--- last lines of $l" >&2
        tail -n 15 "$l" >&2
    done
    exit 1
}

skip() {
    echo "skip: $*"
    exit 77
}

need() {
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
    done
}

# Stops every node we started: SIGTERM, then SIGKILL after 20 s.
t_stop_all() {
    for pid in $(cat "$T_PIDS" 2>/dev/null); do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $(cat "$T_PIDS" 2>/dev/null); do
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.2
            i=$((i + 1))
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    : >"$T_PIDS"
}

t_cleanup() {
    t_stop_all
    if [ -n "$T_LAB" ]; then
        lab_down "$T_LAB"
    fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: polls CMD every 0.2 s; false after SECONDS.
wait_until() {
    limit=$1
    shift
    end=$(( $(date +%s) + limit ))
    while ! "$@"; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
    return 0
}

# mkspool DIR: a spool as an operator makes it.
mkspool() {
    spoolctl init "$1" >/dev/null || fail "spoolctl init $1"
}

# A one-page G4 TIFF with a little content, made once per test.
t_page() {
    if [ ! -f "$SCRATCH/page.tif" ]; then
        {
            printf 'P4\n64 48\n'
            # a frame and some "text": 8 bytes per row
            i=0
            while [ $i -lt 48 ]; do
                case $i in
                    0|47) printf '\377\377\377\377\377\377\377\377' ;;
                    10|12|20|22|30|32) printf '\200\356\273\356\273\356\273\001' ;;
                    *) printf '\200\000\000\000\000\000\000\001' ;;
                esac
                i=$((i + 1))
            done
        } >"$SCRATCH/page.pbm"
        ppm2tiff -c g4 -R 300 "$SCRATCH/page.pbm" "$SCRATCH/page.tif" \
            || fail "ppm2tiff"
    fi
    echo "$SCRATCH/page.tif"
}

# mkpack FILE N: a multi-page G4 TIFF of N pages.
mkpack() {
    p=$(t_page)
    set -- "$1" "$2"
    args=""
    i=0
    while [ $i -lt "$2" ]; do
        args="$args $p"
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    tiffcp $args "$1" || fail "tiffcp $1"
}

# drop SPOOL FILE [NAME]: puts FILE into incoming/ the way a careful
# scanner does (hidden name, then rename).
drop() {
    name=${3:-$(basename "$2")}
    cp "$2" "$1/incoming/.$name.part" && mv "$1/incoming/.$name.part" "$1/incoming/$name" \
        || fail "drop $name"
}

# conf FILE SPOOL [EXTRA LINES...]: a fast test configuration.
conf() {
    f=$1 sp=$2
    shift 2
    {
        echo "spool = \"$sp\";"
        echo "poll_interval = \"300ms\";"
        echo "settle = 1;"
        echo "heartbeat = 1;"
        echo "lease = 5;"
        echo "grace = 20;"
        echo "workers = 2;"
        echo "max_attempts = 3;"
        echo "min_free_memory = 0;"
        echo "min_free_disk = 0;"
        echo "pack_timeout = 120;"
        for l in "$@"; do echo "$l"; done
    } >"$f"
}

# start_node NAME CONF [ARGS...]: spoold in the background, log NAME.log.
start_node() {
    name=$1 cf=$2
    shift 2
    spoold -c "$cf" --node "$name" "$@" >>"$SCRATCH/$name.log" 2>&1 &
    echo $! >>"$T_PIDS"
    eval "PID_$(echo "$name" | tr -c 'A-Za-z0-9_\n' _)=$!"
}

# node_pid NAME: pid of a node started by start_node.
node_pid() {
    eval "echo \${PID_$(echo "$1" | tr -c 'A-Za-z0-9_\n' _)}"
}

# count DIR: entries in DIR (hidden ones too, not . and ..).
count() {
    find "$1" -mindepth 1 -maxdepth 1 | wc -l
}

# pages FILE: pages of a G4 TIFF; fails unless every page is CCITT G4.
pages() {
    info=$(tiffinfo "$1" 2>&1) || { echo "tiffinfo $1: $info" >&2; echo -1; return 1; }
    dirs=$(echo "$info" | grep -c '^TIFF Directory')
    g4=$(echo "$info" | grep -c 'Compression Scheme: CCITT Group 4')
    [ "$dirs" -eq "$g4" ] || { echo "$1: $dirs pages, $g4 in G4" >&2; echo -1; return 1; }
    echo "$dirs"
}

# expect_output OUT BASE N: OUT/BASE.tif is a G4 TIFF of N pages, with its
# report OUT/BASE.json.
expect_output() {
    [ -f "$1/$2.tif" ] || fail "no output $2.tif"
    [ -f "$1/$2.json" ] || fail "no report $2.json"
    n=$(pages "$1/$2.tif") || fail "$2.tif is not a valid G4 TIFF"
    [ "$n" -eq "$3" ] || fail "$2.tif has $n pages, expected $3"
}

# spool_quiet SPOOL: nothing left in incoming/ or claimed/.
spool_quiet() {
    [ "$(count "$1/incoming")" -eq 0 ] && [ "$(count "$1/claimed")" -eq 0 ]
}
