#!/bin/bash
# Sequence bookkeeping broken on purpose, against the real Apache Kafka
# cluster: chuted runs with CHUTE_TEST_SEQUENCE_SKEW=1 (a test-only switch
# its workers read once at start), which gives the first batch of each
# partition sealed after sequence 0 a base sequence one too high, leaving
# a gap.  4 clients send 4 x 25,000 keyed records in 16 KB batches (many
# per partition, so every partition gets its skewed one).  The mock takes
# any sequence; a real broker must refuse the gap with
# OUT_OF_ORDER_SEQUENCE_NUMBER.  Nothing before the refused batch is
# outstanding, so no resend can fill the gap: chuted starts a new epoch,
# which re-sequences the waiting batches from 0, and delivers everything.
# Asserts: the broker refused a batch of every partition (chuted's debug
# log names the OUT_OF_ORDER_SEQUENCE_NUMBER answers) and chuted bumped the
# epochs; no record failed, every record is where its delivery report
# says, per-key order, the broker's sequence rules, no duplicate batch;
# and the check of a normal run (test_e2e.sh: no WARN or ERROR in chuted's
# log) would have caught it.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-seq-$$
name="kq-$$"

use_kafka
kafka_topic "$topic" $PARTS
fault_wait_preferred "$topic" 20
CHUTE_TEST_SEQUENCE_SKEW=1 fault_start_chuted "$name" batch.size=16384 \
    log.level=debug
fault_start_clients "$name" "$topic"
fault_wait_clients 60
echo "sequence: clients took $CLIENTS_SECS s"
refused=$(grep "batch seq .*: OUT_OF_ORDER_SEQUENCE_NUMBER$" "$TEST_TMP/chuted.log" |
    sed 's/.*partition \([0-9]*\):.*/\1/' | sort -u | wc -l)
bumps=$(grep -c "bumped to epoch" "$TEST_TMP/chuted.log")
echo "sequence: the broker refused batches of $refused partitions out of order; $bumps epoch bumps"
[ "$refused" -eq $PARTS ] ||
    fail "OUT_OF_ORDER_SEQUENCE_NUMBER on $refused partitions, not $PARTS"
[ "$bumps" -gt 0 ] || fail "no epoch bump after the refusals"
fault_kafka_check "$topic" $PARTS none
# What test_e2e.sh looks at.
grep -E "ERROR|WARN" "$TEST_TMP/chuted.log" |
    grep -qv "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" ||
    fail "nothing in chuted's log that test_e2e.sh would fail on"
chuted_stop
