#!/bin/bash
# An epoch bump while batches' fates are unknown, on the real Apache Kafka
# cluster: a batch that may be written must not be re-stamped by the bump
# (under a new epoch and sequence the broker cannot know it for a resend,
# and writes it twice).  chuted runs one slot, so one idempotent producer
# writes every partition, with request.timeout.ms 1000.  The topic's 12
# partitions have their replicas on brokers 1 and 3 only; a second topic,
# with one partition on broker 2 alone, takes records of at most 100 KB.
# 4 clients send 4 x 25,000 keyed records, paced over ~10 s, with the
# default 5 requests in flight.  2 s in, broker 3 is frozen for 2 s (less
# than the broker session timeout and replica.lag.time.max.ms: it stays in
# every ISR): broker 1 appends what it gets but cannot acknowledge it
# (acks=all), so those batches time out written; broker 3's own requests
# time out too.  Meanwhile a 200 KB record goes to the second topic:
# broker 2 refuses it at once (MESSAGE_TOO_LARGE), which fails it for
# good and leaves a gap in the producer's sequences, so the slot must
# bump its epoch while the timed-out batches wait to go again.
# Asserts: the big record failed, requests timed out and the slot bumped
# its epoch; no client's record failed; every record is where its
# delivery report says; per-key order; the broker's sequence rules; and
# no duplicate batch kept.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-bump-$$
big=kafka-bump-big-$$
name="kb-$$"
FAULT_RATE=${FAULT_RATE:-2500}

use_kafka
on_cleanup kafka_restore
fault_kafka_topic "$topic" 1:3,3:1,1:3,3:1,1:3,3:1,1:3,3:1,1:3,3:1,1:3,3:1
fault_kafka_topic "$big" 2 max.message.bytes=100000
fault_wait_preferred "$topic" 20
fault_wait_meta 20 "$big" '$2 == 2'
fault_start_chuted "$name" slots=1 workers=1 batch.size=16384 \
    message.max.bytes=262144 \
    request.timeout.ms=1000
# One small record first: the worker knows the second topic's leader
# before the fault (a metadata request then would wait behind Produce
# requests that wait for broker 3).
echo small | "$BUILD/bin/chute-cat" -n "$name" -t "$big" >/dev/null ||
    fail "cannot write to topic $big"
fault_start_clients "$name" "$topic"
sleep 2
fault_clients_running || fail "the clients were done before the fault"
kafka pause 3
echo "bump: broker 3 frozen"
sleep 0.2
head -c 200000 /dev/zero | tr '\0' x |
    "$BUILD/bin/chute-cat" -n "$name" -t "$big" >"$TEST_TMP/big.out" 2>&1 &&
    fail "a 200 KB record was written to a topic whose limit is 100 KB"
sleep 1.8
kafka resume 3
echo "bump: broker 3 thawed"
fault_wait_clients 90
echo "bump: clients took $CLIENTS_SECS s"
grep -q "records failed: MESSAGE_TOO_LARGE" "$TEST_TMP/chuted.log" ||
    fail "the big record did not fail with MESSAGE_TOO_LARGE"
grep -q "request timed out" "$TEST_TMP/chuted.log" ||
    fail "no request timed out"
grep -q "bumped to epoch" "$TEST_TMP/chuted.log" || fail "no epoch bump"
fault_kafka_check "$topic" $PARTS none
chuted_stop
