#!/bin/sh
# t_daemon_i_reload_remount.sh — operation details of issue 3 item 7 and
# DESIGN.md §1:
#   - a node started before its spool exists waits (one error line, nothing
#     created), and starts working when `spoolctl init` has made it;
#   - when .spool-id disappears (a vanished mount) the node stops claiming,
#     says so once, and says so again when it is back, then goes on;
#   - SIGHUP reloads the configuration; an invalid file is refused with the
#     reason and the old configuration stays in effect;
#   - admission: with min_free_memory (then min_free_disk) above what the
#     machine has, packs wait in incoming/ (one log line), and are taken
#     when a reload lowers the limit.
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo ppm2tiff

SP="$SCRATCH/spool"
mkdir "$SP"
conf "$SCRATCH/i.conf" "$SP" "pipeline = ();"
start_node n1 "$SCRATCH/i.conf"
LOG="$SCRATCH/n1.log"
wait_until 20 grep -q '^<3>.* unavailable: ' "$LOG" || fail "no error line for a missing spool"
sleep 2
[ "$(count "$SP")" -eq 0 ] || fail "spoold created something in a directory that is not a spool"
[ "$(grep -c ' unavailable: ' "$LOG")" -eq 1 ] || fail "the missing spool was logged more than once"

mkspool "$SP"
mkpack "$SCRATCH/x.tif" 2
drop "$SP" "$SCRATCH/x.tif" first.tif
wait_until 60 test -f "$SP/out/first.tif" || fail "the node did not start working"

# the mount "vanishes": no claims while .spool-id is missing
mv "$SP/.spool-id" "$SCRATCH/spool-id.saved"
twice() { [ "$(grep -c ' unavailable: ' "$LOG")" -eq 2 ]; }
wait_until 20 twice || fail "no (single) line for the vanished spool"
drop "$SP" "$SCRATCH/x.tif" second.tif
sleep 3
[ -f "$SP/incoming/second.tif" ] || fail "a pack was claimed while the spool was unavailable"
mv "$SCRATCH/spool-id.saved" "$SP/.spool-id"
wait_until 30 grep -q 'available again' "$LOG" || fail "no line for the spool coming back"
wait_until 60 test -f "$SP/out/second.tif" || fail "the node did not go on after the spool came back"
twice || fail "the vanished spool was logged more than once"

# SIGHUP: a valid change is taken, an invalid file is refused
conf "$SCRATCH/i.conf" "$SP" "pipeline = ();" "workers = 1;"
kill -HUP "$(node_pid n1)"
wait_until 20 grep -q 'configuration reloaded: workers 1' "$LOG" || fail "no reload"
conf "$SCRATCH/i.conf" "$SP" "pipeline = ();" 'workers = "many";'
kill -HUP "$(node_pid n1)"
wait_until 20 grep -q "^<3>.*SIGHUP: configuration not reloaded, keeping the old one: $SCRATCH/i.conf:[0-9]*: " "$LOG" ||
    fail "an invalid configuration was not refused with FILE:LINE"
drop "$SP" "$SCRATCH/x.tif" third.tif
wait_until 60 test -f "$SP/out/third.tif" || fail "the node stopped working after a refused reload"

# admission: memory, then disk
for limit in "min_free_memory = \"100T\";" "min_free_disk = \"100P\";"; do
    conf "$SCRATCH/i.conf" "$SP" "pipeline = ();" "$limit"
    reloads=$(grep -c 'configuration reloaded' "$LOG")
    kill -HUP "$(node_pid n1)"
    more() { [ "$(grep -c 'configuration reloaded' "$LOG")" -gt "$reloads" ]; }
    wait_until 20 more || fail "no reload for $limit"
    name="wait-${limit%% *}.tif"
    drop "$SP" "$SCRATCH/x.tif" "$name"
    case $limit in min_free_memory*) kind=memory ;; *) kind=disk ;; esac
    wait_until 20 grep -q "waiting before claiming more: $kind: " "$LOG" ||
        fail "no waiting line for $limit"
    sleep 2
    [ -f "$SP/incoming/$name" ] || fail "$name was claimed despite $limit"
    conf "$SCRATCH/i.conf" "$SP" "pipeline = ();"
    kill -HUP "$(node_pid n1)"
    wait_until 60 test -f "$SP/out/${name%.tif}.tif" || fail "$name not taken after the limit went"
done
[ "$(grep -c 'waiting before claiming more' "$LOG")" -eq 2 ] || fail "waiting was logged more than once per episode"
kill -0 "$(node_pid n1)" || fail "the node died"
kill -TERM "$(node_pid n1)"
wait "$(node_pid n1)" || fail "exit status $? after SIGTERM"
exit 0
