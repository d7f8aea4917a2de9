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
    for _st_pid in $(cat "$T_PIDS" 2>/dev/null); do
        kill -TERM "$_st_pid" 2>/dev/null
    done
    for _st_pid in $(cat "$T_PIDS" 2>/dev/null); do
        _st_i=0
        while kill -0 "$_st_pid" 2>/dev/null && [ $_st_i -lt 100 ]; do
            sleep 0.2
            _st_i=$((_st_i + 1))
        done
        kill -KILL "$_st_pid" 2>/dev/null
        wait "$_st_pid" 2>/dev/null
    done
    : >"$T_PIDS"
}

# t_sanitizer_check: a sanitizer report in any log of this test fails it
# (the daemons' and workers' stderr go to $SCRATCH/*.log; under make
# SAN=1 the programs are built with ASan+UBSan, and a report there is a
# bug even when the test's own checks pass).
t_sanitizer_check() {
    _sc_hits=$(grep -l -a -E 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|UndefinedBehaviorSanitizer' \
        "$SCRATCH"/*.log 2>/dev/null)
    [ -z "$_sc_hits" ] && return 0
    for _sc_f in $_sc_hits; do
        echo "FAIL: sanitizer report in $_sc_f:" >&2
        grep -a -E -m 5 -A 8 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$_sc_f" >&2
    done
    return 1
}

t_cleanup() {
    _tc_rc=$?
    t_stop_all
    if [ -n "$T_LAB" ]; then
        lab_down "$T_LAB"
    fi
    t_sanitizer_check || exit 1
    exit $_tc_rc
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: polls CMD every 0.2 s; false after SECONDS.
wait_until() {
    _wu_end=$(( $(date +%s) + $1 ))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -ge "$_wu_end" ] && return 1
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
            _pg_i=0
            while [ $_pg_i -lt 48 ]; do
                case $_pg_i in
                    0|47) printf '\377\377\377\377\377\377\377\377' ;;
                    10|12|20|22|30|32) printf '\200\356\273\356\273\356\273\001' ;;
                    *) printf '\200\000\000\000\000\000\000\001' ;;
                esac
                _pg_i=$((_pg_i + 1))
            done
        } >"$SCRATCH/page.pbm"
        ppm2tiff -c g4 -R 300 "$SCRATCH/page.pbm" "$SCRATCH/page.tif" \
            || fail "ppm2tiff"
    fi
    echo "$SCRATCH/page.tif"
}

# mkpack FILE N: a multi-page G4 TIFF of N pages.
mkpack() {
    _mk_p=$(t_page)
    _mk_args=""
    _mk_i=0
    while [ $_mk_i -lt "$2" ]; do
        _mk_args="$_mk_args $_mk_p"
        _mk_i=$((_mk_i + 1))
    done
    # shellcheck disable=SC2086
    tiffcp $_mk_args "$1" || fail "tiffcp $1"
}

# drop SPOOL FILE [NAME]: puts FILE into incoming/ the way a careful
# scanner does (hidden name, then rename).
drop() {
    _dr_name=${3:-$(basename "$2")}
    cp -r "$2" "$1/incoming/.$_dr_name.part" &&
        mv "$1/incoming/.$_dr_name.part" "$1/incoming/$_dr_name" || fail "drop $_dr_name"
}

# conf FILE SPOOL [EXTRA LINES...]: a fast test configuration; an extra
# line "KEY = ..." replaces the default of KEY.  Tests run as root (CI),
# which spoold refuses unless allow_root = true: the default here.
conf() {
    _cf_f=$1 _cf_sp=$2
    shift 2
    {
        echo "spool = \"$_cf_sp\";"
        for _cf_d in 'poll_interval = "300ms";' 'settle = 1;' 'heartbeat = 1;' \
                     'lease = 5;' 'grace = 20;' 'workers = 2;' 'max_attempts = 3;' \
                     'min_free_memory = 0;' 'min_free_disk = 0;' 'pack_timeout = 120;' \
                     'allow_root = true;'; do
            _cf_k=${_cf_d%% *}
            _cf_over=no
            for _cf_l in "$@"; do
                case $_cf_l in "$_cf_k "*|"$_cf_k="*) _cf_over=yes ;; esac
            done
            [ $_cf_over = no ] && echo "$_cf_d"
        done
        for _cf_l in "$@"; do echo "$_cf_l"; done
    } >"$_cf_f"
}

# start_node NAME CONF [ARGS...]: spoold in the background, log NAME.log.
start_node() {
    _sn_name=$1 _sn_cf=$2
    shift 2
    spoold -c "$_sn_cf" --node "$_sn_name" "$@" >>"$SCRATCH/$_sn_name.log" 2>&1 &
    echo $! >>"$T_PIDS"
    eval "PID_$(echo "$_sn_name" | tr -c 'A-Za-z0-9_\n' _)=$!"
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
    _pg_info=$(tiffinfo "$1" 2>&1) || { echo "tiffinfo $1: $_pg_info" >&2; echo -1; return 1; }
    _pg_dirs=$(echo "$_pg_info" | grep -c '^TIFF Directory')
    _pg_g4=$(echo "$_pg_info" | grep -c 'Compression Scheme: CCITT Group 4')
    [ "$_pg_dirs" -eq "$_pg_g4" ] || { echo "$1: $_pg_dirs pages, $_pg_g4 in G4" >&2; echo -1; return 1; }
    echo "$_pg_dirs"
}

# expect_output OUT BASE N: OUT/BASE.tif is a G4 TIFF of N pages, with its
# report OUT/BASE.json.
expect_output() {
    [ -f "$1/$2.tif" ] || fail "no output $2.tif"
    [ -f "$1/$2.json" ] || fail "no report $2.json"
    _eo_n=$(pages "$1/$2.tif") || fail "$2.tif is not a valid G4 TIFF"
    [ "$_eo_n" -eq "$3" ] || fail "$2.tif has $_eo_n pages, expected $3"
}

# spool_quiet SPOOL: nothing left in incoming/ or claimed/.
spool_quiet() {
    [ "$(count "$1/incoming")" -eq 0 ] && [ "$(count "$1/claimed")" -eq 0 ]
}

# make_packs SPOOLDIR N: drops N small packs p001.tif.. with 1-3 pages
# (pack i has (i % 3) + 1 pages).
make_packs() {
    mkpack "$SCRATCH/one.tif" 1
    mkpack "$SCRATCH/two.tif" 2
    mkpack "$SCRATCH/three.tif" 3
    _mp_i=1
    while [ $_mp_i -le "$2" ]; do
        case $(( _mp_i % 3 )) in
            0) _mp_src=one.tif ;;
            1) _mp_src=two.tif ;;
            *) _mp_src=three.tif ;;
        esac
        drop "$1" "$SCRATCH/$_mp_src" "$(printf 'p%03d.tif' $_mp_i)"
        _mp_i=$((_mp_i + 1))
    done
}

# check_packs SPOOLDIR N LOGS...: every pack of make_packs is in out/
# exactly once with the right page count, done/ has them all, failed/,
# incoming/ and claimed/ are empty, and the nodes' logs say "finished"
# exactly N times in all (no pack published twice).
check_packs() {
    _cp_sp=$1 _cp_n=$2
    shift 2
    spool_quiet "$_cp_sp" || fail "packs left in incoming/ or claimed/"
    [ "$(count "$_cp_sp/failed")" -eq 0 ] || fail "failed/: $(ls "$_cp_sp/failed")"
    [ "$(count "$_cp_sp/done")" -eq "$_cp_n" ] || fail "done/ has $(count "$_cp_sp/done")"
    [ "$(count "$_cp_sp/out")" -eq $(( 2 * _cp_n )) ] ||
        fail "out/ has $(count "$_cp_sp/out") files, expected $(( 2 * _cp_n ))"
    _cp_i=1
    while [ $_cp_i -le "$_cp_n" ]; do
        expect_output "$_cp_sp/out" "$(printf 'p%03d' $_cp_i)" $(( _cp_i % 3 + 1 ))
        _cp_i=$((_cp_i + 1))
    done
    _cp_fin=$(cat "$@" | grep -c '^<6>.*finished p[0-9]*\.tif: ')
    [ "$_cp_fin" -eq "$_cp_n" ] || fail "$_cp_fin 'finished' lines for $_cp_n packs"
}

# mkcorrupt FILE: a one-page G4 TIFF whose structure is sound (every IFD
# and strip inside the file) but whose coded data is zeros, so that
# decoding fails: a bad input, the same on every node.
mkcorrupt() {
    cp "$(t_page)" "$1"
    _mc_off=$(tiffdump "$1" | sed -n 's/^StripOffsets .*<\([0-9]*\)>.*/\1/p')
    _mc_len=$(tiffdump "$1" | sed -n 's/^StripByteCounts .*<\([0-9]*\)>.*/\1/p')
    [ -n "$_mc_off" ] && [ -n "$_mc_len" ] || fail "tiffdump $1"
    dd if=/dev/zero of="$1" bs=1 seek="$_mc_off" count="$_mc_len" conv=notrunc 2>/dev/null ||
        fail "dd $1"
}

# asan: true if spoold was built with AddressSanitizer (no memory_limit).
asan() {
    spoold --version | grep -q AddressSanitizer
}

# alive PID: the process exists and is not a zombie.
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    _al_st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$_al_st" ] && [ "$_al_st" != Z ]
}

# none_alive FILE: no pid listed in FILE (one per line) is alive.
none_alive() {
    [ -f "$1" ] || return 0
    for _na_p in $(cat "$1"); do
        alive "$_na_p" && return 1
    done
    return 0
}
