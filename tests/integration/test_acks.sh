#!/bin/bash
# acks=0 and acks=1 without idempotence, against the real Apache Kafka
# cluster: every record arrives, in per-key order.  A real broker sends no
# answer at all to an acks=0 Produce (the mock answers even those), so
# chute must not wait for one.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
N=30000
use_kafka
for acks in 0 1; do
    name="acks$acks-$$"
    topic="acks$acks-$$"
    kafka_topic "$topic" 6
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        -X acks=$acks -X enable.idempotence=false \
        2>"$TEST_TMP/chuted$acks.log" &
    sup=$!
    track_pid $sup
    wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted (acks=$acks) did not come up"
    "$BUILD/tests/sendload" -n "$name" -t "$topic" -c 0 -N $N -k 100 \
        -s 20 || fail "client failed (acks=$acks)"
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -e $N \
        -o "$TEST_TMP/dump$acks" || fail "kverify failed (acks=$acks)"
    /usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump$acks" \
        --clients 1 --count $N --keys 100 --maxpad 20 --partitions 6 ||
        fail "topic check failed (acks=$acks)"
    kill -TERM $sup
    wait $sup || fail "chuted (acks=$acks) did not exit 0"
    # An acks=0 request that waited for an answer times out and is resent.
    ! grep -q "timed out" "$TEST_TMP/chuted$acks.log" ||
        fail "a request timed out (acks=$acks): $(grep "timed out" "$TEST_TMP/chuted$acks.log")"
done
