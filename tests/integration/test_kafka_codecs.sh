#!/bin/bash
# Every codec end to end against real Apache Kafka (3 brokers, replication
# factor 3): the broker decompresses and validates every compressed batch
# it is sent, and refuses what it cannot read.  For each codec (some at a
# level other than their default), chuted with 2 workers and batches of at
# most 64 KiB takes 2 clients' 20,000 keyed records with headers each; the topic is read back with
# librdkafka's consumer (check.crcs=true, its own decompressors) and every
# record is checked: once, on the partition Kafka's Java client would pick,
# in per-key order.  batchdump.py --batches reads the stored batches'
# headers: each carries the configured codec (a batch that compression did
# not shrink may go uncompressed, which only a small one can be).  Nothing
# may be logged as an error or a warning.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
CLIENTS=2
PER_CLIENT=20000
PARTS=6

run_codec() { # run_codec CODEC LEVEL
    local codec=$1 level=$2
    local name="kc-$codec$level-$$" topic="kc-$codec$level-$$"
    local log="$TEST_TMP/chuted-$codec$level.log"
    kafka_topic "$topic" $PARTS
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        -X workers=2 -X batch.size=65536 -X compression.codec="$codec" \
        -X compression.level="$level" 2>"$log" &
    local sup=$!
    track_pid $sup
    wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted ($codec) did not come up"
    send_clients "$name" "$topic" $CLIENTS $PER_CLIENT ||
        fail "a client failed ($codec)"
    check_sent "$topic" $CLIENTS $PER_CLIENT $PARTS
    timeout 60 /usr/bin/python3 "$here/batchdump.py" -b "$BOOTSTRAP" \
        -t "$topic" --batches -o "$TEST_TMP/$topic.batches" ||
        fail "batchdump failed ($codec)"
    /usr/bin/python3 "$here/check_codecs.py" "$TEST_TMP/$topic.batches" \
        --want "$codec" --min-batches $((PARTS * 5)) ||
        fail "batches not in $codec"
    kill -TERM $sup
    wait $sup || fail "chuted ($codec) did not exit 0 after SIGTERM"
    grep -E "ERROR|WARN" "$log" |
        grep -v "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" &&
        { cat "$log" >&2; fail "errors logged ($codec)"; }
    echo "codecs: $codec (level $level): $((CLIENTS * PER_CLIENT)) records checked"
}

use_kafka
run_codec gzip -1
run_codec gzip 1
run_codec snappy -1
run_codec lz4 9
run_codec zstd -1
run_codec zstd 19
