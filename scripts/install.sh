#!/bin/sh
# install.sh — what "make install" and "make uninstall" do; the Makefile
# passes the directories in the environment (all required):
#   DESTDIR (may be empty) BUILD BINDIR SBINDIR MANDIR DOCDIR SYSCONFDIR
#   UNITDIR
#
#   install.sh install      copy programs, man pages, units, examples
#   install.sh uninstall    remove exactly what install puts there
#
# Layout (the Debian admin's expectations, for PREFIX=/usr/local):
#   SBINDIR  spoold, spoold-cron       system daemon, run by systemd/cron
#   BINDIR   spoolctl, spoolfilter     operator and user commands
#   MANDIR   man1 man5 man8            every man/NAME.N of the source tree
#   UNITDIR  spoold.service spoold@.service   (ExecStart = SBINDIR/spoold)
#   DOCDIR   README.md OPERATIONS.md, examples/spoold.conf,
#            examples/spoold.cron (copy to /etc/cron.d/spoold to use it)
#   SYSCONFDIR/spoold.conf   only if there is none: an admin's file is
#                            never overwritten, and uninstall removes it
#                            only if it is still the shipped example.
set -eu
: "${BUILD:?}" "${BINDIR:?}" "${SBINDIR:?}" "${MANDIR:?}" "${DOCDIR:?}"
: "${SYSCONFDIR:?}" "${UNITDIR:?}"
D=${DESTDIR-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Source tree paths that name the default install location; rewritten to
# the real SBINDIR in installed copies.
fix_paths() {
    sed -e "s|/usr/local/sbin/|$SBINDIR/|g" "$1"
}

# Lists "SOURCE DESTINATION MODE" for every file installed, one a line.
manifest() {
    for p in spoold spoolctl spoolfilter; do
        [ -f "$BUILD/$p" ] && [ -x "$BUILD/$p" ] || continue
        dir=$BINDIR
        [ $p = spoold ] && dir=$SBINDIR
        echo "$BUILD/$p $dir/$p 0755"
    done
    echo "scripts/spoold-cron $SBINDIR/spoold-cron 0755"
    for m in man/*.[1-8]; do
        [ -e "$m" ] || continue
        echo "$m $MANDIR/man${m##*.}/${m##*/} 0644"
    done
    echo "scripts/spoold.service $UNITDIR/spoold.service 0644"
    echo "scripts/spoold@.service $UNITDIR/spoold@.service 0644"
    echo "scripts/spoold.cron $DOCDIR/examples/spoold.cron 0644"
    echo "conf/spoold.conf $DOCDIR/examples/spoold.conf 0644"
    for doc in README.md OPERATIONS.md; do
        [ -e "$doc" ] && echo "$doc $DOCDIR/$doc 0644"
    done
    return 0
}

do_install() {
    manifest | while read -r src dst mode; do
        install -d "$D${dst%/*}"
        case $src in
            scripts/*.service|scripts/*.cron)
                fix_paths "$src" >"$D$dst.tmp"
                chmod "$mode" "$D$dst.tmp"
                mv -f "$D$dst.tmp" "$D$dst" ;;
            *)  install -m "$mode" "$src" "$D$dst" ;;
        esac
        echo "installed $D$dst"
    done
    conf=$D$SYSCONFDIR/spoold.conf
    if [ -e "$conf" ] || [ -L "$conf" ]; then
        echo "kept existing $conf (example: $D$DOCDIR/examples/spoold.conf)"
    else
        install -d "$D$SYSCONFDIR"
        install -m 0644 conf/spoold.conf "$conf"
        echo "installed $conf"
    fi
}

do_uninstall() {
    manifest | while read -r src dst mode; do
        rm -f "$D$dst"
    done
    conf=$D$SYSCONFDIR/spoold.conf
    if [ -f "$conf" ] && cmp -s conf/spoold.conf "$conf"; then
        rm -f "$conf"
    elif [ -e "$conf" ]; then
        echo "kept $conf: it differs from the shipped example" >&2
    fi
    for d in "$D$DOCDIR/examples" "$D$DOCDIR"; do
        if [ -d "$d" ] && ! rmdir "$d" 2>/dev/null; then
            echo "kept $d: not empty" >&2
        fi
    done
    return 0
}

case ${1-} in
    install) do_install ;;
    uninstall) do_uninstall ;;
    *) echo "usage: install.sh install|uninstall" >&2; exit 2 ;;
esac
