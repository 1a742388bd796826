#!/bin/bash
# End to end: a real Apache Kafka cluster (3 brokers, replication factor
# 3; it checks every batch's CRC and the idempotent sequences), chuted with
# 2 workers and the default 5 requests in flight, 4 client processes sending
# 200,000 keyed records with headers at once; the topic is read back with
# librdkafka's consumer (check.crcs=true) and every record is checked: once,
# on the partition Kafka's Java client would pick, in per-key order.  Once
# with lz4, once without compression.  KAFKA_VERSION picks the broker.
. "$(dirname "$0")/lib.sh" "$1"
CLIENTS=4
PER_CLIENT=50000
PARTS=12

run_codec() {
    local codec=$1
    local name="e2e-$codec-$$" topic="e2e-$codec-$$"
    kafka_topic "$topic" $PARTS
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        -X workers=2 -X compression.codec="$codec" \
        2>"$TEST_TMP/chuted-$codec.log" &
    local sup=$!
    track_pid $sup
    wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted ($codec) did not come up"
    send_clients "$name" "$topic" $CLIENTS $PER_CLIENT ||
        fail "a client failed ($codec)"
    check_sent "$topic" $CLIENTS $PER_CLIENT $PARTS
    kill -TERM $sup
    wait $sup || fail "chuted ($codec) did not exit 0 after SIGTERM"
    # A fault-free run has no error, and no Produce error at all: an
    # OUT_OF_ORDER_SEQUENCE_NUMBER or a producer epoch bump here means the
    # sequence bookkeeping is wrong (the real broker checks it).
    grep -E "ERROR|WARN" "$TEST_TMP/chuted-$codec.log" |
        grep -v "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" &&
        { cat "$TEST_TMP/chuted-$codec.log" >&2; fail "errors logged ($codec)"; }
    echo "e2e $codec: $((CLIENTS * PER_CLIENT)) records checked"
}

use_kafka
run_codec lz4
run_codec none
