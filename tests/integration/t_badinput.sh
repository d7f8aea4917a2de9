#!/bin/bash
# t_badinput.sh — the bad-input corpus of issue 4 (scripts/mkbadinputs.sh:
# broken TIFFs, other data under .tif names, empty files, broken directory
# packs, symlinks, FIFOs and device nodes, hostile names) dropped into one
# daemon's incoming/ together with good packs.  Checks, for every entry,
# what the corpus manifest says (failed/ with a reason; the output of a
# valid pack under an odd name; untouched in incoming/ for names that are
# not packs; rejected to failed/ for names too long to claim), and that:
# the daemon never dies and stops cleanly; the good packs come out; no
# file outside the spool is read into an output or written (the symlink
# targets); nothing is left in tmp/ or the daemon's working directory; a
# newline in a name cannot forge a log line; no sanitizer report.
[ -n "${BASH_VERSION-}" ] || exec bash "$0" "$@"    # the runner uses sh
. "$SPOOLD_TOP/tests/lib/spooltest.sh"
need tiffcp tiffinfo tiffdump ppm2tiff mkfifo md5sum

SP="$SCRATCH/spool"
OUTSIDE="$SCRATCH/outside"
mkspool "$SP"
CORPUS="$SP/incoming/.corpus"     # hidden: the daemon ignores it
MAN="$SCRATCH/manifest"
"$SPOOLD_TOP/scripts/mkbadinputs.sh" "$CORPUS" "$OUTSIDE" "$MAN" || fail "mkbadinputs.sh"
secret_sum=$(md5sum <"$OUTSIDE/secret.tif")
outside_before=$(ls -A "$OUTSIDE")

conf "$SCRATCH/b.conf" "$SP" 'broken_after = 3;' 'max_attempts = 2;' \
    'pack_timeout = 30;' 'memory_limit = "512M";' 'pipeline = ();'
mkdir "$SCRATCH/cwd"
cd "$SCRATCH/cwd" || fail "cd"
start_node bad "$SCRATCH/b.conf"
PID=$(node_pid bad)
LOG="$SCRATCH/bad.log"
make_packs "$SP" 3                # good packs before ...

declare -a names expect what
while IFS= read -r -d '' nm && IFS= read -r -d '' ex && IFS= read -r -d '' wh; do
    names+=("$nm"); expect+=("$ex"); what+=("$wh")
done <"$MAN"
[ ${#names[@]} -ge 50 ] || fail "only ${#names[@]} corpus entries"
for i in "${!names[@]}"; do
    mv -- "$CORPUS/${names[$i]}" "$SP/incoming/${names[$i]}" || fail "mv ${names[$i]}"
done
rmdir "$CORPUS" || fail "corpus directory not empty: $(ls -A "$CORPUS")"
mkpack "$SCRATCH/g.tif" 2
for g in g1 g2 g3; do drop "$SP" "$SCRATCH/g.tif" "$g.tif"; done   # ... and after

# done when only the ignored names are left in incoming/ and claimed/ is
# empty (a hang guard, not a timing assertion)
n_ignored=0
for i in "${!names[@]}"; do [ "${expect[$i]}" = ignored ] && n_ignored=$((n_ignored + 1)); done
settled() {
    alive "$PID" || fail "the daemon died"
    [ "$(count "$SP/incoming")" -eq "$n_ignored" ] && [ "$(count "$SP/claimed")" -eq 0 ]
}
wait_until 300 settled || fail "not settled: incoming/: $(ls -A "$SP/incoming" | head -c 400); claimed/: $(ls -A "$SP/claimed" | head -c 400)"
alive "$PID" || fail "the daemon died"

there() { [ -e "$1" ] || [ -L "$1" ]; }
base_of() { case $1 in *.tif) echo "${1%.tif}" ;; *) echo "$1" ;; esac; }
bad=0
for i in "${!names[@]}"; do
    nm=${names[$i]} ex=${expect[$i]} b=$(base_of "${names[$i]}")
    o=no f=no
    [ -f "$SP/out/$b.tif" ] && o=yes
    there "$SP/failed/$nm" && f=yes
    ok=yes
    case $ex in
        failed) [ $f = yes ] && [ -s "$SP/failed/$nm.err" ] && [ $o = no ] || ok=no ;;
        out) [ $o = yes ] && [ $f = no ] && [ -f "$SP/out/$b.json" ] || ok=no ;;
        any) { [ $o = yes ] && [ $f = no ]; } || { [ $f = yes ] && [ $o = no ] && [ -s "$SP/failed/$nm.err" ]; } || ok=no ;;
        ignored) there "$SP/incoming/$nm" && [ $o = no ] && [ $f = no ] || ok=no ;;
        reject) [ $f = yes ] && [ $o = no ] || ok=no ;;
    esac
    if [ $ok = no ]; then
        echo "WRONG: $(printf '%q' "$nm") (${what[$i]}): expected $ex, output=$o failed=$f" >&2
        bad=$((bad + 1))
    elif [ $f = yes ] && [ -s "$SP/failed/$nm.err" ]; then
        echo "ok $ex: $(printf '%q' "$nm"): $(tail -n 1 "$SP/failed/$nm.err" | cut -c1-160)"
    else
        echo "ok $ex: $(printf '%q' "$nm")"
    fi
done
[ $bad -eq 0 ] || fail "$bad corpus entries did not end as expected"

# the good packs flowed
for i in 1 2 3; do expect_output "$SP/out" "$(printf 'p%03d' $i)" $(( i % 3 + 1 )); done
for g in g1 g2 g3; do expect_output "$SP/out" "$g" 2; done
# a name too long for a .err sidecar is still reported, in the log
grep -q '^<4>.*rejected NNNN.* -> failed/: ' "$LOG" || fail "no log line for the 255-byte name"

# nothing outside the spool was read into an output or written
[ "$(md5sum <"$OUTSIDE/secret.tif")" = "$secret_sum" ] || fail "secret.tif changed"
[ "$(ls -A "$OUTSIDE")" = "$outside_before" ] || fail "written outside the spool: $(ls -A "$OUTSIDE")"
for b in link-outside dir-symlink link-dir; do
    [ ! -e "$SP/out/$b.tif" ] || fail "an output was made from a symlink: $b.tif"
done
[ -z "$(ls -A "$SCRATCH/cwd")" ] || fail "written into the daemon's cwd: $(ls -A "$SCRATCH/cwd")"
[ ! -e "$SP/incoming/pwned" ] && [ ! -e "$SCRATCH/cwd/pwned" ] || fail "a name was run as a command"
# a newline in a name is escaped: no forged line starts with its second half
grep -q '^line\.tif' "$LOG" && fail "a pack name forged a log line"
grep -q 'new\\x0aline\.tif' "$LOG" || fail "the newline of a name is not escaped in the log"
grep -E 'runtime error|AddressSanitizer|LeakSanitizer' "$LOG" && fail "sanitizer report"

kill -TERM "$PID"
wait "$PID"
rc=$?
[ $rc -eq 0 ] || fail "spoold exited $rc after SIGTERM"
[ -z "$(ls -A "$SP/tmp")" ] || fail "left in tmp/: $(ls -A "$SP/tmp")"
stray=$(find "$SP/out" -mindepth 1 ! -name '*.tif' ! -name '*.json')
[ -z "$stray" ] || fail "stray files in the output: $stray"
echo "bad-input corpus: ${#names[@]} entries, all as expected"
exit 0
