#!/bin/bash
# Every codec end to end against real Apache Kafka (3 brokers, replication
# factor 3): the broker decompresses and validates every compressed batch
# it is sent, and refuses what it cannot read.  For each codec (some at a
# level other than their default), chuted with 2 workers and batches of at
# most 64 KiB takes 2 clients' 20,000 keyed records with headers each; the
# topic is read back with librdkafka's consumer (check.crcs=true, its own
# decompressors) and every record is checked: once, on the partition
# Kafka's Java client would pick, in per-key order.  batchdump.py --batches
# reads the stored batches' headers: each carries the configured codec (a
# batch that compression did not shrink may go uncompressed, which only a
# small one can be).  Nothing may be logged as an error or a warning.
. "$(dirname "$0")/lib.sh" "$1"
CLIENTS=2
PER_CLIENT=20000
PARTS=6

run_codec() { # run_codec CODEC LEVEL
    local codec=$1 level=$2
    local name="kc-$codec$level-$$" topic="kc-$codec$level-$$"
    kafka_topic "$topic" $PARTS
    chuted_start "$name" -X workers=2 -X batch.size=65536 \
        -X compression.codec="$codec" -X compression.level="$level"
    send_clients "$name" "$topic" $CLIENTS $PER_CLIENT ||
        fail "a client failed ($codec)"
    check_sent "$topic" $CLIENTS $PER_CLIENT $PARTS
    check_codecs "$topic" --want "$codec" --min-batches $((PARTS * 5)) ||
        fail "batches not in $codec"
    chuted_stop
    grep -E "ERROR|WARN" "$TEST_TMP/chuted.log" |
        grep -v "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" &&
        { cat "$TEST_TMP/chuted.log" >&2; fail "errors logged ($codec)"; }
    echo "codecs: $codec (level $level): $((CLIENTS * PER_CLIENT)) records checked"
}

use_kafka
run_codec gzip -1
run_codec gzip 1
run_codec snappy -1
run_codec lz4 9
run_codec zstd -1
run_codec zstd 19
