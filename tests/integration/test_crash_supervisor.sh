#!/bin/bash
# The supervisor dies: SIGKILL to chuted while 4 clients send 200,000 keyed
# records.  Its workers notice and keep draining; a new chuted with the
# same name takes over the shared memory, replaces the old workers, and
# delivers everything the rings and the pool held.  A chuted started while
# one runs refuses, and so does one whose settings lay the memory out
# differently.  Asserts: no record failed, every record present where
# its report says, per-key order, sequences a broker would accept,
# duplicates only as byte-identical whole batches.  Runs against the real
# Apache Kafka cluster with the default 5 requests in flight.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
FAULT_COUNT=50000
FAULT_REPEATS_OK=1
topic=crash-sup-$$
name="cs-$$"
settings=(compression.codec=lz4)

use_kafka
kafka_topic "$topic" $PARTS
fault_start_chuted "$name" "${settings[@]}"
first=$SUP
if "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
    2>"$TEST_TMP/second.log"; then
    fail "a second chuted with the same name started"
fi
grep -q "already running" "$TEST_TMP/second.log" ||
    fail "the second chuted did not say why: $(cat "$TEST_TMP/second.log")"
fault_start_clients "$name" "$topic"
sleep 0.3
kill -KILL $first
wait $first 2>/dev/null || true
# Memory laid out for other settings is refused, never misread.
if "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
    -X slots=8 2>"$TEST_TMP/other.log"; then
    fail "a chuted with other slots took over"
fi
grep -q "made with other sizes\|another size" "$TEST_TMP/other.log" ||
    fail "no clear refusal: $(cat "$TEST_TMP/other.log")"
fault_start_chuted "$name" "${settings[@]}"
grep -q "took over the shared memory" "$TEST_TMP/chuted.log" ||
    fail "the new chuted did not take over"
fault_wait_clients 120
echo "crash supervisor: clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS none
chuted_stop
[ -z "$(ls /dev/shm/chute."$name".* 2>/dev/null)" ] ||
    fail "shared memory left after a clean stop"
