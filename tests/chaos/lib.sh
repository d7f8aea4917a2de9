#!/bin/bash
# lib.sh — the pieces of the fault harness (tests/chaos/run): the world
# it builds (a spool and an output directory served by a private sshd,
# one network namespace per node with a veth pair to reach it, one sshfs
# mount of each per node, one spoold per node), the packs it feeds, and
# the faults it injects.  Sourced by run (bash).
#
# Work directory $W:
#   srv/spool, srv/out    what the server serves (srv/out is a size-limited
#                         tmpfs when it can be mounted: the disk_full fault)
#   lab/                  the sshfs lab's state (tests/lib/sshfs-lab.sh)
#   mnt/sK, mnt/oK        node K's mounts of the spool and the output
#   node/nK/              node K's config, log, cwd/, tmp/ (its TMPDIR) and
#                         hooks/ (SPOOLD_TEST_HOOKS, spoold/testhook.h)
#   state/                pids, skews, "busy" marks of running faults
#   events.log            what the driver did, real time first on each line
#   manifest.tsv          every pack submitted: name, kind, pages, base
#   watch.log             the output watcher's verdicts
#
# Every process this harness starts is recorded by pid and stopped by pid.

# ---------------------------------------------------------------- basics

now() { printf '%s' "$EPOCHREALTIME"; }

# ev WORDS...: one line in events.log (O_APPEND: safe from subshells).
ev() { printf '%s %s\n' "$EPOCHREALTIME" "$*" >>"$W/events.log"; }

say() { printf 'chaos: %s\n' "$*" >&2; }

# rnd N: a random integer in [0, N).
rnd() { echo $(( RANDOM % $1 )); }

# rsleep LO HI: sleeps a random time between LO and HI seconds (tenths).
rsleep() {
    local lo=$(( $1 * 10 )) hi=$(( $2 * 10 ))
    local t=$(( lo + RANDOM % (hi - lo + 1) ))
    sleep "$(( t / 10 )).$(( t % 10 ))"
}

# alive PID: exists and is not a zombie.
alive() {
    local st
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# pstate PID: the one-letter state of PID (R, S, D, T, Z...), "" if gone.
pstate() {
    sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null
}

children() { cat /proc/"$1"/task/*/children 2>/dev/null; }

# workers PID: the daemon's children that are spoold (forked workers).  The
# daemon has one other child: its log stamper (a process substitution
# set up before the exec), which must never be taken for a worker.
workers() {
    local c
    for c in $(children "$1"); do
        [ "$(cat /proc/"$c"/comm 2>/dev/null)" = spoold ] && echo "$c"
    done
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s; false after SECONDS.
wait_for() {
    local end=$(( SECONDS + $1 ))
    shift
    until "$@"; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
    return 0
}

# stamp FILE: copies stdin to FILE, each line prefixed with the real time
# (the daemons' own stamps follow their possibly faked clocks).
stamp() {
    local l
    while IFS= read -r l; do
        printf '%s %s\n' "$EPOCHREALTIME" "$l"
    done >>"$1"
}

# ---------------------------------------------------------------- network

# Picks a free 10.X.0.0/16 for the veth pairs.
net_pick() {
    local x used
    used=$(ip -4 -o addr show 2>/dev/null; ip -4 route show 2>/dev/null)
    for x in $(seq $(( 100 + $$ % 100 )) 254) $(seq 100 254); do
        case $used in *" 10.$x."*) ;; *) NETX=$x; return 0 ;; esac
    done
    return 1
}

# Names and addresses of node K (1-based); NETID is unique per run.
ns_of()   { echo "spch$NETID-$1"; }
vh_of()   { echo "sch${NETID}h$1"; }
vn_of()   { echo "sch${NETID}n$1"; }
haddr_of() { echo "10.$NETX.$1.1"; }
naddr_of() { echo "10.$NETX.$1.2"; }

net_up() {
    local k ns vh vn
    net_pick || { say "no free 10.X.0.0/16 for the veth pairs"; return 1; }
    for k in $(seq 1 "$NODES"); do
        ns=$(ns_of "$k") vh=$(vh_of "$k") vn=$(vn_of "$k")
        ip netns add "$ns" || return 1
        echo "$ns" >>"$W/state/netns"
        ip link add "$vh" type veth peer name "$vn" || return 1
        echo "$vh" >>"$W/state/links"
        ip link set "$vn" netns "$ns" &&
        ip addr add "$(haddr_of "$k")/24" dev "$vh" &&
        ip link set "$vh" up &&
        ip -n "$ns" addr add "$(naddr_of "$k")/24" dev "$vn" &&
        ip -n "$ns" link set "$vn" up &&
        ip -n "$ns" link set lo up || return 1
    done
}

net_down() {
    local l
    for l in $(cat "$W/state/links" 2>/dev/null); do ip link del "$l" 2>/dev/null; done
    for l in $(cat "$W/state/netns" 2>/dev/null); do ip netns del "$l" 2>/dev/null; done
    rm -f "$W/state/links" "$W/state/netns"
}

# ---------------------------------------------------------------- mounts

# skew_env K: the environment prefix that fakes node K's clock ("" if none).
skew_env() {
    local s
    s=$(cat "$W/state/skew.n$1" 2>/dev/null)
    [ -n "$s" ] && [ "$s" != "+0" ] && echo "env LD_PRELOAD=$FAKETIME_LIB FAKETIME=$s"
}

# mount_one K s|o: node K's sshfs of the spool (s) or the output (o),
# inside its network namespace and under its clock.
mount_one() {
    local k=$1 m=$2 remote mnt
    case $m in s) remote=$W/srv/spool ;; o) remote=$W/srv/out ;; esac
    mnt=$W/mnt/$m$k
    LAB_WRAP="nsenter --net=/run/netns/$(ns_of "$k") $(skew_env "$k")" \
        lab_mount_fg "$W/lab" "$remote" "$mnt" "$W/state/sshfs.$m$k" "$(haddr_of "$k")" || return 1
    disown "$(cat "$W/state/sshfs.$m$k")" 2>/dev/null
    return 0
}

# umount_one K s|o: stops that sshfs (if alive) and unmounts (lazily).
umount_one() {
    local k=$1 m=$2 pid mnt=$W/mnt/$2$1
    pid=$(cat "$W/state/sshfs.$m$k" 2>/dev/null)
    fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    if [ -n "$pid" ] && alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        wait_for 5 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
    fi
    wait_for 10 eval "! timeout -s KILL 10 mountpoint -q '$mnt'"
}

mounted_ok() {
    # a mount that does not answer in 10 s is not fine either: sshfs's
    # reconnect can hang for good after an sshd restart (seen in a full
    # run: the harness's own mountpoint call then hung for 10 minutes);
    # remount kills that sshfs and mounts afresh
    # shellcheck disable=SC2016
    timeout -s KILL 10 sh -c 'mountpoint -q "$1" && mountpoint -q "$2" && test -f "$1/.spool-id"' \
        sh "$W/mnt/s$1" "$W/mnt/o$1"
}

# remount K: both mounts of node K fresh.
remount() {
    umount_one "$1" s
    umount_one "$1" o
    mount_one "$1" s && mount_one "$1" o
}

# ---------------------------------------------------------------- daemons

# node_conf K: node K's spoold.conf.
node_conf() {
    local k=$1 d=$W/node/n$1
    cat >"$d/spoold.conf" <<EOF
# chaos harness, node n$k
spool = "$W/mnt/s$k";
output = "$W/mnt/o$k";
node = "n$k";
allow_root = true;          # the harness runs as root
workers = 2;
poll_interval = "300ms";
settle = 1;
heartbeat = 1;
lease = $LEASE;
grace = 10;
broken_after = 5;
max_attempts = $MAX_ATTEMPTS;
keep_done = true;
memory_limit = "$MEMORY_LIMIT";
max_pixels = 2000000000L;   # the big packs must hit memory_limit, not this
pack_timeout = 120;
min_free_memory = 0;
min_free_disk = "1M";
pipeline = (
    { filter = "border"; }, { filter = "deskew"; }, { filter = "despeckle"; },
    { exec = ["sh", "-c", "sleep \$(( \$\$ % $STEP_SLEEP )).\$(( \$\$ % 10 )); cp \"\$0\" \"\$1\"", "{in}", "{out}"]; }
);
EOF
}

# start_daemon K: spoold of node K in the background (cwd, TMPDIR and
# hook directory of its own, its clock), log through stamp.
start_daemon() {
    local k=$1 d=$W/node/n$1 env
    env=$(skew_env "$k")
    (
        cd "$d/cwd" || exit 1
        # shellcheck disable=SC2086
        # a mount namespace of its own whose /tmp is slash-tmp/ (mounts
        # under mnt/ still propagate into it: mnt/ is shared)
        exec env TMPDIR="$d/tmp" SPOOLD_TEST_HOOKS="$d/hooks" $env \
            unshare -m --propagation slave \
            sh -c 'mount --bind "$0" /tmp && exec "$@"' "$d/slash-tmp" \
            "$W/bin/spoold" -c "$d/spoold.conf"
    ) > >(stamp "$d/log") 2>&1 &
    echo $! >"$W/state/pid.n$k"
    disown $! 2>/dev/null      # killing it is the point: no job notices
    ev "start n$k pid $! skew $(cat "$W/state/skew.n$k" 2>/dev/null)"
}

dpid() { cat "$W/state/pid.n$1" 2>/dev/null; }

# kill_daemon K: SIGKILL, and wait until it is gone.
kill_daemon() {
    local pid
    pid=$(dpid "$1")
    kill -CONT "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
    wait_for 10 eval "! alive $pid"
}

# stop_daemon K: SIGTERM (drain), SIGKILL after grace + 20 s.
stop_daemon() {
    local pid
    pid=$(dpid "$1")
    alive "$pid" || return 0
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    if ! wait_for 40 eval "! alive $pid"; then
        say "n$1 did not stop on SIGTERM: killed"
        ev "sigterm-timeout n$1"
        kill_daemon "$1"
    fi
}

# phase PID: what daemon PID is doing: idle (no worker), filter (a worker
# without children: decoding, filtering, writing), exec (a worker running
# its exec step).
phase() {
    local w any=idle
    for w in $(workers "$1"); do
        if [ -n "$(children "$w")" ]; then any=exec; break; fi
        any=filter
    done
    echo "$any"
}

# A worker of daemon PID in phase PH (filter/exec), or nothing.
worker_in() {
    local w
    for w in $(workers "$1"); do
        case $2 in
            exec) [ -n "$(children "$w")" ] && { echo "$w"; return; } ;;
            *) [ -z "$(children "$w")" ] && { echo "$w"; return; } ;;
        esac
    done
}

# ---------------------------------------------------------------- packs

# mkpages N WIDTH HEIGHT: N G4 pages with lines of "words" and specks,
# in $W/pages/pgK.tif (a cheap stand-in for scans: the filters have work,
# the harness tests the spool, not the filters).
mkpages() {
    local n=$1 w=$2 h=$3 i
    mkdir -p "$W/pages"
    for i in $(seq 1 "$n"); do
        LC_ALL=C awk -v W="$w" -v H="$h" -v seed="$i" '
        BEGIN {
            srand(seed); bw = int(W / 8)
            printf "P4\n%d %d\n", bw * 8, H
            for (y = 0; y < H; y++) {
                band = int(y / 24); iny = y % 24
                if (band != lastband) {          # a new line of words
                    lastband = band; delete row
                    text = (y > H / 12 && y < H - H / 12 && rand() < 0.8)
                    for (x = 0; x < bw; x++) row[x] = 0
                    if (text) {
                        x = int(bw / 10)
                        while (x < bw - bw / 10) {
                            len = 2 + int(rand() * 8)
                            for (j = 0; j < len && x + j < bw; j++) row[x + j] = 1
                            x += len + 1 + int(rand() * 2)
                        }
                    }
                }
                for (x = 0; x < bw; x++) {
                    b = 0
                    if (row[x] && iny >= 6 && iny < 18)
                        b = (iny == 6 || iny == 17) ? 255 : (x * 7 + iny * 13) % 256
                    if (rand() < 0.0005) b = 24      # a speck
                    printf "%c", b
                }
            }
        }' >"$W/pages/pg$i.pbm" &&
        ppm2tiff -c g4 -R 150 "$W/pages/pg$i.pbm" "$W/pages/pg$i.tif" 2>/dev/null &&
        rm -f "$W/pages/pg$i.pbm" || return 1
    done
    NPAGES=$n
}

# Pack templates: tpl/fK.tif (K pages, K = 1..4), tpl/dK/ (K pages,
# K = 2..3), tpl/big.tif (one page too big for memory_limit).
mktemplates() {
    local k args i
    mkdir -p "$W/tpl"
    for k in 1 2 3 4; do
        args=""
        for i in $(seq 1 "$k"); do args="$args $W/pages/pg$(( (i + k) % NPAGES + 1 )).tif"; done
        # shellcheck disable=SC2086
        tiffcp $args "$W/tpl/f$k.tif" || return 1
    done
    for k in 2 3; do
        mkdir -p "$W/tpl/d$k"
        for i in $(seq 1 "$k"); do
            cp "$W/pages/pg$(( (i * 3 + k) % NPAGES + 1 )).tif" "$W/tpl/d$k/page$i.tif"
        done
    done
    tiffblank "$W/tpl/big.tif" 30000 30000 || return 1
}

# pack_name I: the name of the I-th pack (some with spaces, UTF-8, '@' and
# '+', which the protocol must carry through claim names).
pack_name() {
    local i=$1
    if [ $(( i % 11 )) -eq 0 ]; then printf 'p%04d scan é' "$i"
    elif [ $(( i % 13 )) -eq 0 ]; then printf 'p%04d@a+2' "$i"
    else printf 'p%04d' "$i"
    fi
}

# submit I [big]: drops pack I into incoming/ on the server side, the
# careful way (hidden name, then rename), and records it.
submit() {
    local i=$1 kind=${2:-good} name base tpl pages isdir=no
    name=$(pack_name "$i")
    if [ "$kind" = big ]; then
        tpl=$W/tpl/big.tif pages=1 name="big$(printf %04d "$i")"
    elif [ $(( i % 7 )) -eq 3 ]; then
        pages=$(( 2 + i % 2 )) tpl=$W/tpl/d$pages isdir=yes
    else
        pages=$(( 1 + i % 4 )) tpl=$W/tpl/f$pages.tif
    fi
    if [ $isdir = yes ]; then base=$name; else base=$name; name="$name.tif"; fi
    cp -r "$tpl" "$W/srv/spool/incoming/.$name.part" &&
        mv "$W/srv/spool/incoming/.$name.part" "$W/srv/spool/incoming/$name" || return 1
    printf '%s\t%s\t%s\t%s\n' "$name" "$kind" "$pages" "$base" >>"$W/manifest.tsv"
}
