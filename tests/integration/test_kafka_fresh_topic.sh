#!/bin/bash
# A topic produced to the moment it is created (real Apache Kafka, 3
# brokers, replication factor 3, 12 partitions, chuted with 2 workers, lz4
# and the default 5 requests in flight).  Right after creation a leader
# may still answer NOT_LEADER_OR_FOLLOWER (or UNKNOWN_TOPIC_OR_PARTITION)
# for a partition's first batch while it already takes the next one, and
# a broker with no state for the producer takes any first sequence: a
# batch pipelined behind the refused one would be written first, and
# sequence 0 then never (OUT_OF_ORDER_SEQUENCE_NUMBER until
# message.timeout.ms, then a failed batch and an epoch bump).  Five fresh
# topics in a row, 4 clients sending at once into each; every record must
# arrive once, in per-key order, and chuted must log no out-of-order
# sequence, no skipped sequence, no epoch bump and no failed record.
. "$(dirname "$0")/lib.sh" "$1"
CLIENTS=4
PER_CLIENT=25000
PARTS=12
ROUNDS=5
name="fresh-$$"

use_kafka
# message.timeout.ms 90 s (default 300 s): a batch stuck behind a sequence
# the broker will never take fails within the clients' 120 s flush.
chuted_start "$name" -X workers=2 -X compression.codec=lz4 -X log.level=debug \
    -X message.timeout.ms=90000

for round in $(seq 1 $ROUNDS); do
    topic="fresh-$$-$round"
    kafka_topic "$topic" $PARTS
    send_clients "$name" "$topic" $CLIENTS $PER_CLIENT || {
        grep -v DEBUG "$TEST_TMP/chuted.log" | tail -n 20 >&2
        fail "a client failed or timed out (topic $topic)"
    }
    check_sent "$topic" $CLIENTS $PER_CLIENT $PARTS
    echo "fresh topic $round: $((CLIENTS * PER_CLIENT)) records checked"
done
chuted_stop

# Retriable answers right after creation are expected (logged at debug);
# anything the sequences went wrong on is not.
bad=$(grep -E "OUT_OF_ORDER_SEQUENCE|while [0-9]+ was not written|bumped to epoch|new producer id|records failed|UNKNOWN_PRODUCER_ID|INVALID_PRODUCER_EPOCH" \
    "$TEST_TMP/chuted.log")
[ -z "$bad" ] || { echo "$bad" | head -n 20 >&2; fail "chuted logged sequence errors"; }
retried=$(grep -cE "NOT_LEADER_OR_FOLLOWER|UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE" \
    "$TEST_TMP/chuted.log")
echo "fresh topics: $ROUNDS x $((CLIENTS * PER_CLIENT)) records checked," \
    "$retried retriable answer(s) right after creation"
