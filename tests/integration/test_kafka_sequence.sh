#!/bin/bash
# Sequence bookkeeping broken on purpose, against the real Apache Kafka
# cluster: chuted runs with CHUTE_TEST_SEQUENCE_SKEW=1 (a test-only switch
# its workers read once at start), which gives the first batch of each
# partition sealed after sequence 0 a base sequence one too high, leaving
# a gap.  4 clients send 4 x 25,000 keyed records; message.timeout.ms is
# 5000 so the run is bounded.  The mock takes any sequence; a real broker
# must refuse the gap with OUT_OF_ORDER_SEQUENCE_NUMBER.  chuted resends
# the refused batch until message.timeout.ms, fails it and what waited
# behind it, bumps the epoch and delivers the rest.
# Asserts: the broker refused a batch of every partition (chuted's debug
# log names OUT_OF_ORDER_SEQUENCE_NUMBER answers) and the failure shows in
# chuted's log and in /metrics (chute_records_failed_total); the records
# that failed were reported failed and nothing reported delivered is
# missing, no duplicate batch, per-key order; and the checks a normal run
# makes (test_e2e.sh: no WARN or ERROR in chuted's log, every client's
# records delivered) would have caught it.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-seq-$$
name="kq-$$"

use_kafka
kafka_topic "$topic" $PARTS
fault_wait_preferred "$topic" 20
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CHUTE_TEST_SEQUENCE_SKEW=1 fault_start_chuted "$name" message.timeout.ms=5000 \
    log.level=debug metrics.listen=127.0.0.1:$port
fault_start_clients "$name" "$topic"
fault_wait_clients 60
echo "sequence: clients took $CLIENTS_SECS s"
refused=$(grep "batch seq .*: OUT_OF_ORDER_SEQUENCE_NUMBER$" "$TEST_TMP/chuted.log" |
    sed 's/.*partition \([0-9]*\):.*/\1/' | sort -u | wc -l)
echo "sequence: the broker refused batches of $refused partitions out of order"
[ "$refused" -eq $PARTS ] ||
    fail "OUT_OF_ORDER_SEQUENCE_NUMBER on $refused partitions, not $PARTS"
grep -q "records failed: OUT_OF_ORDER_SEQUENCE_NUMBER" "$TEST_TMP/chuted.log" ||
    fail "no batch failed with OUT_OF_ORDER_SEQUENCE_NUMBER"
curl -sS --max-time 5 "http://127.0.0.1:$port/metrics" >"$TEST_TMP/metrics" ||
    fail "no /metrics"
grep -q "^chute_records_failed_total{.*error=\"OUT_OF_ORDER_SEQUENCE_NUMBER\"} [1-9]" \
    "$TEST_TMP/metrics" || fail "/metrics counts no OUT_OF_ORDER_SEQUENCE_NUMBER failure"
fault_kafka_check "$topic" $PARTS some
# What test_e2e.sh looks at.
grep -E "ERROR|WARN" "$TEST_TMP/chuted.log" |
    grep -qv "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" ||
    fail "nothing in chuted's log that test_e2e.sh would fail on"
chuted_stop
