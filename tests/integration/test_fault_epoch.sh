#!/bin/bash
# The idempotent producer's recovery: UNKNOWN_PRODUCER_ID (59) and
# OUT_OF_ORDER_SEQUENCE_NUMBER (45) answers while 4 clients send 100,000
# keyed records.  chute must bump the slot's epoch, restart its sequences
# at 0 and resend.  Asserts: no record failed, every record present where
# its report says, per-key order, the kept batches follow the broker's
# sequence rules, and batches of a bumped epoch are in the topic.
# Stays on chute-mock: a real broker gives a correct producer neither
# answer on demand (test_kafka_sequence.sh makes it refuse sequences that
# chute breaks on purpose).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-epoch
name="fe-$$"

start_mock 3 "$topic:$PARTS"
# One request in flight: see test_fault_retriable.sh.
fault_start_chuted "$name" max.in.flight.requests.per.connection=1
fault_start_clients "$name" "$topic"
mock_cmd err 0 2 59 || fail "mock: $MOCK_REPLY"
rounds=1
while fault_clients_running && [ $rounds -lt 8 ]; do
    sleep 0.2
    mock_cmd err 0 1 $((rounds % 2 ? 45 : 59)) || fail "mock: $MOCK_REPLY"
    rounds=$((rounds + 1))
done
fault_wait_clients 60
echo "epoch: $rounds rounds of 59/45; clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS none
bumped=$(awk -F'\t' '$4 > 0' "$TEST_TMP/$topic.batches" | wc -l)
echo "epoch: $bumped records written under a bumped epoch"
[ "$bumped" -gt 0 ] || fail "no batch carries a bumped epoch"
grep -q "bumped to epoch" "$TEST_TMP/chuted.log" || fail "no bump logged"
chuted_stop
