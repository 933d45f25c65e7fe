#!/bin/bash
# A throw-away Slurm cluster on loopback for the Slurm tests: one slurmctld and
# three slurmd (n1 n2 n3) on this host, authenticated by a private munged.
#
#   tests/slurm/cluster.sh start DIR    bring it up in DIR (new, or holding no cluster yet)
#   tests/slurm/cluster.sh status DIR   show the daemons and the nodes
#   tests/slurm/cluster.sh stop DIR     cancel its jobs, stop its daemons; logs stay
#
# Or source it and call cluster_start / cluster_stop / cluster_status DIR, then
# cluster_env DIR (exports SLURM_CONF, CLUSTER_DIR, CLUSTER_USER, CLUSTER_SHARED)
# and cluster_run [VAR=value...] CMD... to run a client command as the job user,
# cluster_wait_job JOBID to wait for a job's end, cluster_node_kill DIR NODE to
# play a node failure and cluster_node_start DIR NODE to bring it back.
#
# Everything is kept under DIR, so nothing touches a system Slurm or munge:
#   DIR/slurm.conf, DIR/plugstack.conf   (a plugstack.conf put there before start is kept)
#   DIR/munge/   key, socket, pid, log, seed of the private munged
#   DIR/state/   slurmctld's StateSaveLocation
#   DIR/spool/nN slurmd spool directories
#   DIR/run/     pid files          DIR/log/  daemon logs
#   DIR/shared/  owned by the job user: the jobs' working directory
# Runs as root (it starts daemons). Needs scripts/install-deps-slurm.
#
# Knobs (environment, read at start): CLUSTER_USER (job user, default crjob),
# CLUSTER_CPUS (CPUs per node, default 2), CLUSTER_TIMEOUT (seconds any wait may
# take, default 60), CLUSTER_EXTRA_CONF (lines appended to slurm.conf),
# CLUSTER_NODE_IPC=private (each slurmd, and so its steps, in an IPC namespace of its
# own, as on three hosts: UCX takes a peer with this host's boot id and IPC namespace
# for one it shares memory with, and maps the System V segments of the ranks of the
# other nodes too; remembered in DIR/node_ipc for cluster_node_start).

CLUSTER_NODES="n1 n2 n3"

_cl_msg() { echo "cluster: $*" >&2; }

# _cl_dir DIR: the absolute path of DIR (slurm.conf and munged want absolute paths)
_cl_dir() {
    [ -n "${1:-}" ] || { _cl_msg "no directory given"; return 1; }
    case $1 in /*) echo "${1%/}" ;; *) echo "$PWD/${1%/}" ;; esac
}

_cl_need_root() {
    [ "$(id -u)" = 0 ] && return 0
    _cl_msg "must run as root: it starts slurmctld, slurmd and munged (job commands then run as ${CLUSTER_USER:-crjob})"
    return 1
}

# _cl_tails DIR: the end of every log, so that a failure can be read from the output alone
_cl_tails() {
    local f
    for f in "$1"/log/*.log "$1"/log/*.out "$1"/munge/munged.log; do
        [ -s "$f" ] || continue
        echo "--- $f" >&2
        tail -n 15 "$f" >&2
    done
}

# _cl_free_ports N: N distinct TCP ports nobody listens on. Taken below the
# kernel's ephemeral range so that an outgoing connection cannot hold one of them.
_cl_free_ports() {
    local n=$1 got="" p tries=0 lo
    read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
    [ "$lo" -gt 12000 ] || lo=32768
    local used
    used=" $(ss -Hltn 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}') "
    while [ "$(echo $got | wc -w)" -lt "$n" ]; do
        tries=$((tries + 1))
        [ $tries -lt 1000 ] || { _cl_msg "found no free TCP ports"; return 1; }
        p=$((10000 + RANDOM % (lo - 10000)))
        case "$used $got " in *" $p "*) continue ;; esac
        got="$got $p"
    done
    echo $got
}

# _cl_closefds: close descriptors above 2 in this (sub)shell. Those inherited from
# whoever started us (a test harness's pipes) would otherwise be held open by the
# daemons for as long as they live, and the harness would wait for them.
_cl_closefds() {
    local f fd
    for f in /proc/$BASHPID/fd/*; do
        fd=${f##*/}
        [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null
    done
    return 0
}

# _cl_spawn DIR NAME CMD...: start a daemon in the foreground of its own session,
# detached from our terminal and pipes, and record its pid as DIR/run/NAME.pid.
# A foreground daemon keeps the pid we record, with no race on a pid file written
# by a forked child; its own session keeps a terminal's ^C away from it.
_cl_spawn() {
    local dir=$1 name=$2
    shift 2
    # a daemon started again (a node brought back) must not be looked up by the
    # pid file of the one that died
    rm -f "$dir/run/$name.pid"
    (
        _cl_closefds
        # setsid forks when it has to (when we lead a process group, as under an
        # interactive shell), so the daemon records its own pid, then becomes it.
        exec setsid sh -c 'echo $$ > "$0"; exec "$@"' "$dir/run/$name.pid" "$@" \
            < /dev/null >> "$dir/log/$name.out" 2>&1
    ) &
    # Those who look the daemon up by its pid file must find it written.
    _cl_until 10 test -s "$dir/run/$name.pid"
}

# _cl_ours DIR NAME: the pid in DIR/run/NAME.pid if that process is still the
# daemon we started (its command line names a file under DIR), else nothing.
# A pid reused by an unrelated process is never taken for ours.
_cl_ours() {
    local pid
    pid=$(cat "$1/run/$2.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    local arg
    while IFS= read -r -d '' arg; do
        case $arg in "$1"/*|*="$1"/*) echo "$pid"; return 0 ;; esac
    done < "/proc/$pid/cmdline"
    return 1
}

# _cl_until SECONDS CMD...: retry CMD five times a second for at most SECONDS
_cl_until() {
    local i=0 limit=$(($1 * 5))
    shift
    until "$@"; do
        i=$((i + 1))
        [ $i -lt $limit ] || return 1
        sleep 0.2
    done
}

_cl_nodes_idle() {
    [ "$(SLURM_CONF=$1/slurm.conf timeout 10 sinfo -h -N -p debug -o '%N %t' 2>/dev/null |
         awk '$2 == "idle" {print $1}' | sort -u | wc -l)" = 3 ]
}

_cl_munge_up() { [ -S "$1/munge/munge.socket.2" ] && munge -n -S "$1/munge/munge.socket.2" 2>/dev/null | unmunge -S "$1/munge/munge.socket.2" >/dev/null 2>&1; }

_cl_ctld_up() { SLURM_CONF=$1/slurm.conf timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }

# _cl_write_conf DIR: slurm.conf for a loopback cluster that works in a VM or a
# container without systemd or a delegated cgroup tree.
_cl_write_conf() {
    local d=$1 ports ctld_port p1 p2 p3 cpus=${CLUSTER_CPUS:-2}
    ports=$(_cl_free_ports 4) || return 1
    read -r ctld_port p1 p2 p3 <<< "$ports"
    # One socket of $cpus cores: with CPUs= alone Slurm assumes one core per socket.
    local hw="CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1"
    cat > "$d/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh for a test cluster in $d
ClusterName=crtest
# slurmctld only runs where SlurmctldHost names this host; the address keeps it on loopback.
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root

# Munge, but through the private munged of this cluster, never the system one.
# Step credentials live 20 s instead of 120: a requeued job waits that long before it
# may start again (a node refuses a job whose old credential it still holds revoked).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket.2,cred_expire=20

StateSaveLocation=$d/state
SlurmctldPidFile=$d/run/slurmctld.daemon.pid
SlurmctldLogFile=$d/log/slurmctld.log
# %n is the node name given by slurmd -N: three slurmd on one host need their own files.
SlurmdSpoolDir=$d/spool/%n
SlurmdPidFile=$d/run/slurmd-%n.daemon.pid
SlurmdLogFile=$d/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/plugstack.conf
MailProg=/bin/true

# No cgroups: a VM or container has no systemd to delegate a cgroup v2 tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none

SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Nodes are described by this file, not by what the host has: three nodes share
# the host's cores, and a smaller host must not get them drained.
SlurmdParameters=config_overrides

# A node that comes back after a restart takes work again at once.
ReturnToService=2
# Short timeouts keep the tests fast (a killed slurmd is noticed in 15 s); they
# still leave room for a loaded 2-core machine.  A test that kills a slurmd and must
# not see its node declared down meanwhile sets CLUSTER_SLURMD_TIMEOUT.
SlurmdTimeout=${CLUSTER_SLURMD_TIMEOUT:-15}
MessageTimeout=10
SlurmctldTimeout=30
InactiveLimit=0
KillWait=5
# Without accounting, squeue and scontrol are the only record of an ended job:
# keep it there for 5 minutes.
MinJobAge=300
Waittime=0

NodeName=n1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$p1 $hw State=UNKNOWN
NodeName=n2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$p2 $hw State=UNKNOWN
NodeName=n3 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$p3 $hw State=UNKNOWN
PartitionName=debug Nodes=n1,n2,n3 Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -n "${CLUSTER_EXTRA_CONF:-}" ]; then
        printf '\n# From CLUSTER_EXTRA_CONF\n%s\n' "$CLUSTER_EXTRA_CONF" >> "$d/slurm.conf"
    fi
}

# _cl_await SECONDS WHAT DIR CHECK NAME...: until CHECK DIR succeeds; fail at once
# if one of the daemons NAME has exited, since it will not come back by itself.
_cl_await() {
    local t=$1 what=$2 d=$3 check=$4 i=0 name
    shift 4
    until $check "$d"; do
        for name in "$@"; do
            _cl_ours "$d" "$name" >/dev/null || { _cl_msg "$name exited before $what"; return 1; }
        done
        i=$((i + 1))
        [ $i -lt $((t * 5)) ] || { _cl_msg "$what: not within ${t}s"; return 1; }
        sleep 0.2
    done
}

# _cl_node_ns DIR: what a slurmd is started under (unshare, for CLUSTER_NODE_IPC)
_cl_node_ns() {
    [ "$(cat "$1/node_ipc" 2>/dev/null)" = private ] && echo "unshare --ipc"
    return 0
}

# _cl_daemons DIR SECONDS: start munged, slurmctld and the slurmd, each once the
# one before it answers
_cl_daemons() {
    local d=$1 t=$2 n
    # Private munged: its own key, socket, pid, log and seed, all under DIR.
    if command -v mungekey >/dev/null; then
        mungekey -c -k "$d/munge/munge.key" || return 1
    else
        dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none || return 1
    fi
    chmod 400 "$d/munge/munge.key"
    # munged is left to daemonize itself: only then does it write --log-file, and
    # its first process exits non-zero if the daemon failed to start.
    if ! (_cl_closefds; exec timeout "$t" munged --socket="$d/munge/munge.socket.2" \
            --key-file="$d/munge/munge.key" --pid-file="$d/munge/munged.pid" \
            --log-file="$d/munge/munged.log" --seed-file="$d/munge/munged.seed" \
            --origin=127.0.0.1 < /dev/null >> "$d/log/munged.out" 2>&1); then
        _cl_msg "munged did not start"
        return 1
    fi
    _cl_until 10 test -s "$d/munge/munged.pid" && cp "$d/munge/munged.pid" "$d/run/munged.pid"
    _cl_await "$t" "munged answered" "$d" _cl_munge_up munged || return 1

    # -D: stay in the foreground (see _cl_spawn); -f: our slurm.conf, which also
    # puts DIR on the command line, where _cl_ours recognises the daemon.
    _cl_spawn "$d" slurmctld slurmctld -D -f "$d/slurm.conf" || return 1
    _cl_await "$t" "slurmctld answered" "$d" _cl_ctld_up slurmctld || return 1
    for n in $CLUSTER_NODES; do
        _cl_spawn "$d" "slurmd-$n" $(_cl_node_ns "$d") slurmd -D -N "$n" -f "$d/slurm.conf" || return 1
    done
    if ! _cl_await "$t" "the three nodes were idle" "$d" _cl_nodes_idle \
            slurmctld slurmd-n1 slurmd-n2 slurmd-n3; then
        SLURM_CONF=$d/slurm.conf timeout 10 sinfo -N -l >&2
        return 1
    fi
}

# _cl_lock: one test cluster at a time on this machine (two runs of the suite, or a
# run beside someone's single test): the tests find their daemons, agents and jobs by
# user and by name, which another cluster's would confuse.  Held until cluster_stop.
# A developer may take the same lock around a whole `make check` with flock(1)
# (flock /run/lock/slurm-cr-cluster.lock make check ...): a lock held by one of our
# ancestors is ours.  /tmp/slurm-cr-cluster.lock, when it exists, is the older name
# of that lock and is honoured too.
_cl_lock() {
    local lock fd
    [ -z "${_CL_LOCK_FDS:-}" ] || return 0
    # (always in this order, or two runs could each wait for the other's)
    for lock in /tmp/slurm-cr-cluster.lock /run/lock/slurm-cr-cluster.lock; do
        case $lock in
            /run/lock/*) [ -d /run/lock ] || continue ;;
            *) [ -e "$lock" ] || continue ;;
        esac
        exec {fd}> "$lock" || return 1
        _CL_LOCK_FDS="${_CL_LOCK_FDS:-} $fd"
        flock -n "$fd" && continue
        _cl_lock_ancestor "$lock" && continue
        _cl_msg "waiting for another test's cluster to end ($lock)"
        flock -w 2400 "$fd" && continue
        _cl_msg "another test's cluster held $lock for 40 minutes"
        return 1
    done
}

# _cl_lock_ancestor FILE: the flock on FILE is held by this shell or an ancestor
_cl_lock_ancestor() {
    local ino holders p h
    ino=$(stat -c %i "$1") || return 1
    holders=$(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ]; do
        for h in $holders; do [ "$h" = "$p" ] && return 0; done
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
    done
    return 1
}

cluster_start() {
    _cl_need_root || return 1
    local d user=${CLUSTER_USER:-crjob} t=${CLUSTER_TIMEOUT:-60} n
    d=$(_cl_dir "${1:-}") || return 1
    for n in slurmctld slurmd sinfo scontrol munged munge unmunge runuser ss; do
        command -v $n >/dev/null || { _cl_msg "$n is missing: run scripts/install-deps-slurm"; return 1; }
    done
    if [ -e "$d/slurm.conf" ]; then
        _cl_msg "$d already holds a cluster: stop it and give a fresh directory"
        return 1
    fi
    _cl_lock || return 1
    mkdir -p "$d" && chmod 755 "$d" || return 1
    mkdir -p "$d"/munge "$d"/state "$d"/run "$d"/log "$d"/shared || return 1
    for n in $CLUSTER_NODES; do mkdir -p "$d/spool/$n" || return 1; done
    # Readable by the job user, whose commands need the munge socket and
    # slurm.conf; writable by root alone, or munged refuses the key and socket.
    chmod 755 "$d/munge" "$d/run" "$d/log" "$d/spool"
    chmod 700 "$d/state"

    # The job user: client commands and jobs run as someone other than root, as
    # they would for a real user.
    if ! id "$user" >/dev/null 2>&1; then
        useradd -m -s /bin/bash "$user" || { _cl_msg "cannot create user $user"; return 1; }
    fi
    chown "$user:$(id -gn "$user")" "$d/shared"
    echo "$user" > "$d/user"
    case ${CLUSTER_NODE_IPC:-} in
    private) echo private > "$d/node_ipc" ;;
    "") rm -f "$d/node_ipc" ;;
    *) _cl_msg "CLUSTER_NODE_IPC=$CLUSTER_NODE_IPC: only 'private' is known"; return 1 ;;
    esac

    [ -e "$d/plugstack.conf" ] || : > "$d/plugstack.conf"
    _cl_write_conf "$d" || return 1
    chmod 644 "$d/slurm.conf" "$d/plugstack.conf"
    if ! runuser -u "$user" -- test -r "$d/slurm.conf" -a -w "$d/shared"; then
        _cl_msg "$user cannot reach $d (a parent directory is closed to it): use a directory under /tmp"
        return 1
    fi

    if ! _cl_daemons "$d" "$t"; then
        _cl_tails "$d"
        # Leave nothing running behind a failed start; the logs stay for reading.
        cluster_stop "$d"
        return 1
    fi
    _cl_msg "up in $d: export SLURM_CONF=$d/slurm.conf; jobs run as $user in $d/shared"
}

# cluster_node_start DIR NODE: start NODE's slurmd again (after a test killed it
# to play a node failure) and wait until NODE takes work again.
cluster_node_start() {
    _cl_need_root || return 1
    local d node=${2:-} t=${CLUSTER_TIMEOUT:-60}
    d=$(_cl_dir "${1:-}") || return 1
    case " $CLUSTER_NODES " in *" $node "*) ;; *) _cl_msg "no node '$node'"; return 1 ;; esac
    if ! _cl_ours "$d" "slurmd-$node" >/dev/null; then
        _cl_spawn "$d" "slurmd-$node" $(_cl_node_ns "$d") slurmd -D -N "$node" -f "$d/slurm.conf" || return 1
    fi
    _cl_await "$t" "$node was idle" "$d" "_cl_node_idle $node" "slurmd-$node" || { _cl_tails "$d"; return 1; }
}

# cluster_node_kill DIR NODE: NODE dies at once: SIGKILL to its slurmd, to its step
# daemons (found by the log file of NODE they hold open) and to every process under
# them, all at the same moment.  slurmctld learns it the way it would of a real
# failure (no answer within SlurmdTimeout); cluster_node_start brings NODE back.
cluster_node_kill() {
    _cl_need_root || return 1
    local d node=${2:-} p exe pids="" slurmd
    d=$(_cl_dir "${1:-}") || return 1
    case " $CLUSTER_NODES " in *" $node "*) ;; *) _cl_msg "no node '$node'"; return 1 ;; esac
    slurmd=$(_cl_ours "$d" "slurmd-$node") || { _cl_msg "slurmd of $node is not running"; return 1; }
    for p in $(_cl_stepds "$d"); do
        [ -n "$(find "/proc/$p/fd" -maxdepth 1 -lname "$d/log/slurmd-$node.log" -print -quit 2>/dev/null)" ] &&
            pids="$pids $p"
    done
    [ -z "$pids" ] || pids=$(_cl_tree $pids)
    kill -STOP $slurmd $pids 2>/dev/null # none of them may notice the others go
    kill -KILL $slurmd $pids 2>/dev/null
    _cl_msg "$node killed: slurmd $slurmd, its steps and their processes:" $pids
}

_cl_node_idle() { SLURM_CONF=$2/slurm.conf timeout 10 sinfo -h -n "$1" -o %t 2>/dev/null | grep -qx idle; }

# _cl_stepds DIR: slurmstepd processes of this cluster's nodes, found by the
# files they hold open under DIR (the slurmd log they write to, their spool socket).
_cl_stepds() {
    local p exe
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case ${exe##*/} in slurmstepd*) ;; *) continue ;; esac
        [ -n "$(find "$p/fd" -maxdepth 1 -lname "$1/*" -print -quit 2>/dev/null)" ] && echo "${p#/proc/}"
    done
}

# _cl_tree PID...: the PIDs and all their descendants
_cl_tree() {
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
        { parent[$1] = $2 }
        END {
            do {
                grew = 0
                for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; grew = 1 }
            } while (grew)
            for (p in want) print p
        }'
}

_cl_no_jobs() { [ -z "$(SLURM_CONF=$1/slurm.conf timeout 10 squeue -h -t all -o '%i %T' 2>/dev/null | grep -vE 'COMPLETED|CANCELLED|FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE')" ]; }

cluster_stop() {
    _cl_need_root || return 1
    local d t=${CLUSTER_TIMEOUT:-60} name pid pids jobs n left="" rc=0
    d=$(_cl_dir "${1:-}") || return 1
    [ -d "$d/run" ] || { _cl_msg "no cluster in $d"; return 1; }

    # Jobs first, while slurmctld and slurmd can still end them cleanly: a
    # slurmstepd outlives its slurmd, and so would the job's processes.
    if _cl_ours "$d" slurmctld >/dev/null; then
        jobs=$(SLURM_CONF=$d/slurm.conf timeout 10 squeue -h -o %i 2>/dev/null)
        if [ -n "$jobs" ]; then
            SLURM_CONF=$d/slurm.conf timeout 10 scancel --quiet --full $jobs
            _cl_until 30 _cl_no_jobs "$d" || _cl_msg "jobs still running after 30s; stopping anyway"
        fi
    fi

    # Nodes, then the controller, then munged, which the others use to the end.
    for name in $(for n in $CLUSTER_NODES; do echo "slurmd-$n"; done) slurmctld munged; do
        pid=$(_cl_ours "$d" "$name") || continue
        kill -TERM "$pid" 2>/dev/null
        if ! _cl_until "$t" eval "! _cl_ours '$d' '$name' >/dev/null"; then
            _cl_msg "$name ($pid) ignored SIGTERM for ${t}s: killing it"
            kill -KILL "$pid" 2>/dev/null
            _cl_until 10 eval "! _cl_ours '$d' '$name' >/dev/null" || { left="$left $name($pid)"; rc=1; }
        fi
    done
    # Steps that the cancellation above did not end (slurmctld was already gone,
    # or a job ignored it): with their slurmd gone, nothing else would end them
    # or the job's processes under them, so the whole trees go.
    pids=$(_cl_stepds "$d")
    if [ -n "$pids" ]; then
        pids=$(_cl_tree $pids)
        _cl_msg "killing leftover job steps and their processes:" $pids
        kill -KILL $pids 2>/dev/null
    fi
    [ -z "$left" ] || _cl_msg "still running:$left"
    _cl_msg "stopped; logs kept in $d/log and $d/munge"
    # (released for every process that inherited the fd)
    local fd
    for fd in ${_CL_LOCK_FDS:-}; do flock -u "$fd"; exec {fd}>&-; done
    _CL_LOCK_FDS=""
    return $rc
}

cluster_status() {
    local d name pid rc=0
    d=$(_cl_dir "${1:-}") || return 1
    [ -d "$d/run" ] || { _cl_msg "no cluster in $d"; return 1; }
    for name in munged slurmctld slurmd-n1 slurmd-n2 slurmd-n3; do
        if pid=$(_cl_ours "$d" "$name"); then echo "$name: running ($pid)"
        else echo "$name: stopped"; rc=1; fi
    done
    if _cl_ours "$d" slurmctld >/dev/null; then
        SLURM_CONF=$d/slurm.conf timeout 10 sinfo -N -o '%N %t %c' || rc=1
        SLURM_CONF=$d/slurm.conf timeout 10 squeue -t all || rc=1
    fi
    return $rc
}

# cluster_env DIR: what a test needs to talk to the cluster in DIR
cluster_env() {
    local d
    d=$(_cl_dir "${1:-}") || return 1
    export CLUSTER_DIR=$d
    export SLURM_CONF=$d/slurm.conf
    export CLUSTER_USER
    CLUSTER_USER=$(cat "$d/user" 2>/dev/null || echo "${CLUSTER_USER:-crjob}")
    export CLUSTER_SHARED=$d/shared
}

# cluster_run [VAR=value...] CMD...: run CMD as the job user in DIR/shared, with a
# clean environment (srun and sbatch hand theirs on to the job) plus SLURM_CONF and
# any VAR=value given. Needs cluster_env first.
cluster_run() {
    : "${CLUSTER_DIR:?call cluster_env DIR first}"
    (cd "$CLUSTER_SHARED" && runuser -u "$CLUSTER_USER" -- env -i \
        HOME="$(getent passwd "$CLUSTER_USER" | cut -d: -f6)" USER="$CLUSTER_USER" \
        LOGNAME="$CLUSTER_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        SLURM_CONF="$SLURM_CONF" "$@")
}

# cluster_wait_job JOBID [SECONDS]: until the job has ended; prints its final
# state, returns 0 only if it COMPLETED. Needs cluster_env first.
cluster_wait_job() {
    local id=$1 t=${2:-${CLUSTER_TIMEOUT:-60}} i=0 state
    while :; do
        state=$(timeout 10 scontrol show job "$id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        case $state in
            COMPLETED) echo "$state"; return 0 ;;
            CANCELLED|FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)
                echo "$state"; return 1 ;;
        esac
        i=$((i + 1))
        [ $i -lt $((t * 2)) ] || { echo "${state:-UNKNOWN} (timed out after ${t}s)"; return 1; }
        sleep 0.5
    done
}

# Run as a command rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
        start)
            cluster_start "${2:-}" || exit 1
            d=$(_cl_dir "$2")
            echo "SLURM_CONF=$d/slurm.conf"
            echo "CLUSTER_DIR=$d"
            echo "CLUSTER_USER=$(cat "$d/user")"
            echo "CLUSTER_SHARED=$d/shared"
            ;;
        stop) cluster_stop "${2:-}" ;;
        status) cluster_status "${2:-}" ;;
        *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
    esac
fi
