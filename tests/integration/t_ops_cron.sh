#!/bin/sh
# t_ops_cron.sh — scripts/spoold-cron: spoold gets "-c CONFIG --once" and
# the extra options; a second run of the same config while the first holds
# the lock exits 0 without starting spoold; another config is not blocked;
# the lock is released when spoold ends; spoold's exit status comes back.
# A fake spoold that waits for a release file makes this deterministic
# (no sleeps that decide the outcome).
set -eu
cd "$SCRATCH"
mkdir lock
export SPOOLD="$SCRATCH/fake-spoold" SPOOLD_LOCKDIR="$SCRATCH/lock"

cat >fake-spoold <<'EOF'
#!/bin/sh
# records its arguments, says it started, waits for release if asked
echo "$*" >>"$SCRATCH/calls"
: >"$SCRATCH/started.$FAKE_ID"
if [ "${FAKE_WAIT-}" = 1 ]; then
    i=0
    while [ ! -e "$SCRATCH/release" ]; do
        i=$((i + 1)); [ $i -lt 1200 ] || exit 99      # 2 min: never hang
        sleep 0.1
    done
fi
exit "${FAKE_RC:-0}"
EOF
chmod +x fake-spoold
export SCRATCH

wait_for() {    # wait_for FILE: bounded wait for the fake to start
    i=0
    while [ ! -e "$1" ]; do
        i=$((i + 1)); [ $i -lt 1200 ] || { echo "timeout waiting for $1"; exit 1; }
        sleep 0.1
    done
}

# A: holds the lock of a.conf until released, then exits 5
FAKE_ID=a FAKE_WAIT=1 FAKE_RC=5 spoold-cron -c "$SCRATCH/a.conf" -v --node n1 &
apid=$!
wait_for started.a
# the lock file is named after the config and really is locked
[ -e lock/spoold-a.lock ]
if flock -n lock/spoold-a.lock true; then echo "lock not held"; exit 1; fi

# B: same config while A runs: exit 0, spoold not started
FAKE_ID=b spoold-cron -c "$SCRATCH/a.conf" >b.out 2>&1
[ ! -e started.b ] || { echo "second run started spoold"; exit 1; }
[ ! -s b.out ] || { echo "second run was not quiet:"; cat b.out; exit 1; }

# C: another config is not blocked by A
FAKE_ID=c FAKE_RC=0 spoold-cron -c "$SCRATCH/other.conf"
[ -e started.c ] && [ -e lock/spoold-other.lock ]

# A ends with its own status, and frees the lock
: >release
set +e
wait $apid
arc=$?
set -e
[ $arc -eq 5 ] || { echo "A exited $arc, want 5"; exit 1; }
flock -n lock/spoold-a.lock true

# D: runs again once A is gone; default config when -c is not given
FAKE_ID=d spoold-cron -v
[ -e started.d ] && [ -e lock/spoold-spoold.lock ]

want="-c $SCRATCH/a.conf --once -v --node n1
-c $SCRATCH/other.conf --once
-c /etc/spoold.conf --once -v"
[ "$(cat calls)" = "$want" ] || { echo "calls:"; cat calls; exit 1; }

# errors are reported, with status 2, not silently skipped
set +e
SPOOLD_LOCKDIR="$SCRATCH/nowhere" FAKE_ID=e spoold-cron -c x.conf 2>e.err; erc=$?
spoold-cron -c 2>f.err; frc=$?
FAKE_ID=g spoold-cron -c /etc/.conf 2>g.err; grc=$?
set -e
[ $erc -eq 2 ] && grep -q "nowhere: not a directory" e.err
[ $frc -eq 2 ] && grep -q "needs a file" f.err
[ $grc -eq 2 ] && grep -q "bad config name" g.err
[ ! -e started.e ] && [ ! -e started.g ]
# installed layout: without $SPOOLD, the spoold next to the wrapper runs
mkdir sbin
cp "$SPOOLD_TOP/scripts/spoold-cron" fake-spoold sbin/
mv sbin/fake-spoold sbin/spoold
: >calls
(unset SPOOLD; FAKE_ID=h sbin/spoold-cron -c "$SCRATCH/h.conf")
[ -e started.h ] && [ "$(cat calls)" = "-c $SCRATCH/h.conf --once" ]
echo "t_ops_cron: ok"
