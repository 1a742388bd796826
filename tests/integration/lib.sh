# lib.sh: helpers for chute's integration tests (bash).  Source it first:
#
#   . "$(dirname "$0")/lib.sh" "$1"   # $1: the build dir, else $BUILD, else build
#
# It sets BUILD and TEST_TMP (a scratch dir removed at exit) and installs an
# EXIT/INT/TERM trap that stops everything registered with track_pid, runs
# the commands registered with on_cleanup, then removes TEST_TMP.
#
#   start_mock BROKERS [TOPIC:PARTS...]  start build/bin/chute-mock; exports
#                                        BOOTSTRAP and MOCK_PID
#   mock_cmd WORDS...                    send one fault command, succeed on
#                                        "ok"; the reply is in MOCK_REPLY
#   stop_mock                            SIGTERM the mock, check it exits 0
#   track_pid PID                        kill PID at cleanup
#   on_cleanup CMD...                    run CMD at cleanup
#   wait_until SECS CMD...               retry CMD every 0.1 s for SECS
#   chuted_start NAME [ARGS...]          chuted -X bootstrap.servers=$BOOTSTRAP
#                                        -X name=NAME ARGS in the background,
#                                        log in $TEST_TMP/chuted.log; waits
#                                        until it answers; sets SUP
#   chuted_watch                         from now until chuted_stop, a
#                                        chuted ($SUP) that dies fails the
#                                        test at once (the watchdog below)
#   chuted_stop                          SIGTERM $SUP, expect exit 0 within
#                                        120 s
#   fail MSG                             print "FAIL: MSG" and exit 1
#   need_other_uids                      skip the test (exit 0) unless it
#                                        runs as root with setpriv; sets
#                                        USERS and ADM (gids of the groups
#                                        users and adm) and makes TEST_TMP
#                                        readable by other uids
#   as_uid UID GROUPS CMD...             CMD as UID (gid UID) with the
#                                        supplementary GROUPS (a comma list)
#   status_json EXPR                     EXPR of chutectl --json status of
#                                        $CHUTE_NAME, `st` the reply
#   send_clients NAME TOPIC N PER        N sendload clients at once (500
#                                        keys, up to 64 bytes of padding),
#                                        each bounded by 150 s; succeeds if
#                                        all did
#   check_sent TOPIC N PER PARTS         kverify reads the topic back, then
#                                        check_topic.py: every record of
#                                        send_clients once, in key order
#   check_codecs TOPIC ARGS...           batchdump.py --batches reads the
#                                        topic's batch headers (into
#                                        $TEST_TMP/TOPIC.batches), then
#                                        check_codecs.py ARGS checks their
#                                        codecs (--want C, --switch A B)
#
# Real Apache Kafka (scripts/kafka.sh):
#   use_kafka                            the run's cluster: the one in
#                                        $KAFKA_DIR that run-integration.sh
#                                        started, else one of this test's own;
#                                        exports BOOTSTRAP; watches its nodes
#   kafka_topic NAME PARTS [RF]          create a topic
#   kafka CMD ARGS...                    scripts/kafka.sh on that cluster
#                                        (kill, pause, resume, stop-broker,
#                                        start-broker, elect, ...)
#   kafka_restore                        brings every broker back (at cleanup
#                                        of a test that stops brokers)
#
# A mock or a Kafka node that dies unexpectedly fails the test within a
# second, with the tail of its log: a watchdog polls them (kafka.sh kill and
# stop-broker mark a node as expected down until start-broker).

BUILD=${1:-${BUILD:-build}}
export BUILD
LIB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")
LIB_PIDS=""
LIB_CLEANUP=()

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    exit 1
}

track_pid() {
    LIB_PIDS="$LIB_PIDS $1"
}

on_cleanup() {
    LIB_CLEANUP+=("$*")
}

lib_cleanup() {
    local rc=$? pid cmd
    trap - EXIT INT TERM
    # A background subshell that a signal reaches before it resets its
    # traps runs this inherited trap too: only the test's own shell cleans.
    [ "$BASHPID" = "$$" ] || exit "$rc"
    for cmd in "${LIB_CLEANUP[@]}"; do
        eval "$cmd" || true
    done
    for pid in $LIB_PIDS; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $LIB_PIDS; do
        lib_wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ -f "$TEST_TMP/mock.err" ]; then
        echo "--- chute-mock stderr (last 20 lines):" >&2
        tail -n 20 "$TEST_TMP/mock.err" >&2
    fi
    [ -n "${LIB_OWN_KAFKA:-}" ] && "$LIB_TOP/scripts/kafka.sh" stop >/dev/null 2>&1
    rm -rf "$TEST_TMP"
    exit "$rc"
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# lib_wait_gone PID TENTHS: succeeds once PID is gone.
lib_wait_gone() {
    local i=0
    while kill -0 "$1" 2>/dev/null; do
        [ "$i" -ge "$2" ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

wait_until() {
    local secs=$1 i=0
    shift
    while ! "$@"; do
        [ "$i" -ge $((secs * 10)) ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# The mock's stdin and stdout are fifos this shell holds open read-write, so
# the mock never sees EOF on stdin and the shell reads replies line by line.
start_mock() {
    local brokers=$1 t args=()
    shift
    [ -x "$BUILD/bin/chute-mock" ] || fail "no $BUILD/bin/chute-mock"
    for t in "$@"; do
        args+=(-T "$t")
    done
    rm -f "$TEST_TMP/mock.in" "$TEST_TMP/mock.out"
    mkfifo "$TEST_TMP/mock.in" "$TEST_TMP/mock.out" || fail "mkfifo"
    exec {MOCK_IN}<>"$TEST_TMP/mock.in" {MOCK_OUT}<>"$TEST_TMP/mock.out"
    "$BUILD/bin/chute-mock" -B "$brokers" "${args[@]}" \
        <"$TEST_TMP/mock.in" >"$TEST_TMP/mock.out" 2>"$TEST_TMP/mock.err" &
    MOCK_PID=$!
    track_pid "$MOCK_PID"
    lib_watch "chute-mock" "$TEST_TMP/mock.err" "kill -0 $MOCK_PID 2>/dev/null"
    IFS= read -r -t 10 -u "$MOCK_OUT" BOOTSTRAP ||
        fail "chute-mock printed no bootstrap line"
    case $BOOTSTRAP in
    *:[0-9]*) ;;
    *) fail "chute-mock printed '$BOOTSTRAP', not a bootstrap list" ;;
    esac
    export BOOTSTRAP MOCK_PID
}

mock_cmd() {
    [ -n "${MOCK_PID:-}" ] || fail "mock_cmd: no mock running"
    echo "$*" >&"$MOCK_IN"
    IFS= read -r -t 10 -u "$MOCK_OUT" MOCK_REPLY ||
        fail "mock_cmd '$*': no reply"
    [ "$MOCK_REPLY" = ok ]
}

stop_mock() {
    local rc=0
    [ -n "${MOCK_PID:-}" ] || return 0
    kill -TERM "$MOCK_PID"
    wait "$MOCK_PID" || rc=$?
    exec {MOCK_IN}>&- {MOCK_OUT}>&-
    LIB_PIDS=${LIB_PIDS/ $MOCK_PID/}
    lib_unwatch "chute-mock"
    MOCK_PID=""
    [ "$rc" -eq 0 ] || fail "chute-mock exited with $rc"
}

chuted_start() {
    local name=$1
    shift
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        "$@" 2>>"$TEST_TMP/chuted.log" &
    SUP=$!
    track_pid "$SUP"
    wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted $name did not come up"
}

chuted_watch() {
    lib_watch "chuted" "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"
}

chuted_stop() {
    lib_unwatch "chuted"
    kill -TERM "$SUP"
    # Bounded: a worker that never finds itself idle never finishes its
    # drain, and that must fail the test, not hang it.
    if ! lib_wait_gone "$SUP" 1200; then
        pkill -KILL -P "$SUP" 2>/dev/null || true
        kill -KILL "$SUP" 2>/dev/null || true
        wait "$SUP" 2>/dev/null || true
        fail "chuted did not exit within 120 s of SIGTERM"
    fi
    wait "$SUP" || fail "chuted did not exit 0 after SIGTERM"
}

# ---- send and read back ------------------------------------------------------
send_clients() {
    local name=$1 topic=$2 n=$3 per=$4 c p pids="" rc=0
    for c in $(seq 0 $((n - 1))); do
        timeout 150 "$BUILD/tests/sendload" -n "$name" -t "$topic" -c "$c" \
            -N "$per" -k 500 -s 64 &
        pids="$pids $!"
    done
    for p in $pids; do
        wait "$p" || rc=1
    done
    return $rc
}

check_sent() {
    local topic=$1 n=$2 per=$3 parts=$4
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -T 60 -e $((n * per)) \
        -o "$TEST_TMP/$topic.dump" || fail "kverify failed (topic $topic)"
    /usr/bin/python3 "$LIB_TOP/tests/integration/check_topic.py" \
        "$TEST_TMP/$topic.dump" --clients "$n" --count "$per" --keys 500 \
        --maxpad 64 --partitions "$parts" || fail "topic check failed (topic $topic)"
}

check_codecs() {
    local topic=$1
    shift
    timeout 60 /usr/bin/python3 "$LIB_TOP/tests/integration/batchdump.py" \
        -b "$BOOTSTRAP" -t "$topic" --batches -o "$TEST_TMP/$topic.batches" ||
        fail "batchdump failed (topic $topic)"
    /usr/bin/python3 "$LIB_TOP/tests/integration/check_codecs.py" \
        "$TEST_TMP/$topic.batches" "$@"
}

# ---- watchdog ---------------------------------------------------------------
# lib_watch LABEL LOG CHECK: every 0.3 s, evaluate CHECK; once it fails,
# print LABEL and the tail of LOG, then end the test (SIGTERM to this shell,
# whose trap cleans up, and to its other children, so that a foreground
# command or a `wait` for a client that can never finish returns at once).
declare -A LIB_WATCHERS
lib_watch() {
    local label=$1 log=$2 check=$3 top=$$
    (
        trap - EXIT INT TERM
        while eval "$check"; do
            sleep 0.3
        done
        {
            echo "FAIL: $TEST_NAME: $label died"
            echo "--- $label log (last 30 lines):"
            tail -n 30 $(eval echo "$log") 2>/dev/null
        } >&2
        kill -TERM "$top" 2>/dev/null
        for c in $(pgrep -P "$top"); do
            [ "$c" = "$BASHPID" ] || kill -TERM "$c" 2>/dev/null
        done
    ) &
    LIB_WATCHERS[$label]=$!
    track_pid $!
}

lib_unwatch() {
    local pid=${LIB_WATCHERS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    unset "LIB_WATCHERS[$1]"
    LIB_PIDS=${LIB_PIDS/ $pid/}
}

# ---- real Apache Kafka ------------------------------------------------------
kafka() {
    KAFKA_DIR=$KAFKA_DIR "$LIB_TOP/scripts/kafka.sh" "$@"
}

# kafka_nodes_ok: every node of the cluster runs, or is marked expected down.
kafka_nodes_ok() {
    local id pid
    for id in $(cat "$KAFKA_DIR/nodes"); do
        [ -e "$KAFKA_DIR/node-$id/expected-down" ] && continue
        pid=$(cat "$KAFKA_DIR/node-$id/pid" 2>/dev/null) || return 1
        kill -0 "$pid" 2>/dev/null || { LIB_DEAD_NODE=$id; return 1; }
    done
}

use_kafka() {
    if [ -z "${KAFKA_DIR:-}" ] || ! [ -f "$KAFKA_DIR/bootstrap" ]; then
        KAFKA_DIR=$TEST_TMP/kafka
        LIB_OWN_KAFKA=1
        kafka start >"$TEST_TMP/kafka.start" || fail "could not start Apache Kafka"
    fi
    export KAFKA_DIR
    kafka status >/dev/null || fail "the Kafka cluster in $KAFKA_DIR is not whole: $(kafka status)"
    BOOTSTRAP=$(cat "$KAFKA_DIR/bootstrap")
    export BOOTSTRAP
    lib_watch "a Kafka node" '$KAFKA_DIR/node-$LIB_DEAD_NODE/log' kafka_nodes_ok
}

kafka_topic() {
    kafka topic "$@" || fail "could not create topic $1"
}

kafka_restore() {
    local id
    for id in $(cat "$KAFKA_DIR/broker-ids"); do
        kafka resume "$id" 2>/dev/null || true
        [ -e "$KAFKA_DIR/node-$id/expected-down" ] && kafka start-broker "$id"
    done
    return 0
}

# ---- clients of other uids ----------------------------------------------------
need_other_uids() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: $TEST_NAME needs root to run clients as other uids"
        exit 0
    fi
    command -v setpriv >/dev/null || fail "no setpriv (util-linux)"
    USERS=$(getent group users | cut -d: -f3)
    ADM=$(getent group adm | cut -d: -f3)
    [ -n "$USERS" ] && [ -n "$ADM" ] || fail "the groups users and adm must exist"
    chmod 755 "$TEST_TMP" # the other uids look for files there
}

as_uid() {
    local uid=$1 groups=$2
    shift 2
    setpriv --reuid="$uid" --regid="$uid" --groups="$groups" -- "$@"
}

status_json() {
    timeout 10 "$BUILD/bin/chutectl" -n "$CHUTE_NAME" --json status |
        /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
