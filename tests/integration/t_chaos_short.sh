#!/bin/sh
# t_chaos_short.sh — the CI version of the fault harness (issue 4,
# tests/chaos/run --short): 3 nodes, each in its own network namespace
# with its own sshfs mounts of the spool and of the output (a small
# tmpfs) served by a private sshd, 40 packs, 24 fault trials — every kind
# at least once: kill -9 of daemons (idle, mid-filter, mid-exec, between
# publish and done) and of workers, sshfs killed, sshd restarted, a
# partition, a paused daemon, clocks an hour off, a full output disk, a
# pack too big for memory_limit.  Passes only if the harness's checker
# finds every pack in the output exactly once or in failed/ with a reason,
# no output half-written while it ran, nothing stuck, no stray file, no
# premature reclaim, no daemon death, no sanitizer report.  Needs root,
# /dev/fuse, network and mount namespaces (CI has them; CI=true turns a
# skip into a failure).
set -u
: "${SCRATCH:?run me through tests/run-integration.sh}"
work=$(mktemp -d /var/tmp/spoold-chaos-ci.XXXXXX) || exit 1
"$SPOOLD_TOP/tests/chaos/run" --short --nodes 3 --packs 40 --trials 24 \
    --seed "${CHAOS_SEED:-$$}" --work "$work"
rc=$?
if [ $rc -ne 0 ] && [ -d "$work" ]; then
    # keep what explains it with the test's scratch directory
    for f in summary.txt check.txt events.log watch.log manifest.tsv; do
        [ -e "$work/$f" ] && cp "$work/$f" "$SCRATCH/"
    done
    for d in "$work"/node/n*; do
        [ -e "$d/log" ] && cp "$d/log" "$SCRATCH/$(basename "$d").log"
    done
fi
rm -rf "$work"
exit $rc
