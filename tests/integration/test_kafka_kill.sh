#!/bin/bash
# A broker SIGKILLed under load, then restarted with its data, on the real
# Apache Kafka cluster (3 brokers, replication factor 3, broker session
# timeout 4 s).  4 clients send 4 x 25,000 keyed records, paced over ~10 s,
# through chuted with the default 5 requests in flight and 16 KB batches
# (so several batches of a partition are in flight when it dies).  The
# broker that leads most partitions is killed 2 s in: its connections
# reset, what it had in flight comes back as possibly written and is
# resent; its partitions have no live leader until the controller fences
# it (4 s), then move to the other replicas.  It is started again 4 s
# later with its data (in the background: a JVM start may outlast the
# load) and catches up.
# Asserts: chuted saw the broker go and its partitions move; no record
# failed (message.timeout.ms is the default 300 s); every record is where
# its delivery report says; per-key order; the kept batches follow the
# broker's sequence rules; and the broker kept no duplicate batch (it
# de-duplicates idempotent resends: a copy would be a chute bug).  Then
# the restarted broker has its data: once every replica is in sync and
# preferred leader elections gave it its partitions back, the topic read
# again (partly from it) is the same log, offset for offset.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-kill-$$

fault_kafka_start "kk-$$" "$topic" $PARTS
fault_kafka_victim "$topic"
kafka kill "$VICTIM"
echo "kill: broker $VICTIM killed"
sleep 4
fault_kafka_restart 90
fault_kafka_moved "$topic"
fault_kafka_check "$topic" $PARTS none
fault_kafka_reread "$topic"
chuted_stop
