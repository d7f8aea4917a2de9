#!/bin/sh
# check-static.sh — checks that need no build: man pages render without
# warnings, shell scripts parse, systemd units verify.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for m in "$top"/man/*.[0-9]; do
    [ -e "$m" ] || continue
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -ww -man -Tutf8 -z "$m" 2>&1)
    if [ -n "$out" ]; then
        echo "man: $m:"; echo "$out"; rc=1
    fi
done
for s in "$top"/scripts/*.sh "$top"/scripts/spoold-cron "$top"/tests/*.sh "$top"/tests/integration/*.sh "$top"/tests/lib/*.sh \
         "$top"/tests/chaos/*; do
    [ -f "$s" ] || continue
    case $(head -n 1 "$s") in
        *bash*) bash -n "$s" || { echo "syntax: $s"; rc=1; } ;;
        *) sh -n "$s" || { echo "syntax: $s"; rc=1; } ;;
    esac
done
# systemd units: `systemd-analyze verify` works without systemd as PID 1
# (CI containers) and checks keys, values, dependencies and that ExecStart
# is executable.  The source units name /usr/local/sbin/spoold, which a
# build tree does not have: verify a copy whose ExecStart points at a stub
# of that name (t_ops_install verifies the installed units against the
# installed programs and man pages).  Any output is a failure: unknown
# keys are only warnings to systemd.
if ls "$top"/scripts/*.service >/dev/null 2>&1; then
    if ! command -v systemd-analyze >/dev/null 2>&1; then
        echo "units: systemd-analyze missing (scripts/deps.sh installs systemd)"
        rc=1
    else
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-units.XXXXXX")
        ln -s /bin/true "$tmp/spoold"
        units=""
        for u in "$top"/scripts/*.service; do
            b=$(basename "$u")
            sed "s|/usr/local/sbin/spoold |$tmp/spoold |" "$u" >"$tmp/$b"
            units="$units $tmp/$b"
            case $b in *@.service)      # also verify an instance of it
                cp "$tmp/$b" "$tmp/${b%@.service}@check.service"
                units="$units $tmp/${b%@.service}@check.service" ;;
            esac
        done
        # shellcheck disable=SC2086
        out=$(cd "$tmp" && systemd-analyze verify --man=no $units 2>&1)
        vrc=$?
        if [ $vrc -ne 0 ] || [ -n "$out" ]; then
            echo "units: systemd-analyze verify (exit $vrc):"; echo "$out"; rc=1
        fi
        rm -rf "$tmp"
    fi
fi
[ $rc -eq 0 ] && echo "static checks: ok"
exit $rc
