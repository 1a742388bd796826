#!/bin/bash
# A controlled shutdown (SIGTERM, `kafka stop-broker`) of a broker under
# load, then a restart with its data, on the real Apache Kafka cluster.
# 4 clients send 4 x 25,000 keyed records, paced over ~10 s, with the
# default 5 requests in flight and 16 KB batches.  The broker that leads
# most partitions shuts down 2 s in: the controller moves its leaderships
# first (chuted's batches there are answered NOT_LEADER_OR_FOLLOWER, or
# were already written and come back as duplicates when resent), then it
# closes its connections.  It is started again at once (in the background)
# and catches up while the clients still send.
# Asserts: chuted saw the broker go; its partitions moved; no record
# failed; every record is where its delivery report says; per-key order;
# the broker's sequence rules; no duplicate batch kept.  Then the
# restarted broker has its data: once every replica is in sync and it
# leads its partitions again, the topic read again is the same log.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-stop-$$

fault_kafka_start "ks-$$" "$topic" $PARTS
fault_kafka_victim "$topic"
kafka stop-broker "$VICTIM"
echo "stop: broker $VICTIM shut down"
fault_kafka_moved "$topic"
fault_clients_running || fail "the clients were done before broker $VICTIM was down"
fault_kafka_restart 90
fault_kafka_check "$topic" $PARTS none
fault_kafka_reread "$topic"
chuted_stop
