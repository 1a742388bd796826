#!/bin/bash
# Fault (a): retriable Produce errors while 4 clients send 100,000 keyed
# records through chuted (idempotent, acks=all) into a 3-broker mock.
# NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7) and NOT_ENOUGH_REPLICAS
# (19) are pushed in rounds while the clients run (the first round right
# after they start, so it lands on their first Produce requests).
# Asserts: no record reported failed, every record present where its
# delivery report says, per-key order, duplicates only as byte-identical
# whole batches.
#
# One Produce request in flight per connection here: the mock does not
# check sequences (KAFKA-PROTOCOL.md §9), so with several in flight it
# appends a later batch after an earlier one failed, where a real broker
# answers OUT_OF_ORDER_SEQUENCE_NUMBER and keeps the order.  The
# test_kafka_*.sh tests run the default 5 in flight, with the order
# checked, against a broker that does.
# Stays on chute-mock: it needs these errors on demand, in rounds; a real
# broker gives them only around real faults (test_kafka_*.sh).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-retriable
name="fr-$$"

start_mock 3 "$topic:$PARTS"
fault_start_chuted "$name" max.in.flight.requests.per.connection=1
fault_start_clients "$name" "$topic"
mock_cmd err 0 4 6 && mock_cmd err 0 4 7 && mock_cmd err 0 4 19 ||
    fail "mock refused: $MOCK_REPLY"
rounds=1
codes=(6 7 19)
while fault_clients_running && [ $rounds -lt 12 ]; do
    sleep 0.2
    mock_cmd err 0 3 "${codes[$((rounds % 3))]}" || fail "mock: $MOCK_REPLY"
    rounds=$((rounds + 1))
done
fault_wait_clients 60
echo "retriable: $rounds rounds of errors pushed; clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS none
chuted_stop
