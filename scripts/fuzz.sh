#!/bin/sh
# fuzz.sh — builds every tests/fuzz/fuzz_NAME.c as a libFuzzer target with
# AddressSanitizer and UndefinedBehaviorSanitizer (clang) into build-fuzz/,
# and runs each for FUZZ_SECONDS seconds (default 60) on its seed corpus
# tests/fuzz/corpus/NAME/ (read only; new inputs go to
# build-fuzz/corpus/NAME/).  A crash stops that target, leaves the input in
# build-fuzz/crashes/ and makes the script exit non-zero: fix the bug and
# copy the input to tests/fuzz/regress/NAME/, where test_fuzz_regress and
# this script replay it.
#
#   scripts/fuzz.sh [NAME...]      (default: every target)
#   FUZZ_SECONDS=600 scripts/fuzz.sh read
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=build-fuzz
secs=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c11 -D_GNU_SOURCE -DSPOOLD_VERSION=\"fuzz\" -Ifilters -Ispoold -g -O1 -fno-omit-frame-pointer $san"
pkgs="libtiff-4 libconfig libpng lept"
# shellcheck disable=SC2086
pkg_cflags=$(pkg-config --cflags $pkgs) || exit 1
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $pkgs) || exit 1

# leaks of libraries that are not ours (each explained in the file)
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (scripts/deps.sh installs clang)" >&2; exit 1; }
mkdir -p "$out/obj" "$out/crashes" || exit 1

# the libraries, instrumented for coverage (all but the program mains)
objs=""
for src in filters/*.c spoold/*.c; do
    [ -e "$src" ] || continue
    case $src in filters/spoolfilter.c|spoold/spoold.c|spoold/spoolctl.c) continue ;; esac
    obj="$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find filters spoold -name '*.h' -newer "$obj" 2>/dev/null)" ]; then
        # shellcheck disable=SC2086
        $CC $cflags $pkg_cflags -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || exit 1
    fi
    objs="$objs $obj"
done

targets=$*
if [ -z "$targets" ]; then
    for t in tests/fuzz/fuzz_*.c; do
        [ -e "$t" ] && targets="$targets $(basename "$t" .c | sed 's/^fuzz_//')"
    done
fi
[ -n "$targets" ] || { echo "fuzz: no targets in tests/fuzz/" >&2; exit 1; }

failed=""
for name in $targets; do
    src=tests/fuzz/fuzz_$name.c
    [ -e "$src" ] || { echo "fuzz: no $src" >&2; exit 1; }
    bin=$out/fuzz_$name
    # shellcheck disable=SC2086
    $CC $cflags $pkg_cflags -fsanitize=fuzzer -o "$bin" "$src" $objs $pkg_libs -lpthread -lm || exit 1
    seeds=tests/fuzz/corpus/$name
    work=$out/corpus/$name
    mkdir -p "$seeds" "$work"
    # replay the inputs that once crashed, then fuzz
    if [ -d "tests/fuzz/regress/$name" ] && [ -n "$(ls "tests/fuzz/regress/$name")" ]; then
        "$bin" -runs=1 "tests/fuzz/regress/$name"/* >"$out/$name.regress.log" 2>&1 ||
            { echo "fuzz: $name: a regression input fails again, see $out/$name.regress.log"; failed="$failed $name"; continue; }
    fi
    echo "fuzz: $name for ${secs}s ($(ls "$seeds" | wc -l) seeds)"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crashes/$name-" -print_final_stats=1 \
        "$work" "$seeds" >"$out/$name.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "fuzz: $name FAILED (exit $rc); tail of $out/$name.log:"
        tail -n 40 "$out/$name.log" | sed 's/^/    /'
        failed="$failed $name"
    else
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$name.log" | sed "s/^/fuzz: $name: /"
    fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed (inputs in $out/crashes/)"; exit 1; }
echo "fuzz: all targets clean"
