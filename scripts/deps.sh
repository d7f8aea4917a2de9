#!/bin/sh
# deps.sh — install the Debian packages that building, testing, the demo and
# the benchmarks need, if any are missing.  Idempotent and quiet when
# everything is present; non-interactive (CI=true, no tty).
#
#   scripts/deps.sh            packages for build + tests + demo
#   scripts/deps.sh --bench    also the benchmark comparisons (unpaper, gnuplot)
set -eu

PKGS="build-essential pkg-config libtiff-dev libtiff-tools libconfig-dev
libcmocka-dev libpng-dev libleptonica-dev libsystemd-dev
sshfs fuse3 openssh-server openssh-client ghostscript fonts-urw-base35
gsfonts faketime iproute2 clang libclang-rt-dev valgrind groff-base man-db
systemd procps psmisc util-linux"
if [ "${1-}" = "--bench" ]; then
    PKGS="$PKGS unpaper netpbm gnuplot-nox hyperfine"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps: missing packages:$missing (run as root or install them)" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
