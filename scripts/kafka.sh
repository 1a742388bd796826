#!/bin/bash
# kafka.sh: a real Apache Kafka cluster on loopback, for tests, benchmarks
# and demos.  The broker comes from Maven Central as jars (scripts/kafka/
# pom.xml), kept in a cache outside the work tree; the cluster runs in KRaft
# mode, either one combined broker+controller (-b 1) or one controller and
# N brokers, on free loopback ports, with small heaps.
#
#   kafka.sh fetch                 fetch the jars (once per version)
#   kafka.sh start [-b N]          format, start, wait until every broker
#                                  answers Metadata; print the bootstrap list
#         [-l NAME:PROTOCOL]...    with -b 1: more listeners (SSL, SASL_SSL,
#                                  ...) on free ports, listed in
#                                  KAFKA_DIR/listener.NAME as host:port
#         [-p FILE]                properties appended to server.properties
#                                  (the listeners' TLS and SASL settings)
#         [-u CREDENTIAL]...       SCRAM users made at format time, e.g.
#                                  'SCRAM-SHA-512=[name=alice,password=pw]'
#                                  The default cluster (none of these) has
#                                  the PLAINTEXT listener only.
#   kafka.sh stop                  stop every node, remove the data
#   kafka.sh status                the nodes, their pids and whether they run
#   kafka.sh bootstrap             print the bootstrap list
#   kafka.sh topic NAME PARTS [RF] create a topic (RF defaults to the brokers)
#   kafka.sh kill|pause|resume|stop-broker|start-broker ID
#                                  SIGKILL, SIGSTOP, SIGCONT, a controlled
#                                  shutdown (SIGTERM), or a restart with the
#                                  broker's data
#   kafka.sh elect                 preferred leader election on every topic
#   kafka.sh reassign FILE         start the partition reassignment in FILE
#                                  (ReassignPartitionsCommand's JSON)
#   kafka.sh log ID                the tail of a node's log
#   kafka.sh java CLASS ARGS...    run a class from the broker's class path
#
# kill and stop-broker leave node-ID/expected-down until start-broker, so a
# watchdog can tell a broker that a test stopped from one that died.
#
# Environment: KAFKA_VERSION (default 4.1.1), KAFKA_DIR (the cluster's
# run-time folder, default /tmp/chute-kafka), KAFKA_CACHE (the jar cache,
# default ~/.cache/chute), KAFKA_HEAP (broker heap, default 384m).
# Brokers have node ids 1..N, the controller 9 (or node 1 alone with -b 1).
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
KAFKA_DIR=${KAFKA_DIR:-${TMPDIR:-/tmp}/chute-kafka}
KAFKA_CACHE=${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chute}
KAFKA_HEAP=${KAFKA_HEAP:-384m}
LIBS=$KAFKA_CACHE/kafka-$KAFKA_VERSION/libs
HERE=$(cd "$(dirname "$0")" && pwd)
CONTROLLER_ID=9
START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}

die() {
    echo "kafka.sh: $*" >&2
    exit 1
}

major() { echo "${KAFKA_VERSION%%.*}"; }

cmd_fetch() {
    [ -f "$LIBS/.complete" ] && return 0
    command -v mvn >/dev/null || die "mvn not found (scripts/deps.sh installs maven)"
    local profile=kafka4
    [ "$(major)" -lt 4 ] && profile=kafka3
    echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION into $LIBS" >&2
    rm -rf "$LIBS"
    mvn -q -B -f "$HERE/kafka/pom.xml" -P "$profile" \
        -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 ||
        die "maven could not fetch Apache Kafka $KAFKA_VERSION"
    touch "$LIBS/.complete"
}

# jvm HEAP CLASS ARGS...: runs a class from the broker's class path.
jvm() {
    local heap=$1
    shift
    local logopt=("-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties")
    [ "$(major)" -lt 4 ] && logopt=("-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties")
    java -Xms64m -Xmx"$heap" -XX:+UseSerialGC -XX:-UsePerfData \
        -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        "${logopt[@]}" -cp "$LIBS/*" "$@"
}

# Java options for the brokers themselves: the full JIT, since they carry the
# tests' load.  Each broker is a session of its own (setsid: the subshell
# that execs it leads no group, so its pid stays the one start_node
# records): a signal for whoever started it, such as a test runner's
# SIGTERM to a test's process group, does not reach the cluster.
broker_jvm() {
    local heap=$1
    shift
    local logopt=("-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties")
    [ "$(major)" -lt 4 ] && logopt=("-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties")
    exec setsid java -Xms"$heap" -Xmx"$heap" -XX:+UseSerialGC -XX:-UsePerfData \
        -XX:CICompilerCount=2 -Djava.awt.headless=true \
        "${logopt[@]}" -cp "$LIBS/*" "$@"
}

write_log_config() {
    cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server
logger.server.level = INFO
EOF
    cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server=INFO
EOF
}

# free_ports N: N loopback ports nobody listens on (bound together, then
# released, so they are distinct).
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# node_props ID ROLES PORT: one node's server.properties.
node_props() {
    local id=$1 roles=$2 port=$3 listeners advertised
    local cport
    cport=$(cat "$KAFKA_DIR/controller.port")
    case $roles in
    controller)
        listeners="CONTROLLER://127.0.0.1:$cport"
        advertised="$listeners" ;;
    broker)
        listeners="PLAINTEXT://127.0.0.1:$port"
        advertised="$listeners" ;;
    *)
        listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
        advertised="PLAINTEXT://127.0.0.1:$port" ;;
    esac
    local extra="" map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
    local name proto lport
    if [ -f "$KAFKA_DIR/extra-listeners" ]; then
        while read -r name proto lport; do
            extra="$extra,$name://127.0.0.1:$lport"
            case ",$map," in *",$name:"*) ;; *) map="$map,$name:$proto" ;; esac
        done <"$KAFKA_DIR/extra-listeners"
    fi
    listeners="$listeners$extra"
    advertised="$advertised$extra"
    local brokers rf
    brokers=$(cat "$KAFKA_DIR/brokers")
    rf=$brokers
    [ "$rf" -gt 3 ] && rf=3
    cat <<EOF
process.roles=$roles
node.id=$id
controller.quorum.voters=$(cat "$KAFKA_DIR/voters")
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map
log.dirs=$KAFKA_DIR/node-$id/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=2097152
log.segment.bytes=16777216
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
background.threads=2
log.flush.offset.checkpoint.interval.ms=60000
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
replica.lag.time.max.ms=5000
controlled.shutdown.enable=true
# Tests send records with fixed timestamps from 2023 (so a reader can
# regenerate them); time-based retention would delete them within minutes.
log.retention.ms=-1
EOF
    [ -f "$KAFKA_DIR/extra.properties" ] && cat "$KAFKA_DIR/extra.properties"
    return 0
}

node_pid() {
    local f="$KAFKA_DIR/node-$1/pid"
    [ -f "$f" ] && cat "$f"
}

node_alive() {
    local pid
    pid=$(node_pid "$1") || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

node_ids() { cat "$KAFKA_DIR/nodes"; }
broker_ids() { cat "$KAFKA_DIR/broker-ids"; }

start_node() {
    local id=$1 d="$KAFKA_DIR/node-$1"
    node_alive "$id" && die "node $id already runs (pid $(node_pid "$id"))"
    local heap=$KAFKA_HEAP
    [ "$id" = $CONTROLLER_ID ] && heap=256m
    (broker_jvm "$heap" kafka.Kafka "$d/server.properties") \
        >>"$d/log" 2>&1 </dev/null &
    echo $! >"$d/pid"
}

format_node() {
    local id=$1
    local creds=() c
    if [ -f "$KAFKA_DIR/scram-users" ]; then
        while IFS= read -r c; do creds+=(-S "$c"); done <"$KAFKA_DIR/scram-users"
    fi
    jvm 256m kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster-id")" \
        -c "$KAFKA_DIR/node-$id/server.properties" "${creds[@]}" \
        >"$KAFKA_DIR/node-$id/format.log" 2>&1 ||
        { cat "$KAFKA_DIR/node-$id/format.log" >&2; die "formatting node $id failed"; }
}

# metadata_brokers: how many brokers the cluster's Metadata answer lists.
metadata_brokers() {
    kcat -L -b "$(cat "$KAFKA_DIR/bootstrap")" -m 3 -J 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["brokers"]))' 2>/dev/null ||
        echo 0
}

# wait_ready IDS...: every node alive, and the cluster lists every broker.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT)) id want
    want=$(wc -w <"$KAFKA_DIR/broker-ids")
    while :; do
        for id in "$@"; do
            node_alive "$id" || {
                tail -n 30 "$KAFKA_DIR/node-$id/log" >&2
                die "node $id exited during start-up (log above)"
            }
        done
        [ "$(metadata_brokers)" -ge "$want" ] && return 0
        [ $SECONDS -ge $deadline ] && die "cluster not ready after ${START_TIMEOUT}s"
        sleep 0.5
    done
}

cmd_start() {
    local brokers=3 lsn=() props="" users=() l
    while getopts b:l:p:u: opt; do
        case $opt in
        b) brokers=$OPTARG ;;
        l) lsn+=("$OPTARG") ;;
        p) props=$OPTARG ;;
        u) users+=("$OPTARG") ;;
        *) die "usage: kafka.sh start [-b BROKERS] [-l NAME:PROTOCOL]... [-p FILE] [-u CREDENTIAL]..." ;;
        esac
    done
    [ "$brokers" -ge 1 ] 2>/dev/null || die "-b takes a number of brokers"
    [ ${#lsn[@]} -eq 0 ] || [ "$brokers" -eq 1 ] || die "-l needs -b 1"
    for l in "${lsn[@]}"; do
        case $l in
        [A-Z]*:PLAINTEXT | [A-Z]*:SSL | [A-Z]*:SASL_PLAINTEXT | [A-Z]*:SASL_SSL) ;;
        *) die "-l $l: want NAME:PROTOCOL (upper-case NAME; PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)" ;;
        esac
        case ${l%%:*} in PLAINTEXT | CONTROLLER) die "-l $l: that name is taken" ;; esac
    done
    [ -z "$props" ] || [ -f "$props" ] || die "-p $props: no such file"
    props=${props:+$(cd "$(dirname "$props")" && pwd)/$(basename "$props")}
    command -v java >/dev/null || die "java not found (scripts/deps.sh installs it)"
    command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh installs it)"
    if [ -f "$KAFKA_DIR/nodes" ]; then
        for id in $(node_ids); do
            node_alive "$id" && die "a cluster already runs in $KAFKA_DIR (kafka.sh stop)"
        done
    fi
    cmd_fetch
    rm -rf "$KAFKA_DIR"
    mkdir -p "$KAFKA_DIR"
    write_log_config
    echo "$brokers" >"$KAFKA_DIR/brokers"
    echo "$KAFKA_VERSION" >"$KAFKA_DIR/version"
    [ -n "$props" ] && cp "$props" "$KAFKA_DIR/extra.properties"
    for l in "${users[@]}"; do echo "$l" >>"$KAFKA_DIR/scram-users"; done

    local ports cport i bootstrap="" ids
    read -r -a ports <<<"$(free_ports $((brokers + 1 + ${#lsn[@]})))"
    cport=${ports[$brokers]}
    i=$((brokers + 1))
    for l in "${lsn[@]}"; do
        echo "${l%%:*} ${l#*:} ${ports[$i]}" >>"$KAFKA_DIR/extra-listeners"
        echo "127.0.0.1:${ports[$i]}" >"$KAFKA_DIR/listener.${l%%:*}"
        i=$((i + 1))
    done
    echo "$cport" >"$KAFKA_DIR/controller.port"
    if [ "$brokers" -eq 1 ]; then
        echo "1@127.0.0.1:$cport" >"$KAFKA_DIR/voters"
        echo 1 >"$KAFKA_DIR/nodes"
        echo 1 >"$KAFKA_DIR/broker-ids"
        mkdir -p "$KAFKA_DIR/node-1"
        node_props 1 broker,controller "${ports[0]}" >"$KAFKA_DIR/node-1/server.properties"
        bootstrap="127.0.0.1:${ports[0]}"
    else
        echo "$CONTROLLER_ID@127.0.0.1:$cport" >"$KAFKA_DIR/voters"
        ids=$(seq -s ' ' 1 "$brokers")
        echo "$CONTROLLER_ID $ids" >"$KAFKA_DIR/nodes"
        echo "$ids" >"$KAFKA_DIR/broker-ids"
        mkdir -p "$KAFKA_DIR/node-$CONTROLLER_ID"
        node_props $CONTROLLER_ID controller 0 >"$KAFKA_DIR/node-$CONTROLLER_ID/server.properties"
        for i in $ids; do
            mkdir -p "$KAFKA_DIR/node-$i"
            node_props "$i" broker "${ports[$((i - 1))]}" >"$KAFKA_DIR/node-$i/server.properties"
            bootstrap="$bootstrap${bootstrap:+,}127.0.0.1:${ports[$((i - 1))]}"
        done
    fi
    echo "$bootstrap" >"$KAFKA_DIR/bootstrap"
    jvm 128m kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster-id" 2>/dev/null ||
        die "StorageTool random-uuid failed"
    local pids=()
    for i in $(node_ids); do
        format_node "$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || die "formatting failed"
    done
    for i in $(node_ids); do
        start_node "$i"
    done
    # shellcheck disable=SC2046
    wait_ready $(node_ids)
    echo "$bootstrap"
}

cmd_stop() {
    [ -f "$KAFKA_DIR/nodes" ] || return 0
    local id pid
    # Brokers one at a time, each a controlled shutdown that hands its
    # leaderships to the others (a few seconds each; all at once, they wait
    # on each other for 30 s).  Then the controller: a lone KRaft controller
    # takes about 30 s to leave its quorum, and with every broker gone and
    # the data about to be removed, it gets 3 s.
    for id in $(broker_ids | tr ' ' '\n' | sort -rn) $CONTROLLER_ID; do
        [ -f "$KAFKA_DIR/node-$id/pid" ] || continue
        pid=$(node_pid "$id")
        kill -CONT "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || continue
        wait_gone "$id" $([ "$id" = $CONTROLLER_ID ] && echo 3 || echo 30) ||
            kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$id" 5 || true
    done
    rm -rf "$KAFKA_DIR"
}

# wait_gone ID SECS: succeeds once the node's process is gone.
wait_gone() {
    local deadline=$((SECONDS + $2))
    while node_alive "$1"; do
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

cmd_status() {
    [ -f "$KAFKA_DIR/nodes" ] || { echo "no cluster in $KAFKA_DIR"; return 1; }
    local id rc=0
    echo "Apache Kafka $(cat "$KAFKA_DIR/version") bootstrap $(cat "$KAFKA_DIR/bootstrap")"
    for id in $(node_ids); do
        if node_alive "$id"; then
            echo "node $id pid $(node_pid "$id") running"
        else
            echo "node $id down"
            rc=1
        fi
    done
    return $rc
}

need_cluster() {
    [ -f "$KAFKA_DIR/nodes" ] || die "no cluster in $KAFKA_DIR (kafka.sh start)"
}

need_broker() {
    need_cluster
    case " $(broker_ids) " in
    *" $1 "*) ;;
    *) die "no broker $1 (brokers: $(broker_ids))" ;;
    esac
}

signal_broker() {
    local pid
    need_broker "$2"
    pid=$(node_pid "$2") || die "broker $2 has no pid"
    kill "-$1" "$pid" 2>/dev/null || die "broker $2 (pid $pid) is not running"
}

cmd_topic() {
    need_cluster
    [ $# -ge 2 ] || die "usage: kafka.sh topic NAME PARTITIONS [RF]"
    local rf=${3:-$(cat "$KAFKA_DIR/brokers")}
    [ "$rf" -gt 3 ] && rf=3
    jvm 128m org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$(cat "$KAFKA_DIR/bootstrap")" --create \
        --topic "$1" --partitions "$2" --replication-factor "$rf" >/dev/null
}

cmd_reassign() {
    need_cluster
    [ -f "${1:-}" ] || die "usage: kafka.sh reassign FILE (reassignment JSON)"
    jvm 128m org.apache.kafka.tools.reassign.ReassignPartitionsCommand \
        --bootstrap-server "$(cat "$KAFKA_DIR/bootstrap")" \
        --reassignment-json-file "$1" --execute >/dev/null
}

main() {
    local cmd=${1:-}
    [ $# -gt 0 ] && shift
    case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    bootstrap) need_cluster; cat "$KAFKA_DIR/bootstrap" ;;
    topic) cmd_topic "$@" ;;
    kill)
        need_broker "${1:?broker id}"
        touch "$KAFKA_DIR/node-$1/expected-down"
        signal_broker KILL "$1"
        wait_gone "$1" 10 || die "broker $1 survived SIGKILL" ;;
    pause) signal_broker STOP "${1:?broker id}" ;;
    resume) signal_broker CONT "${1:?broker id}" ;;
    stop-broker)
        need_broker "${1:?broker id}"
        touch "$KAFKA_DIR/node-$1/expected-down"
        signal_broker TERM "$1"
        wait_gone "$1" 60 || die "broker $1 did not stop within 60 s" ;;
    start-broker)
        need_broker "${1:?broker id}"
        start_node "$1"
        rm -f "$KAFKA_DIR/node-$1/expected-down"
        wait_ready "$1" ;;
    elect)
        need_cluster
        jvm 128m org.apache.kafka.tools.LeaderElectionCommand \
            --bootstrap-server "$(cat "$KAFKA_DIR/bootstrap")" \
            --election-type preferred --all-topic-partitions >/dev/null 2>&1 || true ;;
    reassign) cmd_reassign "$@" ;;
    log) need_cluster; tail -n "${2:-40}" "$KAFKA_DIR/node-${1:?node id}/log" ;;
    java) need_cluster; jvm 256m "$@" ;;
    *) die "usage: kafka.sh fetch|start|stop|status|bootstrap|topic|kill|pause|resume|stop-broker|start-broker|elect|reassign|log|java" ;;
    esac
}

main "$@"
