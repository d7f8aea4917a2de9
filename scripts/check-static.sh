#!/bin/sh
# check-static.sh — checks that need no build: man pages render without
# warnings, shell scripts parse.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for m in "$top"/man/*.[0-9]; do
    [ -e "$m" ] || continue
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -ww -man -Tutf8 -z "$m" 2>&1)
    if [ -n "$out" ]; then
        echo "man: $m:"; echo "$out"; rc=1
    fi
done
for s in "$top"/scripts/*.sh "$top"/tests/*.sh "$top"/tests/integration/*.sh "$top"/tests/lib/*.sh; do
    [ -e "$s" ] || continue
    sh -n "$s" || { echo "syntax: $s"; rc=1; }
done
[ $rc -eq 0 ] && echo "static checks: ok"
exit $rc
