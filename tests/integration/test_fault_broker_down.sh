#!/bin/bash
# Fault (d): broker 2 goes down for 3 s while 4 clients send 100,000 keyed
# records, then comes back.  The mock does not move leaders, so the
# partitions broker 2 leads wait for it; message.timeout.ms is the default
# (300 s), so nothing may fail.  Asserts: no record failed, every record
# present, per-key order, duplicates (batches in flight when the
# connection dropped) only as byte-identical whole batches, and the clients
# took at least the outage (their flush waited for broker 2).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-down
name="fd-$$"

start_mock 3 "$topic:$PARTS"
fault_start_chuted "$name"
fault_start_clients "$name" "$topic"
sleep 0.1
mock_cmd down 2 || fail "mock: $MOCK_REPLY"
sleep 3
mock_cmd up 2 || fail "mock: $MOCK_REPLY"
fault_wait_clients 60
echo "broker down: clients took $CLIENTS_SECS s"
[ "${CLIENTS_SECS%.*}" -ge 2 ] ||
    fail "clients done in $CLIENTS_SECS s: the outage hit nothing"
fault_check "$topic" $PARTS none
chuted_stop
