# faultlib.sh: shared steps of the fault-injection tests (test_fault_*.sh
# on the mock, test_kafka_*.sh on real Apache Kafka).  Source lib.sh first,
# then this.  A test starts the mock or uses the cluster, starts chuted and
# the clients in the background, injects its faults while they run, waits for
# the clients within a bound, then reads the topic back batch by batch
# (batchdump.py) and checks it against the clients' reports (check_faults.py).
#
#   fault_start_chuted NAME [-X k=v]...   chuted on $BOOTSTRAP, log in
#                                         $TEST_TMP/chuted.log; sets SUP
#   fault_start_clients NAME TOPIC        FAULT_CLIENTS x FAULT_COUNT records
#                                         in the background; sets CLIENT_PIDS
#   fault_clients_running                 succeeds while any client runs
#   fault_wait_clients SECS               waits for every client; fails when
#                                         one is still running after SECS;
#                                         sets CLIENTS_SECS (wall time since
#                                         the clients started)
#   fault_check TOPIC PARTS none|some|any batchdump + check_faults
#   fault_batchdump TOPIC                 batchdump.py into
#                                         $TEST_TMP/TOPIC.batches
#   (chuted_stop from lib.sh stops chuted)
#
# FAULT_KEEP=DIR keeps the batch dump, the reports and the logs of a failed
# check in DIR.  FAULT_CHECK_ARGS (an array) adds check_faults.py options.

FAULT_HERE=$(dirname "${BASH_SOURCE[0]}")
FAULT_CLIENTS=${FAULT_CLIENTS:-4}
FAULT_COUNT=${FAULT_COUNT:-25000}
FAULT_KEYS=${FAULT_KEYS:-500}
FAULT_MAXPAD=${FAULT_MAXPAD:-32}

fault_start_chuted() {
    local name=$1 x xs=()
    FAULT_NAME=$name
    shift
    for x in "$@"; do
        xs+=(-X "$x")
    done
    chuted_start "$name" "${xs[@]}"
}

fault_start_clients() {
    local name=$1 topic=$2 c
    CLIENT_PIDS=""
    : >"$TEST_TMP/reports"
    FAULT_T0=${EPOCHREALTIME/./}
    for c in $(seq 0 $((FAULT_CLIENTS - 1))); do
        "$BUILD/tests/sendload" -n "$name" -t "$topic" -c "$c" \
            -N "$FAULT_COUNT" -k "$FAULT_KEYS" -s "$FAULT_MAXPAD" \
            -R "$TEST_TMP/delivery.$c" ${FAULT_REPEATS_OK:+-D} \
            ${FAULT_ACCEPTED_DIR:+-A "$FAULT_ACCEPTED_DIR/accepted.$c"} \
            ${FAULT_RATE:+-r "$FAULT_RATE"} \
            >>"$TEST_TMP/reports" 2>>"$TEST_TMP/clients.err" &
        CLIENT_PIDS="$CLIENT_PIDS $!"
        track_pid $!
    done
}

fault_clients_running() {
    local p
    for p in $CLIENT_PIDS; do
        kill -0 "$p" 2>/dev/null && return 0
    done
    return 1
}

# sendload exits 1 when records failed; what counts is its report line,
# which check_faults.py reads.
fault_wait_clients() {
    local secs=$1 p
    wait_until "$secs" eval '! fault_clients_running' || {
        cat "$TEST_TMP/reports" >&2
        "$BUILD/bin/chutectl" -n "$FAULT_NAME" status >&2 || true
        echo "--- chuted log (last 30 lines):" >&2
        tail -n 30 "$TEST_TMP/chuted.log" >&2
        [ -z "${FAULT_KEEP:-}" ] || { mkdir -p "$FAULT_KEEP" &&
            cp "$TEST_TMP"/*.log "$FAULT_KEEP"/; }
        fail "clients still running $secs s after they started"
    }
    for p in $CLIENT_PIDS; do
        wait "$p" || true
    done
    local us=$((${EPOCHREALTIME/./} - FAULT_T0))
    CLIENTS_SECS=$((us / 1000000)).$(printf %03d $((us / 1000 % 1000)))
    cat "$TEST_TMP/reports"
    if grep -v "failed" "$TEST_TMP/clients.err" | grep -q .; then
        cat "$TEST_TMP/clients.err" >&2
    fi
}

# fault_batchdump TOPIC: batchdump.py into $TEST_TMP/TOPIC.batches.  A
# leader that moved between its Metadata and Fetch requests (error 6, or
# no leader yet: a broker's metadata lags the controller's for a moment
# after an election) is asked again, up to 5 times.
fault_batchdump() {
    local topic=$1 try
    for try in 1 2 3 4 5; do
        timeout 60 /usr/bin/python3 "$FAULT_HERE/batchdump.py" -b "$BOOTSTRAP" \
            -t "$topic" -o "$TEST_TMP/$topic.batches" 2>"$TEST_TMP/batchdump.err" && {
            cat "$TEST_TMP/batchdump.err"
            return 0
        }
        cat "$TEST_TMP/batchdump.err" >&2
        grep -qE "error 6$|leader -1$" "$TEST_TMP/batchdump.err" || break
        sleep 1
    done
    fail "batchdump failed"
}

fault_check() {
    local topic=$1 parts=$2 expect=$3
    fault_batchdump "$topic"
    /usr/bin/python3 "$FAULT_HERE/check_faults.py" \
        "$TEST_TMP/$topic.batches" "$TEST_TMP/reports" \
        --clients "$FAULT_CLIENTS" --count "$FAULT_COUNT" --keys "$FAULT_KEYS" \
        --maxpad "$FAULT_MAXPAD" --partitions "$parts" --failed "$expect" \
        --delivery "$TEST_TMP"/delivery.* \
        "${FAULT_CHECK_ARGS[@]}" || {
        if [ -n "${FAULT_KEEP:-}" ]; then
            mkdir -p "$FAULT_KEEP" &&
                cp "$TEST_TMP"/*.batches "$TEST_TMP"/reports \
                    "$TEST_TMP"/*.log "$FAULT_KEEP"/
            [ -f "$TEST_TMP/mock.err" ] && cp "$TEST_TMP/mock.err" "$FAULT_KEEP"/
        fi
        if [ -s "$TEST_TMP/clients.err" ]; then
            echo "--- the clients' stderr (last 20 lines):" >&2
            tail -n 20 "$TEST_TMP/clients.err" >&2
        fi
        echo "--- chuted log (last 20 lines):" >&2
        tail -n 20 "$TEST_TMP/chuted.log" >&2
        fail "check_faults failed"
    }
}

# ---- real Apache Kafka (lib.sh use_kafka first) -----------------------------
#   fault_kafka_start NAME TOPIC PARTS [k=v]...
#                                   the usual start of a test: the run's
#                                   cluster (brokers restored at cleanup),
#                                   a topic whose partitions are led by
#                                   their preferred replicas, chuted with
#                                   16 KB batches (several in flight per
#                                   partition) and the clients, paced at
#                                   FAULT_RATE records/s each (default
#                                   2500: ~10 s)
#   fault_kafka_victim TOPIC        2 s later, the broker that leads most
#                                   partitions: sets VICTIM and VICTIM_LED
#                                   (the partitions it leads); fails if the
#                                   clients are already done
#   fault_kafka_restart SECS        starts VICTIM again with its data, in
#                                   the background (a JVM start may outlast
#                                   the load), waits for the clients
#                                   (fault_wait_clients SECS), then for the
#                                   broker; fails unless chuted's log
#                                   shows it lost the broker
#   fault_kafka_moved TOPIC         fails unless some of VICTIM_LED is led
#                                   by another broker now
#   fault_kafka_check TOPIC PARTS none|some|any
#                                   fault_check, plus: the broker kept no
#                                   duplicate batch (it de-duplicates
#                                   idempotent resends)
#   fault_kafka_topic NAME ASSIGNMENT [K=V]...
#                                   a topic with the replicas of
#                                   TopicCommand's --replica-assignment
#                                   ("1:3,3:1": two partitions on brokers
#                                   1 and 3, preferred leader first) and
#                                   topic configurations K=V
#   fault_meta TOPIC                one line per partition, from the
#                                   cluster's Metadata: "P LEADER REPLICAS
#                                   ISR" (comma lists, preferred first)
#   fault_busiest_leader TOPIC      the broker that leads most partitions
#   fault_led_by TOPIC BROKER       the partitions BROKER leads (a list)
#   fault_moved TOPIC BROKER PARTS  how many of the partitions PARTS (a
#                                   list) a broker other than BROKER leads
#   fault_wait_meta SECS TOPIC COND each partition's line satisfies the awk
#                                   condition COND ($2 leader, $3 replicas,
#                                   $4 in-sync replicas), within SECS
#   fault_wait_whole TOPIC SECS     every partition led, all replicas in sync
#   fault_wait_preferred TOPIC SECS preferred leader elections until every
#                                   partition is led by its first replica
#   fault_kafka_reread TOPIC        after fault_kafka_check: once every
#                                   replica is in sync and every partition
#                                   led by its preferred replica again (a
#                                   restarted broker leads its share), the
#                                   topic read again must be the same log,
#                                   batch for batch, offset for offset

fault_kafka_start() {
    local name=$1 topic=$2 parts=$3
    shift 3
    FAULT_RATE=${FAULT_RATE:-2500}
    use_kafka
    on_cleanup kafka_restore
    kafka_topic "$topic" "$parts"
    fault_wait_preferred "$topic" 20
    fault_start_chuted "$name" batch.size=16384 "$@"
    fault_start_clients "$name" "$topic"
}

fault_kafka_victim() {
    sleep 2
    VICTIM=$(fault_busiest_leader "$1")
    [ -n "$VICTIM" ] || fail "no leader found for $1"
    VICTIM_LED=$(fault_led_by "$1" "$VICTIM")
    fault_clients_running || fail "the clients were done before the fault"
}

fault_kafka_restart() {
    local restart
    kafka start-broker "$VICTIM" &
    restart=$!
    fault_wait_clients "$1"
    echo "$TEST_NAME: clients took $CLIENTS_SECS s"
    wait $restart || fail "broker $VICTIM did not start again"
    echo "$TEST_NAME: broker $VICTIM restarted"
    grep -q "broker $VICTIM (" "$TEST_TMP/chuted.log" ||
        fail "chuted's log does not show broker $VICTIM going away"
}

fault_kafka_moved() {
    local moved
    moved=$(fault_moved "$1" "$VICTIM" "$VICTIM_LED")
    echo "$TEST_NAME: $moved of the partitions broker $VICTIM led ($VICTIM_LED) moved"
    [ "$moved" -gt 0 ] || fail "no partition moved away from broker $VICTIM"
}

fault_kafka_check() {
    local saved=("${FAULT_CHECK_ARGS[@]}")
    FAULT_CHECK_ARGS+=(--no-duplicates)
    fault_check "$@"
    FAULT_CHECK_ARGS=("${saved[@]}")
}

fault_kafka_topic() {
    local topic=$1 assignment=$2 kv args=()
    shift 2
    for kv in "$@"; do
        args+=(--config "$kv")
    done
    kafka java org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --create --topic "$topic" --replica-assignment "$assignment" "${args[@]}" \
        >/dev/null || fail "could not create topic $topic"
}

fault_meta() {
    kcat -L -b "$BOOTSTRAP" -t "$1" -m 5 -J 2>/dev/null | /usr/bin/python3 -c '
import json, sys
md = json.load(sys.stdin)
for t in md["topics"]:
    if t.get("error"):
        sys.exit(1)
    for p in sorted(t["partitions"], key=lambda p: p["partition"]):
        ids = lambda k: ",".join(str(r["id"]) for r in p[k]) or "-"
        print(p["partition"], p["leader"], ids("replicas"), ids("isrs"))
'
}

fault_busiest_leader() {
    fault_meta "$1" | awk '$2 >= 0 {n[$2]++} END {
        for (b in n) if (n[b] > best) {best = n[b]; id = b}; print id}'
}

fault_led_by() {
    echo $(fault_meta "$1" | awk -v b="$2" '$2 == b {print $1}')
}

fault_moved() {
    fault_meta "$1" | awk -v b="$2" -v ps=" $3 " \
        'index(ps, " " $1 " ") && $2 != b && $2 >= 0' | wc -l
}

fault_meta_ok() {
    local m
    m=$(fault_meta "$1") && [ -n "$m" ] &&
        echo "$m" | awk "{ if (!($2)) bad = 1 } END { exit bad }"
}

fault_wait_meta() {
    local secs=$1 topic=$2 cond=$3
    wait_until "$secs" fault_meta_ok "$topic" "$cond" || {
        fault_meta "$topic" >&2
        fail "topic $topic: not every partition has $cond after $secs s"
    }
}

# Every replica in the ISR: a comma list as long as the replica list.
fault_wait_whole() {
    fault_wait_meta "$2" "$1" \
        '$2 >= 0 && split($3, r, ",") == split($4, i, ",")'
}

fault_wait_preferred() {
    local topic=$1 secs=$2 t0=$SECONDS
    until fault_meta_ok "$topic" 'split($3, r, ",") && $2 == r[1]'; do
        [ $((SECONDS - t0)) -ge "$secs" ] && {
            fault_meta "$topic" >&2
            fail "topic $topic: leaders not back on their preferred replicas"
        }
        kafka elect
        sleep 0.5
    done
}

fault_kafka_reread() {
    local topic=$1
    mv "$TEST_TMP/$topic.batches" "$TEST_TMP/$topic.first"
    fault_wait_whole "$topic" 60
    fault_wait_preferred "$topic" 30
    fault_batchdump "$topic"
    cmp -s "$TEST_TMP/$topic.first" "$TEST_TMP/$topic.batches" || {
        diff "$TEST_TMP/$topic.first" "$TEST_TMP/$topic.batches" | head -5 >&2
        fail "topic $topic read again from the preferred leaders differs"
    }
    echo "reread: the same $(wc -l <"$TEST_TMP/$topic.batches") records from the preferred leaders"
}
