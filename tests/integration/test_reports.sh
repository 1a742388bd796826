#!/bin/bash
# Delivery reports: 2 clients send 50,000 records each with reports on;
# every record gets exactly one report (sendload checks), and each report's
# partition and offset are where librdkafka's consumer finds the record,
# on the real Apache Kafka cluster (offsets the broker assigned).
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
PER=50000
use_kafka
topic="reports-$$"
kafka_topic "$topic" 12
name="reports-$$"
chuted_start "$name" -X compression.codec=lz4
"$BUILD/tests/sendload" -n "$name" -t "$topic" -c 0 -N $PER -k 300 -s 64 \
    -R "$TEST_TMP/r0" & p0=$!
"$BUILD/tests/sendload" -n "$name" -t "$topic" -c 1 -N $PER -k 300 -s 64 \
    -R "$TEST_TMP/r1" & p1=$!
wait $p0 || fail "client 0 failed"
wait $p1 || fail "client 1 failed"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -e $((2 * PER)) \
    -o "$TEST_TMP/dump" || fail "kverify failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump" --clients 2 \
    --count $PER --keys 300 --maxpad 64 --partitions 12 \
    --reports "$TEST_TMP/r0" "$TEST_TMP/r1" || fail "reports do not match"
echo "reports: $((2 * PER)) reports match the topic"
chuted_stop
