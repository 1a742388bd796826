#!/bin/bash
# Fault (c): partition leaders move while 4 clients send 100,000 keyed
# records: rounds of `leader TOPIC P B` over a third of the partitions,
# the first right after the clients start.  The old leader answers
# NOT_LEADER_OR_FOLLOWER; chute must refresh metadata and resend to the new
# one.  Asserts: no record failed, every record present, per-key order,
# duplicates only as byte-identical whole batches.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-leader
name="fl-$$"

start_mock 3 "$topic:$PARTS"
fault_start_chuted "$name"
fault_start_clients "$name" "$topic"
moves=0
round=0
while [ $round -lt 3 ] || { fault_clients_running && [ $round -lt 20 ]; }; do
    for p in $(seq $((round % 3)) 3 $((PARTS - 1))); do
        mock_cmd leader "$topic" "$p" $(((p + round) % 3 + 1)) ||
            fail "mock: $MOCK_REPLY"
        moves=$((moves + 1))
    done
    round=$((round + 1))
    sleep 0.1
done
fault_wait_clients 60
echo "leader: $moves moves in $round rounds; clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS none
chuted_stop
