#!/bin/sh
# t_ops_install.sh — "make install DESTDIR=..." produces the full tree with
# the right modes and nothing else; installed units name the installed
# spoold and pass `systemd-analyze verify` against the installed programs
# and man pages; man pages render with `man -l` and `groff -ww` without a
# warning; PREFIX moves everything; an admin's /etc/spoold.conf survives
# install and uninstall; uninstall removes everything else.
set -eu
top=$SPOOLD_TOP
build=$SPOOLD_BUILD
san=
case $build in *-san) san=1 ;; esac
unset MAKEFLAGS MFLAGS MAKELEVEL
cd "$SCRATCH"

mk() {  # mk TARGET VAR=VALUE...: the top Makefile on this test's build
    make -s -C "$top" BUILD="$build" SAN="$san" "$@" >>make.log 2>&1 ||
        { echo "make $*:"; cat make.log; exit 1; }
}

# expected PREFIX ETC: the full tree install must produce, "MODE PATH"
# sorted: the three programs, spoold-cron, the four man pages (and any
# other page of man/), units, examples, docs, the config.
expected() {
    p=$1 etc=$2
    for prog in spoold:sbin spoolctl:bin spoolfilter:bin; do
        [ -f "$build/${prog%:*}" ] || { echo "not built: ${prog%:*}"; exit 1; }
        echo "755 $p/${prog#*:}/${prog%:*}"
    done
    echo "755 $p/sbin/spoold-cron"
    for m in spoold.8 spoold.conf.5 spoolctl.1 spoolfilter.1; do
        [ -e "$top/man/$m" ] || { echo "missing man/$m"; exit 1; }
    done
    for m in "$top"/man/*.[1-8]; do
        echo "644 $p/share/man/man${m##*.}/${m##*/}"
    done
    echo "644 $p/lib/systemd/system/spoold.service"
    echo "644 $p/lib/systemd/system/spoold@.service"
    echo "644 $p/share/doc/spoold/examples/spoold.cron"
    echo "644 $p/share/doc/spoold/examples/spoold.conf"
    echo "644 $p/share/doc/spoold/README.md"
    echo "644 $p/share/doc/spoold/OPERATIONS.md"
    echo "644 $etc/spoold.conf"
}

tree() {    # tree DIR: "MODE PATH" of every file below DIR, sorted
    (cd "$1" && find . ! -type d -printf '%m /%P\n' | sort -k2)
}

# ------------------------------------------------ default PREFIX
X=$SCRATCH/x
mk install DESTDIR="$X"
expected /usr/local /etc | sort -k2 >want
tree "$X" >got
diff want got || { echo "installed tree differs (want vs got)"; exit 1; }

# units and cron example name the installed programs
grep -qx 'ExecStart=/usr/local/sbin/spoold -c /etc/spoold.conf' \
    "$X/usr/local/lib/systemd/system/spoold.service"
grep -qx 'ExecStart=/usr/local/sbin/spoold -c /etc/spoold/%i.conf' \
    "$X/usr/local/lib/systemd/system/spoold@.service"
grep -q ' /usr/local/sbin/spoold-cron -c /etc/spoold.conf ' \
    "$X/usr/local/share/doc/spoold/examples/spoold.cron"

# systemd-analyze verify on the installed units, pointed at the DESTDIR
# programs (ExecStart must be executable) and man pages (Documentation=)
mkdir units
for u in spoold.service spoold@.service; do
    sed "s|^ExecStart=/usr/local/sbin/|ExecStart=$X/usr/local/sbin/|" \
        "$X/usr/local/lib/systemd/system/$u" >units/$u
done
cp units/spoold@.service units/spoold@scanA.service
out=$(cd units && MANPATH="$X/usr/local/share/man" systemd-analyze verify \
      ./spoold.service ./spoold@.service ./spoold@scanA.service 2>&1) ||
    { echo "systemd-analyze verify failed:"; echo "$out"; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify warned:"; echo "$out"; exit 1; }

# man pages render without warnings, as installed
for m in "$X"/usr/local/share/man/man*/*; do
    [ -e "$m" ] || continue
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$m" 2>&1 >/dev/null)
    [ -z "$out" ] || { echo "man -l $m:"; echo "$out"; exit 1; }
    out=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 -z "$m" 2>&1)
    [ -z "$out" ] || { echo "groff -ww $m:"; echo "$out"; exit 1; }
done

# ------------------------------------------------ the admin's config
echo 'spool = "/mnt/mine";' >"$X/etc/spoold.conf"
mk install DESTDIR="$X"
grep -q 'kept existing' make.log
[ "$(cat "$X/etc/spoold.conf")" = 'spool = "/mnt/mine";' ]
mk uninstall DESTDIR="$X"
[ "$(tree "$X")" = "644 /etc/spoold.conf" ] ||
    { echo "after uninstall:"; tree "$X"; exit 1; }
[ "$(cat "$X/etc/spoold.conf")" = 'spool = "/mnt/mine";' ]
# an unmodified example goes away with the rest
rm "$X/etc/spoold.conf"
mk install DESTDIR="$X"
mk uninstall DESTDIR="$X"
[ -z "$(tree "$X")" ] || { echo "left after uninstall:"; tree "$X"; exit 1; }
[ ! -d "$X/usr/local/share/doc/spoold" ]

# ------------------------------------------------ PREFIX=/usr
Y=$SCRATCH/y
mk install DESTDIR="$Y" PREFIX=/usr
expected /usr /etc | sort -k2 >want
tree "$Y" >got
diff want got || { echo "PREFIX=/usr tree differs (want vs got)"; exit 1; }
grep -qx 'ExecStart=/usr/sbin/spoold -c /etc/spoold.conf' \
    "$Y/usr/lib/systemd/system/spoold.service"
grep -q ' /usr/sbin/spoold-cron -c ' "$Y/usr/share/doc/spoold/examples/spoold.cron"
echo "t_ops_install: ok"
