#!/bin/bash
# Fault (e): every broker down for 6 s, longer than message.timeout.ms
# (3000 here), while 4 clients send 100,000 keyed records.  The topic is
# resolved and the brokers taken down before the clients start, so records
# are accepted while nothing can take them (a start after the fault would
# let a fast client finish first).  Asserts: records are reported failed,
# every missing record was, chute_flush returns so every client exits
# within 30 s of its start, per-key order and whole-batch duplicates among
# what arrived.  The brokers come back before the topic is read.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-alldown
name="fa-$$"

start_mock 3 "$topic:$PARTS"
fault_start_chuted "$name" message.timeout.ms=3000
"$BUILD/tests/chute-probe" topic "$name" "$topic" CHUTE_OK >/dev/null ||
    fail "cannot resolve the topic"
for b in 1 2 3; do
    mock_cmd down $b || fail "mock: $MOCK_REPLY"
done
fault_start_clients "$name" "$topic"
sleep 6
for b in 1 2 3; do
    mock_cmd up $b || fail "mock: $MOCK_REPLY"
done
fault_wait_clients 24 # 30 s from the clients' start, 6 s already gone
echo "all down: clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS some
chuted_stop
