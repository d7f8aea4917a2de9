#!/bin/sh
# sshfs-lab.sh — several sshfs "nodes" of one directory on this machine, for
# the multi-node tests: a private OpenSSH server on 127.0.0.1 (throwaway host
# and user keys, its own sshd_config, a free port) serves DIR over SFTP, and
# every node gets its own sshfs process, ssh connection and FUSE mount of it.
# Nothing of the system's ssh configuration is read or changed: sshd runs
# with -f and ssh with -F on files in the lab's own state directory.
#
# Source it and call the functions (tests do), or run it:
#   sh tests/lib/sshfs-lab.sh up STATE DIR N   mounts STATE/node1..nodeN
#   sh tests/lib/sshfs-lab.sh down STATE
#
# lab_up STATE DIR N
#     STATE: a fresh directory for keys, config, pids and the mount points
#     STATE/node1 .. STATE/nodeN.  Mount options: reconnect (a dropped
#     connection is re-established instead of the mount point silently
#     becoming the empty local directory), dir_cache=no (sshfs keeps no
#     directory cache, so another node's rename is seen at once), and
#     entry_timeout=0, attr_timeout=0, negative_timeout=0 (the kernel asks
#     again every time).  Returns 0; 77 if the machine cannot run the lab
#     (not root, no /dev/fuse, no sshfs or sshd): the caller skips; 1 on
#     failure (after tearing down what it started).
# lab_down STATE
#     Unmounts every node (lazily if busy), stops the private sshd; safe to
#     call twice and after a failed lab_up.  Stops only the processes whose
#     pids the lab recorded.
#
# For the fault harness (tests/chaos/), additive:
# LAB_LISTEN_EXTRA="ADDR..." (set before lab_up)
#     sshd also listens on these local addresses (e.g. the host ends of
#     veth pairs into network namespaces) and known_hosts accepts them.
# lab_sshd_restart STATE
#     Kills the private sshd and every session process it forked (so each
#     sshfs connection drops, as when the server reboots), then starts it
#     again on the same port, keys and configuration.
# lab_mount_fg STATE REMOTE MNT PIDFILE [ADDR]
#     Like lab_mount, but sshfs runs in the foreground as a background job
#     of the caller (its pid in PIDFILE, so that it alone can be killed),
#     connects to ADDR (default 127.0.0.1), and is started through the
#     command prefix in $LAB_WRAP if set (e.g. "nsenter --net=... faketime
#     -f +1h").  Not recorded in STATE/mounts: the caller unmounts it.
#
# Needs: sshfs, fuse3, openssh-server, openssh-client, iproute2 (ss),
# util-linux (mountpoint); root and /dev/fuse.  sshd needs its privilege
# separation directory /run/sshd, which the lab creates if missing (a
# runtime directory, not configuration).

LAB_SSHD=${LAB_SSHD:-/usr/sbin/sshd}
LAB_SFTP=${LAB_SFTP:-/usr/lib/openssh/sftp-server}
# Cache options of every mount.  The tests want the kernel to ask the
# server every time; the benchmark also measures the options OPERATIONS.md
# recommends for production (LAB_CACHE_OPTS=dir_cache=no).
LAB_CACHE_OPTS=${LAB_CACHE_OPTS:-dir_cache=no,entry_timeout=0,attr_timeout=0,negative_timeout=0}

lab_log() { echo "sshfs-lab: $*" >&2; }

# lab_can_run: 0 if the lab can work here, else prints why and returns 77.
lab_can_run() {
    if [ "$(id -u)" != 0 ]; then lab_log "needs root"; return 77; fi
    if [ ! -c /dev/fuse ]; then lab_log "no /dev/fuse"; return 77; fi
    for p in sshfs ssh ssh-keygen ss mountpoint fusermount3; do
        command -v "$p" >/dev/null 2>&1 || { lab_log "no $p"; return 77; }
    done
    [ -x "$LAB_SSHD" ] || { lab_log "no $LAB_SSHD"; return 77; }
    return 0
}

# lab_free_port: prints a TCP port on 127.0.0.1 nobody listens on.
lab_free_port() {
    used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    p=$(( 20000 + ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 40000 ))
    i=0
    while [ $i -lt 200 ]; do
        case " $(echo $used) " in
            *" $p "*) p=$(( p + 1 )); [ $p -gt 60000 ] && p=20000 ;;
            *) echo $p; return 0 ;;
        esac
        i=$((i + 1))
    done
    return 1
}

# Writes keys and the sshd/ssh configurations for port $2 into STATE ($1).
lab_configure() {
    st=$1 port=$2
    rm -f "$st/host_key" "$st/host_key.pub" "$st/user_key" "$st/user_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C spoold-lab-host -f "$st/host_key" || return 1
    ssh-keygen -q -t ed25519 -N '' -C spoold-lab-user -f "$st/user_key" || return 1
    cp "$st/user_key.pub" "$st/authorized_keys"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$st/host_key.pub")" >"$st/known_hosts"
    cat >"$st/sshd_config" <<EOF
# private sshd of the spoold sshfs lab; nothing system-wide is used
Port $port
ListenAddress 127.0.0.1
HostKey $st/host_key
PidFile $st/sshd.pid
AuthorizedKeysFile $st/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
StrictModes no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel ERROR
MaxStartups 64
MaxSessions 64
Subsystem sftp $LAB_SFTP
EOF
    for a in ${LAB_LISTEN_EXTRA-}; do
        echo "ListenAddress $a" >>"$st/sshd_config"
        echo "[$a]:$port $(cut -d' ' -f1,2 "$st/host_key.pub")" >>"$st/known_hosts"
    done
    cat >"$st/ssh_config" <<EOF
Host lab
    HostName 127.0.0.1
    Port $port
    User $(id -un)
    IdentityFile $st/user_key
    IdentitiesOnly yes
    UserKnownHostsFile $st/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
    ServerAliveInterval 5
    ServerAliveCountMax 3
EOF
}

# Starts the private sshd on a free port (retrying if the port is taken).
# lab_probe ST: true once the lab's sshd answers an SFTP session (what
# the mounts use).  (sshd's in-process internal-sftp, which would spare
# each session the user's login shell, made sshfs's reconnect after an
# sshd restart hang for good far more often in the fault harness; the
# sftp-server program is what it was stable with.)
lab_probe() {
    ssh -F "$1/ssh_config" -s lab sftp </dev/null 2>>"$1/ssh.log"
}

# lab_spawn_sshd ST: starts sshd on ST's configured port and waits until
# it answers; false if it died or never answered in 5 s (it is then
# stopped: its port may have been taken, or still be held by the last one).
lab_spawn_sshd() {
    "$LAB_SSHD" -D -e -f "$1/sshd_config" 2>>"$1/sshd.log" &
    echo $! >"$1/sshd.pids"
    _ls_i=0
    while [ $_ls_i -lt 50 ]; do
        lab_probe "$1" && return 0
        kill -0 "$(cat "$1/sshd.pids")" 2>/dev/null || break
        sleep 0.1
        _ls_i=$((_ls_i + 1))
    done
    kill "$(cat "$1/sshd.pids")" 2>/dev/null
    wait "$(cat "$1/sshd.pids")" 2>/dev/null
    return 1
}

lab_start_sshd() {
    st=$1
    mkdir -p /run/sshd
    tries=0
    while [ $tries -lt 5 ]; do
        tries=$((tries + 1))
        port=$(lab_free_port) || return 1
        lab_configure "$st" "$port" || return 1
        "$LAB_SSHD" -t -f "$st/sshd_config" || return 1
        if lab_spawn_sshd "$st"; then
            echo "$port" >"$st/port"
            return 0
        fi
        rm -f "$st/sshd.pids"       # a racing process took the port
    done
    lab_log "cannot start sshd: $(tail -n 3 "$st/sshd.log" "$st/ssh.log" 2>/dev/null)"
    return 1
}

# lab_mount STATE DIR K: mounts DIR at STATE/nodeK through its own sshfs.
lab_mount() {
    st=$1 dir=$2 k=$3
    mnt="$st/node$k"
    mkdir -p "$mnt"
    sshfs -F "$st/ssh_config" "lab:$dir" "$mnt" \
        -o "reconnect,$LAB_CACHE_OPTS" \
        -o ServerAliveInterval=5,ServerAliveCountMax=3 \
        2>>"$st/sshfs.log" || { lab_log "sshfs node$k failed: $(tail -n 2 "$st/sshfs.log")"; return 1; }
    i=0
    while ! mountpoint -q "$mnt"; do
        i=$((i + 1))
        [ $i -gt 100 ] && { lab_log "node$k never mounted"; return 1; }
        sleep 0.1
    done
    echo "$mnt" >>"$st/mounts"
}

# lab_descendants PID: every descendant of PID.
lab_descendants() {
    for _ld_c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$_ld_c"
        lab_descendants "$_ld_c"
    done
}

lab_sshd_restart() {
    st=$1
    [ -f "$st/sshd.pids" ] || { lab_log "no sshd to restart"; return 1; }
    pid=$(cat "$st/sshd.pids")
    # shellcheck disable=SC2046
    kill -KILL "$pid" $(lab_descendants "$pid") 2>/dev/null
    wait "$pid" 2>/dev/null
    tries=0
    while [ $tries -lt 50 ]; do
        tries=$((tries + 1))
        lab_spawn_sshd "$st" && return 0
        sleep 0.2                   # the port may still be held for a moment
    done
    lab_log "cannot restart sshd: $(tail -n 3 "$st/sshd.log")"
    return 1
}

lab_mount_fg() {
    st=$1 remote=$2 mnt=$3 pidfile=$4 addr=${5:-127.0.0.1}
    mkdir -p "$mnt"
    # shellcheck disable=SC2086
    ${LAB_WRAP-} sshfs -f -F "$st/ssh_config" "lab:$remote" "$mnt" \
        -o HostName="$addr" \
        -o reconnect,dir_cache=no,entry_timeout=0,attr_timeout=0,negative_timeout=0 \
        -o ServerAliveInterval=5,ServerAliveCountMax=3 \
        2>>"$st/sshfs.log" &
    echo $! >"$pidfile"
    i=0
    while ! mountpoint -q "$mnt"; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            lab_log "sshfs $mnt failed: $(tail -n 2 "$st/sshfs.log")"
            kill "$(cat "$pidfile")" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    return 0
}

lab_up() {
    st=$1 dir=$2 n=$3
    lab_can_run || return $?
    mkdir -p "$st" || return 1
    st=$(cd "$st" && pwd) dir=$(cd "$dir" && pwd)
    : >"$st/mounts"
    if ! lab_start_sshd "$st"; then lab_down "$st"; return 1; fi
    k=1
    while [ "$k" -le "$n" ]; do
        if ! lab_mount "$st" "$dir" "$k"; then lab_down "$st"; return 1; fi
        k=$((k + 1))
    done
    return 0
}

lab_down() {
    st=$1
    [ -d "$st" ] || return 0
    if [ -f "$st/mounts" ]; then
        while read -r m; do
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null \
                || umount -l "$m" 2>/dev/null
        done <"$st/mounts"
        rm -f "$st/mounts"
    fi
    if [ -f "$st/sshd.pids" ]; then
        for pid in $(cat "$st/sshd.pids"); do
            kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
        rm -f "$st/sshd.pids"
    fi
    return 0
}

# Run as a program: up / down.
case "${0##*/}" in
    sshfs-lab.sh)
        case "${1-}" in
            up) [ $# -eq 4 ] || { echo "usage: $0 up STATE DIR N" >&2; exit 2; }
                lab_up "$2" "$3" "$4" ;;
            down) [ $# -eq 2 ] || { echo "usage: $0 down STATE" >&2; exit 2; }
                lab_down "$2" ;;
            *) echo "usage: $0 up STATE DIR N | down STATE" >&2; exit 2 ;;
        esac ;;
esac
