#!/bin/bash
# faults.sh — the fault injectors of the harness (tests/chaos/run).  Each
# f_KIND runs in a background subshell, owns its node (or the whole world,
# for the global kinds) while it runs, writes "inject KIND NODE DETAIL"
# into events.log at the moment the fault takes effect and "end KIND NODE"
# when the world is whole again, and always leaves it whole: daemons
# running, mounts mounted, links up, disk space back.
#
# Kinds (see the table in run's header for what each one checks):
#   kill_daemon  kill -9 of a node's spoold, in phase idle (no worker:
#                before a claim), filter (a worker decoding/filtering),
#                exec (a worker's exec step) or publish (stopped by the
#                test hook between publishing and moving the claim to
#                done/); then restarted
#   kill_worker  kill -9 of one worker (filter or exec phase)
#   sshfs_kill   kill -9 of a node's sshfs (spool, output or both: ENOTCONN
#                until remounted), a while dead, unmounted (the mount
#                point is then the empty local directory), remounted
#   sshd_restart the server's sshd and every session killed and restarted
#                (global: every node sees EIO/ENOTCONN for a moment)
#   partition    a node's veth link down for 22-30 s (calls hang, then EIO
#                once ssh gives up), then up
#   pause        SIGSTOP of a node's spoold for longer than the lease (its
#                claims are taken back while its workers go on), SIGCONT
#   clock        a node stopped (SIGTERM), its mounts and daemon restarted
#                with another clock: +1h, -1h or true (libfaketime)
#   disk_full    the output file system filled to the last byte for 4-12 s
#                (global)
#   memory       a pack whose page needs more than memory_limit is dropped

# busy marks: state/busy.nK (node) and state/busy.global
claim_node() { : >"$W/state/busy.n$1"; }
free_node() { rm -f "$W/state/busy.n$1"; }

# fault_done K KIND: ends a node fault: daemon running, mounts fine.
fault_done() {
    local k=$1 kind=$2
    heal "$k"
    ev "end $kind n$k"
    free_node "$k"
}

# heal K: whatever state node K is in, back to mounted + running.
heal() {
    local k=$1 tries=0
    ip link set "$(vh_of "$k")" up 2>/dev/null
    while ! mounted_ok "$k" && [ $tries -lt 5 ]; do
        tries=$((tries + 1))
        remount "$k" || sleep 2
    done
    mounted_ok "$k" || ev "heal-failed n$k mounts"
    alive "$(dpid "$k")" || start_daemon "$k"
}

f_kill_daemon() {
    local k=$1 want pid got w
    want=$(pick idle filter exec publish)
    pid=$(dpid "$k")
    if [ "$want" = publish ]; then
        : >"$W/node/n$k/hooks/stop-after-publish"
        if wait_for 40 eval "[ \"\$(pstate $pid)\" = T ]"; then
            got=publish
        else
            rm -f "$W/node/n$k/hooks/stop-after-publish"
            # the trigger may have been taken just now
            sleep 0.2
            [ "$(pstate "$pid")" = T ] && got=publish || got=any
        fi
    elif [ "$want" = idle ]; then
        wait_for 20 eval "[ \"\$(phase $pid)\" = idle ]" && got=idle || got=any
    else
        wait_for 20 eval "[ -n \"\$(worker_in $pid $want)\" ]" && got=$want || got=any
    fi
    [ "$got" = any ] && got="any($(phase "$pid"))"
    kill_daemon "$k"
    ev "inject kill_daemon n$k $got"
    rsleep 0 3
    fault_done "$k" kill_daemon
}

f_kill_worker() {
    local k=$1 want pid w=""
    want=$(pick filter exec)
    pid=$(dpid "$k")
    wait_for 30 eval "w=\$(worker_in $pid $want); [ -n \"\$w\" ]"
    if [ -n "$w" ]; then
        kill -KILL "$w" 2>/dev/null
        ev "inject kill_worker n$k $want"
    else
        ev "skip kill_worker n$k no-worker"
    fi
    fault_done "$k" kill_worker
}

f_sshfs_kill() {
    local k=$1 which m pid
    which=$(pick s o so)
    for m in $(echo "$which" | sed 's/./& /g'); do
        pid=$(cat "$W/state/sshfs.$m$k" 2>/dev/null)
        kill -KILL "$pid" 2>/dev/null
    done
    ev "inject sshfs_kill n$k $which"
    rsleep 1 6
    for m in $(echo "$which" | sed 's/./& /g'); do
        fusermount3 -u -z "$W/mnt/$m$k" 2>/dev/null || umount -l "$W/mnt/$m$k" 2>/dev/null
    done
    # the mount point is the empty local directory now: nothing may be
    # written there (checked at the end)
    rsleep 0 3
    fault_done "$k" sshfs_kill
}

f_partition() {
    local k=$1 vh
    vh=$(vh_of "$k")
    ip link set "$vh" down
    ev "inject partition n$k"
    rsleep 22 30
    ip link set "$vh" up
    fault_done "$k" partition
}

f_pause() {
    local k=$1 pid
    pid=$(dpid "$k")
    kill -STOP "$pid" 2>/dev/null
    ev "inject pause n$k"
    rsleep $(( LEASE + 2 )) $(( LEASE + 8 ))
    kill -CONT "$pid" 2>/dev/null
    fault_done "$k" pause
}

f_clock() {
    local k=$1 old new
    old=$(cat "$W/state/skew.n$k" 2>/dev/null)
    old=${old:-+0}              # a node starts on the server's time
    new=$(pick +1h -1h +0)
    [ "$new" = "$old" ] && new=$(pick +1h -1h)
    [ "$new" = "$old" ] && new=+0
    stop_daemon "$k"
    echo "$new" >"$W/state/skew.n$k"
    remount "$k"
    start_daemon "$k"
    ev "inject clock n$k $old->$new"
    fault_done "$k" clock
}

f_sshd_restart() {
    if lab_sshd_restart "$W/lab"; then
        ev "inject sshd_restart all"
    else
        ev "skip sshd_restart all failed"
    fi
    sleep 2
    ev "end sshd_restart all"
    rm -f "$W/state/busy.global"
}

f_disk_full() {
    dd if=/dev/zero of="$W/srv/out/.ballast" bs=64k 2>/dev/null
    ev "inject disk_full all $(df -k --output=avail "$W/srv/out" | tail -n 1 | tr -d ' ')K-left"
    rsleep 4 12
    rm -f "$W/srv/out/.ballast"
    ev "end disk_full all"
    rm -f "$W/state/busy.global"
}

f_memory() {
    submit "$1" big
    ev "inject memory all big$(printf %04d "$1")"
}

# pick WORDS...: one of them at random.
pick() {
    local a=("$@")
    echo "${a[RANDOM % ${#a[@]}]}"
}
