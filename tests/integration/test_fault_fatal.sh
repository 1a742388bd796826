#!/bin/bash
# Fault (b): non-retriable Produce errors, MESSAGE_TOO_LARGE (10) and
# TOPIC_AUTHORIZATION_FAILED (29), on some requests while 4 clients send
# 100,000 keyed records.  Asserts: some records are reported failed, every
# other record is present (distinct present == sent - failed), per-key
# order among what is present, duplicates only as whole batch copies.
# Stays on chute-mock: it needs these errors on demand on requests already
# in flight (a real broker refuses only a record set up to be refused, as
# test_kafka_bump.sh does with MESSAGE_TOO_LARGE).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
topic=fault-fatal
name="ff-$$"

start_mock 3 "$topic:$PARTS"
# One request in flight: see test_fault_retriable.sh.
fault_start_chuted "$name" max.in.flight.requests.per.connection=1
fault_start_clients "$name" "$topic"
mock_cmd err 0 2 10 || fail "mock refused: $MOCK_REPLY"
sleep 0.1
mock_cmd err 0 2 29 || fail "mock refused: $MOCK_REPLY"
fault_wait_clients 60
echo "fatal: clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS some
grep -q "records failed: MESSAGE_TOO_LARGE\|records failed: TOPIC_AUTH" \
    "$TEST_TMP/chuted.log" || fail "chuted logged no failed batch"
chuted_stop
