#!/bin/sh
# run-unit.sh — runs each cmocka test binary given on the command line and
# reports which ones failed.  Exit status is non-zero if any failed.
set -u
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
