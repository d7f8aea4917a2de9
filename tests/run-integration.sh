#!/bin/sh
# run-integration.sh — runs every tests/integration/t_*.sh with the programs
# of $BUILD (default build/) first on PATH.  Each test gets a fresh scratch
# directory in $TMPDIR and must clean up what it starts.  A test that exits
# 77 is reported as skipped; CI=true turns skips into failures, because CI
# must run every test.
set -u
# sanitizer builds (make SAN=1): stop at the first report, with a stack
ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")" && pwd)/fuzz/lsan.supp:print_suppressions=0}
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build="$top/$build" ;; esac
PATH="$build:$build/tools:$top/scripts:$PATH"
export PATH SPOOLD_TOP="$top" SPOOLD_BUILD="$build"
failed="" skipped="" n=0
for t in "$top"/tests/integration/t_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    if [ -n "${TESTS-}" ]; then
        case " $TESTS " in *" $name "*) ;; *) continue ;; esac
    fi
    n=$((n + 1))
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/spoold-$name.XXXXXX")
    start=$(date +%s)
    SCRATCH="$scratch" sh "$t" >"$scratch.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        echo "ok   $name (${secs}s)"
        rm -rf "$scratch" "$scratch.log"
    elif [ $rc -eq 77 ]; then
        echo "skip $name: $(tail -n 1 "$scratch.log")"
        skipped="$skipped $name"
    else
        echo "FAIL $name (exit $rc, ${secs}s); last lines of $scratch.log:"
        tail -n 30 "$scratch.log" | sed 's/^/    /'
        failed="$failed $name"
    fi
done
echo "integration: $n run, failed:${failed:- none}, skipped:${skipped:- none}"
[ -z "$failed" ] || exit 1
if [ -n "$skipped" ] && [ "${CI-}" = "true" ]; then
    echo "integration: skipped tests are failures in CI" >&2
    exit 1
fi
exit 0
