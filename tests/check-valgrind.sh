#!/bin/sh
# check-valgrind.sh — runs the daemon under valgrind (memcheck) through
# integration tests: t_badinput (the bad-input corpus with good packs
# mixed in, so that the error paths of the reader, the scanner, the
# protocol and the worker all run) and t_daemon_a_one_node (the default
# filter chain in the workers).  `make check` calls it on the plain
# build (valgrind and AddressSanitizer do not mix).
#
# How: a directory that mirrors BUILD (symlinks) except for spoold, which
# is a wrapper running the real one under valgrind with one log file per
# process (the daemon and every forked worker; exec steps run natively).
# The test passes BUILD=that directory to tests/run-integration.sh.  Any
# memcheck error or definite leak in any process fails the check.
#
#   tests/check-valgrind.sh [BUILD]      (default build/)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-build}}
case $build in /*) ;; *) build="$top/$build" ;; esac
command -v valgrind >/dev/null 2>&1 || { echo "check-valgrind: valgrind is not installed (scripts/deps.sh)" >&2; exit 1; }
if "$build/spoold" --version | grep -q AddressSanitizer; then
    echo "check-valgrind: $build is a sanitizer build; give the plain one" >&2
    exit 1
fi
vg=$(mktemp -d "${TMPDIR:-/tmp}/spoold-valgrind.XXXXXX") || exit 1
trap 'rm -rf "$vg"' EXIT
mkdir "$vg/bin" "$vg/logs"
for f in "$build"/*; do
    [ -f "$f" ] && [ -x "$f" ] && ln -s "$f" "$vg/bin/$(basename "$f")"
done
ln -s "$build/tools" "$vg/bin/tools"
rm -f "$vg/bin/spoold"
cat >"$vg/bin/spoold" <<EOF
#!/bin/sh
# spoold under memcheck (made by tests/check-valgrind.sh)
exec valgrind --quiet --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
    --trace-children=no --log-file="$vg/logs/spoold.%p.log" \\
    "$build/spoold" "\$@"
EOF
chmod +x "$vg/bin/spoold"
BUILD="$vg/bin" TESTS="${VALGRIND_TESTS:-t_badinput t_daemon_a_one_node}" "$top/tests/run-integration.sh"
rc=$?
n=$(ls "$vg/logs" | wc -l)
bad=0
for l in "$vg"/logs/*.log; do
    [ -s "$l" ] || continue
    echo "check-valgrind: report in $(basename "$l"):"
    head -n 40 "$l" | sed 's/^/    /'
    bad=$((bad + 1))
done
echo "check-valgrind: $n processes under memcheck, $bad with reports"
[ "$n" -gt 0 ] || { echo "check-valgrind: spoold never ran under valgrind" >&2; exit 1; }
[ $rc -eq 0 ] && [ $bad -eq 0 ]
