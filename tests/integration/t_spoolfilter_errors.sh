#!/bin/sh
# t_spoolfilter_errors.sh — spoolfilter on bad input and bad targets: exit
# 1, exactly one line "spoolfilter: FILE: [page N: ]REASON" on stderr, no
# output file, no report file and no temporary file left, and an existing
# output left untouched.
set -u
cd "$SCRATCH" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
NO="--no-border --no-orient --no-deskew --no-despeckle --no-crop"

printf 'P1\n8 4\n10101010\n01010101\n11110000\n00001111\n' >good.pbm
printf 'P4\n16 8\n\377\377\000' >truncated.pbm
printf 'P4\n100000 100000\n\377' >huge.pbm
printf 'hello\n' >text.tif
echo "old content" >out.tif

# expect_fail WANT ARGS...: exit 1, one line equal to WANT, nothing written
expect_fail() {
    want=$1
    shift
    spoolfilter "$@" >out.txt 2>err.txt
    rc=$?
    [ $rc -eq 1 ] || fail "'$*': exit $rc, expected 1"
    [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "'$*': not one line"; }
    [ "$(cat err.txt)" = "$want" ] || fail "'$*': got '$(cat err.txt)', want '$want'"
    [ "$(cat out.tif)" = "old content" ] || fail "'$*': output touched"
    [ -e rep.jsonl ] && fail "'$*': report written"
    ls -a | grep -q '^\.out\.tif\.' && fail "'$*': temporary file left"
    ls -a | grep -q '^\.rep\.jsonl\.' && fail "'$*': temporary report left"
    return 0
}

# shellcheck disable=SC2086
expect_fail "spoolfilter: missing.tif: cannot open: No such file or directory" \
    $NO --report rep.jsonl missing.tif out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: text.tif: not an image file (not TIFF, PNG or PNM)" \
    $NO text.tif out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: truncated.pbm: page 1: truncated file: data ends at row 2" \
    $NO --report rep.jsonl truncated.pbm out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: huge.pbm: page 1: image 100000x100000 exceeds the pixel limit of 600000000 pixels" \
    $NO huge.pbm out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: good.pbm: page 1: image 8x4 exceeds the pixel limit of 31 pixels" \
    $NO --max-pixels 31 good.pbm out.tif
# a bad file after good ones: nothing at all is written
# shellcheck disable=SC2086
expect_fail "spoolfilter: truncated.pbm: page 1: truncated file: data ends at row 2" \
    $NO --report rep.jsonl good.pbm good.pbm truncated.pbm out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: truncated.pbm: page 1: truncated file: data ends at row 2" \
    $NO --threads 2 good.pbm good.pbm truncated.pbm good.pbm out.tif
# shellcheck disable=SC2086
expect_fail "spoolfilter: no/such/dir/x.tif: cannot create a temporary file in no/such/dir/: No such file or directory" \
    $NO good.pbm no/such/dir/x.tif
mkdir adir
# shellcheck disable=SC2086
expect_fail "spoolfilter: adir: is a directory" $NO good.pbm adir
mkdir empty
# shellcheck disable=SC2086
expect_fail "spoolfilter: empty: no files in directory" $NO empty out.tif

# a multi-page TIFF whose second page is corrupt
# shellcheck disable=SC2086
spoolfilter $NO good.pbm good.pbm two.tif || fail "making two.tif"
size=$(wc -c <two.tif)
# cut the file inside the second page's data: the directory of page 2 is
# at the end, so point it ... simply truncate: the page list breaks
head -c $((size - 20)) two.tif >cut.tif
spoolfilter $NO cut.tif out.tif >/dev/null 2>err.txt && fail "cut.tif accepted"
grep -q '^spoolfilter: cut.tif: ' err.txt || fail "cut.tif: $(cat err.txt)"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "cut.tif: not one line"
echo ok
