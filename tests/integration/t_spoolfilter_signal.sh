#!/bin/sh
# t_spoolfilter_signal.sh — spoolfilter stopped by SIGTERM or SIGINT in the
# middle of a long pack: exit status 128+N, one line "spoolfilter: OUTPUT:
# interrupted" after the progress lines, no output, no temporary file, an
# existing output untouched; with --threads too.
set -u
cd "$SCRATCH" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
NO="--no-border --no-orient --no-deskew --no-despeckle --no-crop"

# 20000 small pages in one PBM file: a couple of seconds of work
awk 'BEGIN { for (i = 0; i < 20000; i++) { printf "P1\n64 2\n"
             for (j = 0; j < 128; j++) printf "%d", (i + j) % 3 == 0
             printf "\n" } }' >many.pbm

run_and_kill() {    # SIGNAL STATUS ARGS...
    sig=$1 want=$2
    shift 2
    echo "old" >out.tif
    rm -f err.txt
    # shellcheck disable=SC2086
    spoolfilter $NO -v "$@" many.pbm out.tif 2>err.txt &
    pid=$!
    n=0
    until grep -q '^{"page":0,' err.txt 2>/dev/null; do
        sleep 0.05
        n=$((n + 1))
        [ $n -lt 400 ] || { kill -KILL $pid; fail "no progress after 20 s"; }
    done
    kill -"$sig" $pid
    wait $pid
    rc=$?
    [ $rc -ne 0 ] || fail "$sig: finished before the signal arrived"
    [ $rc -eq "$want" ] || { tail -n 3 err.txt; fail "$sig: exit $rc, want $want"; }
    [ "$(tail -n 1 err.txt)" = "spoolfilter: out.tif: interrupted" ] ||
        fail "$sig: last line '$(tail -n 1 err.txt)'"
    [ "$(grep -vc '^{"page"' err.txt)" -eq 1 ] || fail "$sig: more than one message"
    [ "$(cat out.tif)" = "old" ] || fail "$sig: output replaced"
    ls -a | grep -q '^\.out\.tif\.' && fail "$sig: temporary file left"
    return 0
}

run_and_kill TERM 143
run_and_kill INT 130
run_and_kill HUP 129 --threads 2
echo ok
