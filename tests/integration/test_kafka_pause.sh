#!/bin/bash
# A broker frozen (SIGSTOP) under load for 6 s, longer than chuted's
# request.timeout.ms (3 s here) and the broker session timeout (4 s), then
# thawed (SIGCONT), on the real Apache Kafka cluster.  4 clients send
# 4 x 25,000 keyed records, paced over ~10 s, with the default 5 requests
# in flight and 16 KB batches.  The frozen broker leads most partitions:
# its requests time out in chuted, which closes the connections and keeps
# the batches as possibly written; the controller fences the broker and
# moves its partitions; chuted resends to the new leaders, which hold
# whatever the frozen one had replicated (a resend of that is answered as
# a duplicate).  Thawed, the broker may still append what sat in its
# socket buffers before it learns it lost leadership; it must truncate
# that as it rejoins.
# Asserts: chuted timed out on the broker and followed its partitions; no
# record failed; every record is where its delivery report says; per-key
# order; the broker's sequence rules; no duplicate batch kept.  Then, once
# every replica is in sync and the thawed broker leads its partitions
# again, the topic read again (partly from it) is the same log.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-pause-$$

fault_kafka_start "kp-$$" "$topic" $PARTS request.timeout.ms=3000
fault_kafka_victim "$topic"
kafka pause "$VICTIM"
echo "pause: broker $VICTIM stopped"
sleep 6
kafka resume "$VICTIM"
echo "pause: broker $VICTIM continued"
fault_wait_clients 90
echo "pause: clients took $CLIENTS_SECS s"
grep -q "broker $VICTIM (.*): request timed out" "$TEST_TMP/chuted.log" ||
    fail "no request to broker $VICTIM timed out in chuted"
fault_kafka_moved "$topic"
fault_kafka_check "$topic" $PARTS none
fault_kafka_reread "$topic"
chuted_stop
