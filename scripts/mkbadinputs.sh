#!/bin/bash
# mkbadinputs.sh — makes the bad-input corpus of issue 4: files, directories,
# special files and names that a scanner, a careless operator or an
# attacker could drop into a spool's incoming/, each with what spoold must
# do with it.  Nothing is committed as a binary: every byte is made here.
#
#   scripts/mkbadinputs.sh DIR OUTSIDE MANIFEST
#
# DIR       where the entries are made (empty or missing; the test then
#           renames each one into incoming/, so DIR should be on the same
#           file system, e.g. a hidden directory inside incoming/ itself)
# OUTSIDE   a directory outside the spool: the targets of the symlinks
#           (a valid TIFF "secret.tif" that must never be read into an
#           output, and names that must never be created)
# MANIFEST  written with one record per entry, NUL-separated fields:
#           NAME \0 EXPECT \0 WHAT \0, EXPECT one of
#             failed   lands in failed/ with NAME.err saying why
#             out      a good pack (odd name or odd but valid content):
#                      its output appears, nothing else
#             any      out or failed/ with a reason (either is right)
#             ignored  not a pack (hidden or temporary name): stays in
#                      incoming/, untouched
#             reject   cannot even be claimed (name too long for a claim
#                      name): moved to failed/, reason in the log
#
# Families: structurally broken TIFFs written byte by byte (zero and absurd
# dimensions, unsupported bit depths and sample counts, IFD loops, strips
# outside the file, counts that overflow, wrong tag types, BigTIFF and
# big-endian variants), a real multi-page G4 TIFF truncated at many points
# and with its coded data corrupted or its strip offsets moved, other data
# under a .tif name, empty files, directory packs that are empty, nested,
# or hold symlinks, FIFOs and devices, the same special files directly in
# incoming/, and hostile names (newlines, "..", leading dashes, very long,
# non-UTF-8, format strings, terminal escapes, names that look like claim
# names).  Device nodes need root (skipped otherwise, with a note).
# Needs libtiff-tools (ppm2tiff, tiffcp, tiffdump).
set -eu
[ $# -eq 3 ] || { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
D=$1 OUTSIDE=$2 MAN=$3
mkdir -p "$D" "$OUTSIDE"
: >"$MAN"
n=0

# rec NAME EXPECT WHAT: one manifest record.
rec() {
    printf '%s\0%s\0%s\0' "$1" "$2" "$3" >>"$MAN"
    n=$((n + 1))
}

# ------------------------------------------------------------ byte writers
# b N...: raw bytes; le16/le32/be16/be32 N: integers.
b() { for v in "$@"; do printf "\\$(printf %03o $((v & 255)))"; done; }
le16() { b $(($1)) $(($1 >> 8)); }
le32() { b $(($1)) $(($1 >> 8)) $(($1 >> 16)) $(($1 >> 24)); }
be16() { b $(($1 >> 8)) $(($1)); }
be32() { b $(($1 >> 24)) $(($1 >> 16)) $(($1 >> 8)) $(($1)); }

# ent TAG TYPE COUNT VALUE: one little-endian IFD entry (SHORT values of
# count 1 sit in the low half).
ent() {
    le16 "$1"; le16 "$2"; le32 "$3"
    if [ "$2" = 3 ] && [ "$3" = 1 ]; then le16 "$4"; le16 0; else le32 "$4"; fi
}

# A little-endian classic TIFF with one IFD at offset 8 (10 entries, 126
# bytes + 4 for the next-IFD offset), its strip data right after it.
# tiff_le FILE W H BPS SPP COMP PHOTO STRIPOFF STRIPCOUNT NEXT [DATA]
# STRIPOFF "auto" = right after the IFD; STRIPCOUNT "auto" = DATA's size.
tiff_le() {
    local f=$1 w=$2 h=$3 bps=$4 spp=$5 comp=$6 photo=$7 off=$8 cnt=$9 next=${10} data=${11-}
    local dlen=0
    [ -n "$data" ] && dlen=$(wc -c <"$data")
    [ "$off" = auto ] && off=$((8 + 2 + 10 * 12 + 4))
    [ "$cnt" = auto ] && cnt=$dlen
    {
        printf 'II'; le16 42; le32 8
        le16 10
        ent 254 4 1 0                   # NewSubfileType
        ent 256 4 1 "$w"                # ImageWidth
        ent 257 4 1 "$h"                # ImageLength
        ent 258 3 1 "$bps"              # BitsPerSample
        ent 259 3 1 "$comp"             # Compression
        ent 262 3 1 "$photo"            # Photometric
        ent 273 4 1 "$off"              # StripOffsets
        ent 277 3 1 "$spp"              # SamplesPerPixel
        ent 278 4 1 "$h"                # RowsPerStrip
        ent 279 4 1 "$cnt"              # StripByteCounts
        le32 "$next"
        [ -n "$data" ] && cat "$data"
    } >"$f"
}

# -------------------------------------------------------------- a real pack
work=$(mktemp -d "${TMPDIR:-/tmp}/mkbadinputs.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
    printf 'P4\n96 64\n'
    i=0
    while [ $i -lt 64 ]; do
        case $((i % 16)) in
            0) printf '\377\377\377\377\377\377\377\377\377\377\377\377' ;;
            5|6|9) printf '\200\356\273\356\273\356\273\356\273\356\273\001' ;;
            *) printf '\200\000\000\000\000\000\000\000\000\000\000\001' ;;
        esac
        i=$((i + 1))
    done
} >"$work/page.pbm"
ppm2tiff -c g4 -R 300 "$work/page.pbm" "$work/page.tif"
tiffcp "$work/page.tif" "$work/page.tif" "$work/page.tif" "$work/good3.tif"
cp "$work/page.tif" "$OUTSIDE/secret.tif"
size=$(wc -c <"$work/good3.tif")
# strip offsets and lengths of the 3 pages
offs=$(tiffdump "$work/good3.tif" | sed -n 's/^StripOffsets .*<\([0-9]*\)>.*/\1/p')
lens=$(tiffdump "$work/good3.tif" | sed -n 's/^StripByteCounts .*<\([0-9]*\)>.*/\1/p')
off1=$(echo "$offs" | sed -n 1p) len1=$(echo "$lens" | sed -n 1p)
off2=$(echo "$offs" | sed -n 2p) len2=$(echo "$lens" | sed -n 2p)
dd if="$work/page.tif" of="$work/g4strip" bs=1 skip="$(tiffdump "$work/page.tif" | sed -n 's/^StripOffsets .*<\([0-9]*\)>.*/\1/p')" \
   count="$(tiffdump "$work/page.tif" | sed -n 's/^StripByteCounts .*<\([0-9]*\)>.*/\1/p')" 2>/dev/null

# patch FILE OFFSET BYTES...: overwrites bytes in place.
patch() {
    local f=$1 o=$2
    shift 2
    b "$@" | dd of="$f" bs=1 seek="$o" conv=notrunc 2>/dev/null
}

# ------------------------------------------------------------ handmade TIFFs
hm() {  # hm NAME EXPECT WHAT ARGS-for-tiff_le-after-FILE
    local name=$1 exp=$2 what=$3
    shift 3
    tiff_le "$D/$name" "$@"
    rec "$name" "$exp" "$what"
}
hm ok-handmade.tif out "a valid handmade G4 page (the writer is right)" 96 64 1 1 4 0 auto auto 0 "$work/g4strip"
hm zero-width.tif failed "ImageWidth 0" 0 64 1 1 4 0 auto auto 0 "$work/g4strip"
hm zero-height.tif failed "ImageLength 0" 96 0 1 1 4 0 auto auto 0 "$work/g4strip"
hm absurd-100000x100000.tif failed "a 200-byte file declaring 100000 x 100000" 100000 100000 1 1 4 0 auto auto 0 "$work/g4strip"
hm absurd-width.tif failed "4294967295 x 1" 4294967295 1 1 1 1 0 auto auto 0 "$work/g4strip"
hm bps7.tif failed "7 bits per sample" 96 64 7 1 1 1 auto auto 0 "$work/g4strip"
hm bps13.tif failed "13 bits per sample" 96 64 13 1 1 1 auto auto 0 "$work/g4strip"
hm bps32.tif any "32 bits per sample, too little data" 96 64 32 1 1 1 auto auto 0 "$work/g4strip"
hm spp5.tif failed "5 samples per pixel of 1 bit" 96 64 1 5 1 1 auto auto 0 "$work/g4strip"
hm spp0.tif failed "0 samples per pixel" 96 64 1 0 1 1 auto auto 0 "$work/g4strip"
hm comp-unknown.tif failed "compression 12345" 96 64 1 1 12345 0 auto auto 0 "$work/g4strip"
hm comp-jp2000.tif failed "compression 34712 (JPEG 2000) on 1 bit" 96 64 1 1 34712 0 auto auto 0 "$work/g4strip"
hm photo-palette.tif failed "palette photometric without a colour map" 96 64 8 1 1 3 auto auto 0 "$work/g4strip"
hm strip-past-eof.tif failed "strip offset past the end of the file" 96 64 1 1 4 0 100000 auto 0 "$work/g4strip"
hm strip-huge-offset.tif failed "strip offset 0xfffffff0" 96 64 1 1 4 0 4294967280 16 0 "$work/g4strip"
hm strip-huge-count.tif failed "strip byte count 0xffffffff" 96 64 1 1 4 0 auto 4294967295 0 "$work/g4strip"
hm strip-zero-count.tif any "strip byte count 0 (libtiff may recompute it from the file size)" 96 64 1 1 4 0 auto 0 0 "$work/g4strip"
hm strip-in-header.tif failed "strip data overlapping the IFD" 96 64 1 1 4 0 8 200 0 "$work/g4strip"
hm ifd-loop-self.tif any "next IFD points back to itself" 96 64 1 1 4 0 auto auto 8 "$work/g4strip"
hm ifd-next-past-eof.tif failed "next IFD offset past the end" 96 64 1 1 4 0 auto auto 99999999 "$work/g4strip"
hm ifd-next-odd.tif failed "next IFD offset inside the strip data" 96 64 1 1 4 0 auto auto 135 "$work/g4strip"
hm g4-garbage-strip.tif failed "G4 strip of random bytes" 96 64 1 1 4 0 auto 64 0 /dev/null
head -c 300 /dev/urandom >>"$D/g4-garbage-strip.tif"

# no entries at all; an entry count that runs past the end
{ printf 'II'; le16 42; le32 8; le16 0; le32 0; } >"$D/ifd-empty.tif"
rec ifd-empty.tif failed "an IFD with no entries"
{ printf 'II'; le16 42; le32 8; le16 65535; ent 256 4 1 96; } >"$D/ifd-count-overflow.tif"
rec ifd-count-overflow.tif failed "65535 IFD entries in a 30-byte file"
{ printf 'II'; le16 42; le32 0; } >"$D/ifd-offset-zero.tif"
rec ifd-offset-zero.tif failed "first IFD offset 0"
{ printf 'II'; le16 42; le32 4294967295; } >"$D/ifd-offset-max.tif"
rec ifd-offset-max.tif failed "first IFD offset 0xffffffff"
# width as ASCII; strips as a 1e6-entry array past the end
{ printf 'II'; le16 42; le32 8; le16 3; ent 256 2 4 0x00363900; ent 257 4 1 64; ent 273 4 1000000 26; le32 0; } >"$D/tag-types.tif"
rec tag-types.tif failed "ImageWidth as ASCII, a million strip offsets past the end"
# two IFDs pointing at each other
{
    printf 'II'; le16 42; le32 8
    le16 1; ent 256 4 1 96; le32 26
    le16 1; ent 256 4 1 96; le32 8
} >"$D/ifd-loop-pair.tif"
rec ifd-loop-pair.tif failed "two IFDs pointing at each other, no image tags"
# big-endian twin of the handmade page, with a width of 0
{ printf 'MM'; be16 42; be32 8; be16 1; be16 256; be16 4; be32 1; be32 0; be32 0; } >"$D/be-zero-width.tif"
rec be-zero-width.tif failed "big-endian, width 0, no strips"
# BigTIFF headers with nonsense
{ printf 'II'; le16 43; le16 8; le16 0; le32 4294967295; le32 4294967295; } >"$D/bigtiff-offset-max.tif"
rec bigtiff-offset-max.tif failed "BigTIFF, first IFD at 2^64-1"
{ printf 'II'; le16 43; le16 4; le16 0; le32 16; le32 0; } >"$D/bigtiff-bad-bytesize.tif"
rec bigtiff-bad-bytesize.tif failed "BigTIFF with offset size 4"

# ------------------------------------------------------------ real TIFF, hurt
for cut in 4 8 20 100 $((off1 + 1)) $((off1 + len1 / 2)) $((off2 + len2 / 2)) $((size - 1)); do
    [ "$cut" -lt "$size" ] || continue
    head -c "$cut" "$work/good3.tif" >"$D/truncated-$cut.tif"
    rec "truncated-$cut.tif" failed "a 3-page G4 TIFF cut after $cut of $size bytes"
done
cp "$work/good3.tif" "$D/corrupt-g4-zeros.tif"
dd if=/dev/zero of="$D/corrupt-g4-zeros.tif" bs=1 seek="$off2" count="$len2" conv=notrunc 2>/dev/null
rec corrupt-g4-zeros.tif failed "page 2's G4 data zeroed"
cp "$work/good3.tif" "$D/corrupt-g4-ones.tif"
head -c "$len1" /dev/zero | tr '\0' '\377' | dd of="$D/corrupt-g4-ones.tif" bs=1 seek="$off1" conv=notrunc 2>/dev/null
rec corrupt-g4-ones.tif any "page 1's G4 data all ones (all V0 codes: a valid white page)"
cp "$work/good3.tif" "$D/corrupt-g4-random.tif"
head -c "$len2" /dev/urandom | dd of="$D/corrupt-g4-random.tif" bs=1 seek="$off2" conv=notrunc 2>/dev/null
rec corrupt-g4-random.tif any "page 2's G4 data random (random bytes can decode)"
# strip offsets moved: find where page 1's StripOffsets value sits
so_pos=""
cp "$work/good3.tif" "$D/strip-offset-moved.tif"
# the first IFD (classic, little-endian): entries at 10 + 12*i
ifd=$(od -An -tu4 -j4 -N4 "$work/good3.tif" | tr -d ' ')
cnt=$(od -An -tu2 -j"$ifd" -N2 "$work/good3.tif" | tr -d ' ')
i=0
while [ $i -lt "$cnt" ]; do
    tag=$(od -An -tu2 -j$((ifd + 2 + 12 * i)) -N2 "$work/good3.tif" | tr -d ' ')
    [ "$tag" = 273 ] && so_pos=$((ifd + 2 + 12 * i + 8))
    i=$((i + 1))
done
[ -n "$so_pos" ] || { echo "mkbadinputs: no StripOffsets in the base TIFF" >&2; exit 1; }
patch "$D/strip-offset-moved.tif" "$so_pos" $((size + 1000)) $(((size + 1000) >> 8)) 0 0
rec strip-offset-moved.tif failed "page 1's strip offset moved past the end"
cp "$work/good3.tif" "$D/strip-offset-to-header.tif"
patch "$D/strip-offset-to-header.tif" "$so_pos" 0 0 0 0
rec strip-offset-to-header.tif any "page 1's strip offset moved to 0 (the header decodes as G4)"

# ------------------------------------------------------------ not TIFF at all
: >"$D/empty.tif";                                   rec empty.tif failed "an empty file"
printf 'hello, this is not an image\n' >"$D/text.tif"; rec text.tif failed "text with a .tif name"
head -c 4096 /dev/urandom >"$D/random.tif";          rec random.tif failed "4 KB of random bytes"
head -c 65536 /dev/zero >"$D/zeros.tif";             rec zeros.tif failed "64 KB of zero bytes"
cp "$(type -P true)" "$D/elf.tif";                rec elf.tif failed "an ELF executable with a .tif name"
printf '\211PNG\r\n\032\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\1\0\0\0\0\377\377\377\377' >"$D/png-bad-crc.tif"
rec png-bad-crc.tif failed "a PNG header with a bad CRC and no IEND"
printf 'P4\n100000 100000\n' >"$D/pnm-absurd.pbm";    rec pnm-absurd.pbm failed "a PBM header declaring 100000 x 100000, no data"
printf 'P4\n-5 3\n\377' >"$D/pnm-negative.pbm";      rec pnm-negative.pbm failed "a PBM with a negative width"
printf '\377\330\377\340garbage' >"$D/jpeg-stub.tif"; rec jpeg-stub.tif failed "a JPEG start without an end"

# ------------------------------------------------------------ directory packs
mkdir "$D/dir-empty";                                rec dir-empty failed "an empty directory pack"
mkdir "$D/dir-hidden-only"; cp "$work/page.tif" "$D/dir-hidden-only/.p1.tif"
rec dir-hidden-only failed "a directory pack holding only a hidden file"
mkdir -p "$D/dir-nested/sub"; cp "$work/page.tif" "$D/dir-nested/p1.tif"; cp "$work/page.tif" "$D/dir-nested/sub/p2.tif"
rec dir-nested failed "a directory nested inside a directory pack"
mkdir -p "$D/dir-deep/a/b/c/d/e/f/g"; : >"$D/dir-deep/a/b/c/d/e/f/g/x.tif"
rec dir-deep failed "a deep tree inside a pack"
mkdir "$D/dir-symlink"; cp "$work/page.tif" "$D/dir-symlink/p1.tif"; ln -s "$OUTSIDE/secret.tif" "$D/dir-symlink/p2.tif"
rec dir-symlink failed "a page that is a symlink to a file outside the spool"
mkdir "$D/dir-fifo"; cp "$work/page.tif" "$D/dir-fifo/p1.tif"; mkfifo "$D/dir-fifo/p2.tif"
rec dir-fifo failed "a page that is a FIFO (must not hang the node)"
mkdir "$D/dir-bad-page"; cp "$work/page.tif" "$D/dir-bad-page/p1.tif"; head -c 100 "$work/page.tif" >"$D/dir-bad-page/p2.tif"
rec dir-bad-page failed "one good page, one truncated page"
mkdir "$D/dir-ok-odd"; cp "$work/page.tif" "$D/dir-ok-odd/-p1.tif"; cp "$work/page.tif" "$D/dir-ok-odd/p 2 é.tif"
rec dir-ok-odd out "a valid directory pack with odd member names"
if [ "$(id -u)" = 0 ]; then
    mkdir "$D/dir-device"; cp "$work/page.tif" "$D/dir-device/p1.tif"; mknod "$D/dir-device/p2.tif" c 1 5
    rec dir-device failed "a page that is a character device (/dev/zero's numbers)"
else
    echo "mkbadinputs: not root: no device nodes" >&2
fi

# ------------------------------------------------------------ special files
ln -s "$OUTSIDE/secret.tif" "$D/link-outside.tif"; rec link-outside.tif failed "a symlink to a valid TIFF outside the spool"
ln -s "$OUTSIDE/never-created.tif" "$D/link-dangling.tif"; rec link-dangling.tif failed "a dangling symlink to a path outside"
ln -s /dev/zero "$D/link-devzero.tif";             rec link-devzero.tif failed "a symlink to /dev/zero"
ln -s link-loop.tif "$D/link-loop.tif";            rec link-loop.tif failed "a symlink to itself"
ln -s "$OUTSIDE" "$D/link-dir";                    rec link-dir failed "a symlink to a directory outside the spool"
mkfifo "$D/fifo.tif";                              rec fifo.tif failed "a FIFO named like a pack"
if [ "$(id -u)" = 0 ]; then
    mknod "$D/chardev.tif" c 1 3;                  rec chardev.tif failed "a character device (/dev/null's numbers)"
    mknod "$D/blockdev.tif" b 7 200;               rec blockdev.tif failed "a block device"
fi

# ------------------------------------------------------------ hostile names
good() {    # good NAME EXPECT WHAT: a valid one-page pack under a hostile name
    cp "$work/page.tif" "$D/$1"
    rec "$1" "$2" "$3"
}
good "$(printf 'new\nline.tif')" out "a newline in the name"
good "$(printf 'tab\there.tif')" out "a tab in the name"
good "-rf.tif" out "a leading dash"
good "--help.tif" out "two leading dashes"
good "a..b.tif" out "'..' inside the name"
good "..tif" ignored "starts with '..' (a hidden name)"
good "$(printf 'bad\377\376utf8.tif')" out "bytes that are not UTF-8"
good "%s%n%x.tif" out "printf conversions in the name"
good "$(printf 'esc\033[2J\033]0;title\a.tif')" out "terminal escape sequences in the name"
good '$(touch pwned).tif' out "shell syntax in the name"
good "x@n1+2.tif" out "looks like a claim name of node n1"
good "y@+3.tif" out "looks like a released claim"
good "@.tif" out "an '@' alone"
good "sp ace é.tif" out "spaces and UTF-8"
good "$(printf 'L%.0s' $(seq 1 170)).tif" out "a 174-byte name (the longest claimable is 176)"
good "$(printf 'M%.0s' $(seq 1 200)).tif" reject "a 204-byte name (too long to claim)"
good "$(printf 'N%.0s' $(seq 1 251)).tif" reject "a 255-byte name (too long even for a .err sidecar)"
good "x.tif.part" ignored "a scanner's temporary name"
good "x.tmp" ignored "a temporary name"
good ".hidden.tif" ignored "a hidden name"
echo "mkbadinputs: $n entries in $D" >&2
