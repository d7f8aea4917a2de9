#!/bin/sh
# t_spoolctl.sh — spoolctl on a local spool: init (idempotent, refusing a
# foreign directory), submit (files, directories, odd names, no replace),
# status text and JSON (nodes live/dead from heartbeat mtimes), requeue
# and retry-failed.
set -eu
S="$SCRATCH/spool"
fail() { echo "FAIL: $*"; exit 1; }

spoolctl init "$S"
id1=$(cat "$S/.spool-id")
spoolctl init "$S" >/dev/null
[ "$id1" = "$(cat "$S/.spool-id")" ] || fail "init changed the id"
for d in incoming claimed done failed nodes tmp out; do
    [ -d "$S/$d" ] || fail "no $d/"
done
mkdir "$SCRATCH/foreign"; echo x > "$SCRATCH/foreign/file"
if spoolctl init "$SCRATCH/foreign" 2>"$SCRATCH/err"; then fail "init took a foreign dir"; fi
grep -q "not empty" "$SCRATCH/err" || fail "no reason: $(cat "$SCRATCH/err")"
spoolctl init --force "$SCRATCH/foreign" >/dev/null
if spoolctl -s "$SCRATCH/nowhere" status 2>"$SCRATCH/err"; then fail "status on no spool"; fi
grep -q "not a spool" "$SCRATCH/err" || fail "no reason: $(cat "$SCRATCH/err")"

# submit: a file, an odd name, a directory pack; never replace
printf 'II*\000' > "$SCRATCH/a.tif"
odd="$SCRATCH/we@ird +name é.tif"
printf 'II*\000' > "$odd"
mkdir "$SCRATCH/book"; printf 'P4\n1 1\n\000' > "$SCRATCH/book/p1.pbm"
spoolctl -s "$S" submit "$SCRATCH/a.tif" "$odd" "$SCRATCH/book"
[ -f "$S/incoming/a.tif" ] && [ -f "$S/incoming/we@ird +name é.tif" ] || fail "files not submitted"
[ -f "$S/incoming/book/p1.pbm" ] || fail "directory not submitted"
[ -z "$(ls -A "$S/incoming" | grep '^\.')" ] || fail "hidden leftovers in incoming"
echo changed > "$SCRATCH/a.tif"
if spoolctl -s "$S" submit "$SCRATCH/a.tif" 2>"$SCRATCH/err"; then fail "replaced a pack"; fi
grep -q "exists already" "$SCRATCH/err" || fail "no reason: $(cat "$SCRATCH/err")"
[ "$(cat "$S/incoming/a.tif")" != changed ] || fail "pack content replaced"
if spoolctl -s "$S" submit --name x.part "$SCRATCH/a.tif" 2>/dev/null; then fail "took an ignored name"; fi
mkdir "$SCRATCH/nested"; mkdir "$SCRATCH/nested/sub"
if spoolctl -s "$S" submit "$SCRATCH/nested" 2>/dev/null; then fail "took a nested directory"; fi
[ ! -e "$S/incoming/nested" ] || fail "nested pack appeared"

# a live node, a dead node (heartbeat 10 min old), a claim and a failure
cat > "$S/nodes/n1" <<HB
spoold-heartbeat 1
node=n1
host=h1
state=running
workers=2
busy=1
lease=60
pages_done=100
bytes_done=5000000
pages_per_min=120
HB
sed 's/n1/n2/' "$S/nodes/n1" > "$S/nodes/n2"
touch -d '10 minutes ago' "$S/nodes/n2"
mv "$S/incoming/a.tif" "$S/claimed/a.tif@n1"
printf 'II*\000' > "$S/claimed/old.tif@n2+2"
printf 'II*\000' > "$S/claimed/orphan.tif@n3+3"
printf 'II*\000' > "$S/claimed/retry.tif@+1"
mkdir -p "$S/failed"
printf 'x' > "$S/failed/bad.tif"
printf 'attempt 1 on n1 at 2024-01-01T00:00:00Z: crash\nfailed at 2024-01-01T00:00:01Z on n1: not a TIFF (permanent)\n' > "$S/failed/bad.tif.err"
spoolctl -s "$S" status > "$SCRATCH/status"
cat "$SCRATCH/status"
grep -q "incoming 2 " "$SCRATCH/status" || fail "incoming count"
grep -q "working 3, waiting for retry 1," "$SCRATCH/status" || fail "working/waiting count"
grep -q "n3 .*DEAD no heartbeat, 1 claim" "$SCRATCH/status" || fail "n3 without heartbeat not dead"
grep -q "failed 1" "$SCRATCH/status" || fail "failed count"
grep -q "n1 .*live" "$SCRATCH/status" || fail "n1 not live"
grep -q "n2 .*DEAD" "$SCRATCH/status" || fail "n2 not dead"
grep -q "bad.tif: failed at .*not a TIFF (permanent)" "$SCRATCH/status" || fail "reason"
grep -q "120 pages/min" "$SCRATCH/status" || fail "rate"
spoolctl -s "$S" status --json > "$SCRATCH/json"
grep -q '"failed":1' "$SCRATCH/json" || fail "json counts"
grep -q '"name":"n2","live":false' "$SCRATCH/json" || fail "json dead node"
grep -q '"name":"we@ird +name é.tif"' "$SCRATCH/json" || fail "json odd name"
spoolctl -s "$S" watch --count 2 -n 0.2 > "$SCRATCH/watch"
[ "$(grep -c '^\[' "$SCRATCH/watch")" -eq 2 ] || fail "watch did not refresh twice"

# requeue and retry-failed
spoolctl -s "$S" requeue bad.tif
[ -f "$S/incoming/bad.tif" ] && [ ! -e "$S/failed/bad.tif" ] && [ ! -e "$S/failed/bad.tif.err" ] || fail "requeue"
if spoolctl -s "$S" requeue bad.tif 2>/dev/null; then fail "requeue of a missing pack"; fi
printf 'y' > "$S/failed/bad.tif"
if spoolctl -s "$S" requeue bad.tif 2>"$SCRATCH/err"; then fail "requeue replaced incoming"; fi
grep -q "exists already" "$SCRATCH/err" || fail "no reason: $(cat "$SCRATCH/err")"
rm "$S/failed/bad.tif"
printf 'z' > "$S/failed/c1.tif"; echo r > "$S/failed/c1.tif.err"
printf 'z' > "$S/failed/c2 two.tif"
spoolctl -s "$S" retry-failed | grep -q "requeued 2" || fail "retry-failed count"
[ -f "$S/incoming/c1.tif" ] && [ -f "$S/incoming/c2 two.tif" ] || fail "retry-failed"
[ -z "$(ls -A "$S/failed")" ] || fail "failed/ not empty"
echo ok
