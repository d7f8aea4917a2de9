#!/bin/sh
# demo.sh — the main job on built-in samples, start to finish (make demo):
# makes degraded sample scans with exact ground truth, creates a spool,
# starts two spoold nodes over it, submits the packs (plus one broken pack,
# to show quarantine), waits until everything is cleaned, and shows what an
# operator sees: spoolctl status, the spool with ls, a page report, the
# metrics file, and how well the pages were cleaned against the truth.
#
#   scripts/demo.sh [DIR]      (default: demo-out/ in the source tree)
#
# Needs a built tree (make demo builds it first).  Both nodes run on this
# machine over a local spool; see README.md for nodes on other machines.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SPOOLD_BUILD:-$top/build}
demo=${1:-$top/demo-out}
PATH="$build:$build/tools:$PATH"
export PATH SPOOLD_BUILD="$build"

say() { printf '\n\033[1m== %s\033[0m\n' "$*" 2>/dev/null || printf '\n== %s\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$demo"
mkdir -p "$demo"

say "1. Sample scans: 24 degraded A4 pages (skew, turned pages, borders, specks) in packs of 6"
"$top/scripts/mksamples.sh" --out "$demo/samples" -n 24 --pack 6 --seed 7 -j 2 >/dev/null ||
    die "mksamples failed"
ls "$demo/samples/packs"

say "2. A spool, made once by the operator"
spoolctl init "$demo/spool"
ls -a "$demo/spool"

say "3. Two nodes over the spool"
for n in node1 node2; do
    cat >"$demo/$n.conf" <<CONF
# demo configuration of $n (see man/spoold.conf.5)
spool = "$demo/spool";
node = "$n";
workers = 1;
poll_interval = "1s";
settle = "1s";
heartbeat = "2s";
lease = "10s";
max_attempts = 2;
broken_after = "5s";       # a pack that is quiet but does not parse fails after this
metrics_file = "$demo/$n.prom";
allow_root = true;         # "make demo" may run as root; a real node runs as User=spoold
CONF
    spoold -c "$demo/$n.conf" 2>"$demo/$n.log" &
    pids="$pids $!"
    echo "started $n (pid $!), log in $demo/$n.log"
done

say "4. Scanners drop packs: spoolctl submit (copy under a hidden name, then rename)"
spoolctl -s "$demo/spool" submit "$demo"/samples/packs/*.tif
mkdir -p "$demo/box-17"
cp "$demo/samples/pages/p0001.tif" "$demo/box-17/page-001.tif"
cp "$demo/samples/pages/p0002.tif" "$demo/box-17/page-002.tif"
spoolctl -s "$demo/spool" submit "$demo/box-17"
head -c 3000 "$demo/samples/pages/p0003.tif" >"$demo/torn-scan.tif"
spoolctl -s "$demo/spool" submit "$demo/torn-scan.tif"
echo "submitted: 4 packs of 6 pages, one directory pack of 2 pages, one truncated file"

say "5. Waiting for the nodes (spoolctl status)"
i=0
while :; do
    left=$(find "$demo/spool/incoming" "$demo/spool/claimed" -mindepth 1 -maxdepth 1 | wc -l)
    [ "$left" -eq 0 ] && break
    i=$((i + 1))
    [ $i -gt 600 ] && die "packs still waiting after 5 minutes"
    sleep 0.5
done
spoolctl -s "$demo/spool" status

say "6. The spool as an operator sees it with ls"
for d in incoming claimed done failed nodes out; do
    echo "$d/:"
    ls "$demo/spool/$d" | sed 's/^/    /'
done
echo "failed/torn-scan.tif.err says:"
sed 's/^/    /' "$demo/spool/failed/torn-scan.tif.err"

say "7. What the nodes logged"
cat "$demo/node1.log" "$demo/node2.log" | sort -t'>' -k2 | head -n 20

say "8. The report of out/pack001.tif (out/pack001.json), up to its first page"
sed 's/},{"page":1.*//' "$demo/spool/out/pack001.json" | fold -w 78

say "9. Metrics (Prometheus textfile of node1)"
grep -v '^#' "$demo/node1.prom" | head -n 12
for n in node1 node2; do
    promcheck "$demo/$n.prom" || die "$demo/$n.prom does not parse as a Prometheus textfile"
done
echo "metrics files of both nodes parse"

say "10. How clean are the pages? (scored against the exact ground truth)"
scorepage --truth "$demo/samples/truth.jsonl" --outputs "$demo/spool/out" --packs \
    --tsv "$demo/score.tsv" 2>&1 | tail -n 12 || echo "(scoring failed)"

say "Done: cleaned packs are in $demo/spool/out"
