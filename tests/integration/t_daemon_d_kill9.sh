#!/bin/sh
# t_daemon_d_kill9.sh — issue 3 test (d): kill -9 of a daemon holding
# claims: another node takes them back once the dead node's heartbeat is
# older than the lease, and finishes them; the attempt lost with the dead
# node is counted (the reports say attempt 2) and written in the history.
# A node that has just started judges no other node before it has watched
# the heartbeats for one lease (5 s here).
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkspool "$SP"
# slow node: every pack takes 30 s (it will not live that long)
conf "$SCRATCH/slow.conf" "$SP" \
    'pipeline = ( { exec = ["sh", "-c", "sleep 30; cp \"$0\" \"$1\"", "{in}", "{out}"]; } );'
conf "$SCRATCH/fast.conf" "$SP" "pipeline = ();"
make_packs "$SP" 6
start_node dead "$SCRATCH/slow.conf"
held() { [ "$(ls "$SP/claimed" | grep -c '@dead$')" -eq 2 ]; }
wait_until 60 held || fail "the slow node did not claim two packs"
kill -KILL "$(node_pid dead)"
wait "$(node_pid dead)" 2>/dev/null
[ -f "$SP/nodes/dead" ] || fail "the killed node's heartbeat is gone"

start_node alive "$SCRATCH/fast.conf"
wait_until 120 spool_quiet "$SP" || fail "claims of the dead node were not taken back"
t_stop_all
check_packs "$SP" 6 "$SCRATCH/alive.log"
[ "$(grep -c 'reclaimed p[0-9]*\.tif from dead (heartbeat age' "$SCRATCH/alive.log")" -eq 2 ] ||
    fail "expected two 'reclaimed ... from dead' lines"
# seconds of the day of a log line's stamp (<6>HH:MM:SS.mmm)
stamp_s() { sed -n 's/^<[0-9]>\([0-9]*\):\([0-9]*\):\([0-9.]*\) .*/\1 \2 \3/p' | head -n 1 |
            awk '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }
t_open=$(grep ' opened as node alive' "$SCRATCH/alive.log" | stamp_s)
t_reap=$(grep ' reclaimed ' "$SCRATCH/alive.log" | stamp_s)
awk -v a="$t_open" -v b="$t_reap" 'BEGIN { d = b - a; if (d < 0) d += 86400; exit !(d >= 4.9) }' ||
    fail "the new node took claims back $t_open -> $t_reap, before watching the heartbeats for a lease"
[ "$(grep -l '"attempt":2' "$SP"/out/*.json | wc -l)" -eq 2 ] ||
    fail "the two reclaimed packs should report attempt 2"
[ "$(grep -l '"node":"alive"' "$SP"/out/*.json | wc -l)" -eq 6 ] ||
    fail "every report should name node alive"
exit 0
