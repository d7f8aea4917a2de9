#!/bin/sh
# t_spoolfilter.sh — the spoolfilter command on good input: --help and
# --version, usage errors (exit 2, one line), conversion of PBM input to a
# G4 TIFF, page order over several inputs and a directory, --threads giving
# the same bytes, --dpi, --report as valid JSON Lines to a file and to
# stdout, -v.  The filter stages are switched off (--no-*) so that this
# tests the command and the I/O; t_spoolfilter_chain.sh tests the chain.
set -u
cd "$SCRATCH" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
NO="--no-border --no-orient --no-deskew --no-despeckle --no-crop"

# mkpbm FILE WIDTH HEIGHT SEED: a plain PBM with a seed-dependent pattern
mkpbm() {
    awk -v w="$2" -v h="$3" -v s="$4" 'BEGIN {
        print "P1"; print w, h
        for (y = 0; y < h; y++) {
            l = ""
            for (x = 0; x < w; x++)
                l = l ((((x * 7 + y * 13 + s) % 11) == 0 ||
                        (y > h / 3 && y < h / 2 && x > w / 4 && x < w * 3 / 4)) ? "1" : "0")
            print l
        }
    }' >"$1"
}

# one_line FILE: the file has exactly one line
one_line() { [ "$(wc -l <"$1")" -eq 1 ] || { cat "$1"; fail "$1: not one line"; }; }

# ---- help, version, usage errors
spoolfilter --help >out.txt 2>err.txt || fail "--help exit $?"
grep -q '^usage: spoolfilter' out.txt || fail "--help text"
[ -s err.txt ] && fail "--help wrote to stderr"
spoolfilter --version >out.txt || fail "--version exit $?"
grep -qx "spoolfilter $(cat "$SPOOLD_TOP/VERSION")" out.txt || fail "--version: $(cat out.txt)"

mkpbm a.pbm 64 48 1
for args in "" "a.pbm" "--bogus a.pbm out.tif" "--threads 0 a.pbm out.tif" \
            "--threads x a.pbm out.tif" "--crop=round a.pbm out.tif" \
            "--max-skew 90 a.pbm out.tif" "--max-skew nan a.pbm out.tif" \
            "--dpi -3 a.pbm out.tif" "--max-pixels 12q a.pbm out.tif" \
            "--binarize=magic a.pbm out.tif" "--report"; do
    # shellcheck disable=SC2086
    spoolfilter $args >out.txt 2>err.txt
    rc=$?
    [ $rc -eq 2 ] || fail "'$args': exit $rc, expected 2"
    one_line err.txt
    grep -q '^spoolfilter: ' err.txt || fail "'$args': $(cat err.txt)"
    [ -e out.tif ] && fail "'$args' wrote output"
done

# ---- one PBM to G4 TIFF
# shellcheck disable=SC2086
spoolfilter $NO a.pbm out.tif 2>err.txt || fail "convert: exit $? $(cat err.txt)"
[ -s err.txt ] && fail "convert wrote to stderr: $(cat err.txt)"
tiffinfo out.tif >info.txt 2>&1 || fail "tiffinfo: $(cat info.txt)"
grep -q 'Compression Scheme: CCITT Group 4' info.txt || fail "not G4"
grep -q 'Image Width: 64 Image Length: 48' info.txt || fail "size"
grep -q 'Resolution: 300, 300 pixels/inch' info.txt || fail "default dpi"
[ "$(grep -c 'TIFF Directory' info.txt)" -eq 1 ] || fail "pages"
ls -a | grep -q '^\.out\.tif\.' && fail "temporary file left"

# the pixels survive: back to PBM through our own G4 output and compare
# shellcheck disable=SC2086
spoolfilter $NO out.tif again.tif || fail "re-read"
cmp -s out.tif again.tif || fail "G4 -> G4 not identical"

# ---- --dpi for files without resolution
# shellcheck disable=SC2086
spoolfilter $NO --dpi 150 a.pbm dpi.tif || fail "--dpi"
tiffinfo dpi.tif 2>&1 | grep -q 'Resolution: 150, 150 pixels/inch' || fail "--dpi 150 not kept"

# ---- order over several inputs, and a directory in name order
mkpbm b.pbm 80 30 2
mkpbm c.pbm 40 90 3
# shellcheck disable=SC2086
spoolfilter $NO c.pbm a.pbm b.pbm multi.tif || fail "multi"
tiffinfo multi.tif 2>/dev/null | grep 'Image Width' >sizes.txt
printf '  Image Width: 40 Image Length: 90\n  Image Width: 64 Image Length: 48\n  Image Width: 80 Image Length: 30\n' >want.txt
cmp -s sizes.txt want.txt || { cat sizes.txt; fail "page order"; }

mkdir pages
cp b.pbm pages/02.pbm
cp c.pbm pages/10.pbm
cp a.pbm pages/01.pbm
echo "not an image" >pages/.hidden
# shellcheck disable=SC2086
spoolfilter $NO pages dir.tif || fail "directory input"
tiffinfo dir.tif 2>/dev/null | grep 'Image Width' >sizes.txt
printf '  Image Width: 64 Image Length: 48\n  Image Width: 80 Image Length: 30\n  Image Width: 40 Image Length: 90\n' >want.txt
cmp -s sizes.txt want.txt || { cat sizes.txt; fail "directory order"; }

# ---- threads: same bytes
# shellcheck disable=SC2086
spoolfilter $NO --threads 3 pages multi.tif dir.tif c.pbm threads.tif || fail "--threads"
# shellcheck disable=SC2086
spoolfilter $NO --threads 1 pages multi.tif dir.tif c.pbm single.tif || fail "single"
cmp -s threads.tif single.tif || fail "--threads 3 output differs"
[ "$(tiffinfo threads.tif 2>/dev/null | grep -c 'TIFF Directory')" -eq 10 ] || fail "threads pages"

# ---- report
# shellcheck disable=SC2086
spoolfilter $NO --report rep.jsonl pages rep.tif 2>err.txt || fail "--report"
[ -s err.txt ] && fail "--report wrote to stderr"
jsonlcheck -n 3 rep.jsonl || fail "report is not 3 JSON lines"
grep -q '^{"page":2,"width":40,"height":90,' rep.jsonl || fail "report content"
# shellcheck disable=SC2086
spoolfilter $NO --report - pages rep2.tif >stdout.jsonl || fail "--report -"
jsonlcheck -n 3 stdout.jsonl || fail "stdout report"

# ---- -v: report lines and a summary on stderr, nothing on stdout
# shellcheck disable=SC2086
spoolfilter $NO -v pages v.tif >out.txt 2>err.txt || fail "-v"
[ -s out.txt ] && fail "-v wrote to stdout"
grep -q '^spoolfilter: v.tif: 3 pages in ' err.txt || fail "-v summary: $(cat err.txt)"
[ "$(grep -c '^{"page"' err.txt)" -eq 3 ] || fail "-v report lines"

# ---- in place: the output may be the input
cp multi.tif inplace.tif
# shellcheck disable=SC2086
spoolfilter $NO inplace.tif inplace.tif || fail "in place"
cmp -s inplace.tif multi.tif || fail "in place changed pixels"
echo ok
