#!/bin/sh
# run-unit.sh — runs each cmocka test binary given on the command line and
# reports which ones failed.  Exit status is non-zero if any failed.
set -u
# sanitizer builds (make SAN=1): stop at the first report, with a stack
ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")" && pwd)/fuzz/lsan.supp:print_suppressions=0}
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
failed=""
for t in "$@"; do
    if ! "$t"; then
        failed="$failed $(basename "$t")"
    fi
done
if [ -n "$failed" ]; then
    echo "unit tests FAILED:$failed" >&2
    exit 1
fi
echo "unit tests: all $# binaries passed"
