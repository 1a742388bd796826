#!/bin/bash
# Leaders move under load, no broker down, on the real Apache Kafka
# cluster: 4 clients send 4 x 25,000 keyed records, paced over ~30 s, with
# the default 5 requests in flight and 16 KB batches, while two rounds of
# partition reassignment (ReassignPartitionsCommand: every partition's
# replica list rotated by one, so another broker becomes its preferred
# replica) each followed by preferred leader elections move the leader of
# every partition, twice.  The old leader answers what it has not
# appended NOT_LEADER_OR_FOLLOWER; what it appended may be on the new
# leader already, and a resend of that is answered as a duplicate.  chuted
# must refresh its metadata and follow each partition to its new leader
# without overtaking a batch: nothing goes to the new leader while the old
# one still holds some of the partition's batches.
# Asserts: every partition's leader moved in each round; no record
# failed; every record is where its delivery report says; per-key order;
# the broker's sequence rules; no duplicate batch kept.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-leader-$$
FAULT_RATE=${FAULT_RATE:-800}

# rotate: the reassignment JSON that rotates every replica list by one,
# and the "P REPLICAS" lines the cluster shows once it is done.
rotate() {
    fault_meta "$topic" | awk -v t="$topic" -v want="$TEST_TMP/want" '
        { n = split($3, r, ","); l = ""
          for (i = 2; i <= n; i++) l = l r[i] ","
          l = l r[1]
          print $1, l > want
          parts = parts (NR > 1 ? "," : "") \
              "{\"topic\":\"" t "\",\"partition\":" $1 ",\"replicas\":[" l "]}" }
        END { print "{\"version\":1,\"partitions\":[" parts "]}" }'
}
reassigned() {
    fault_meta "$topic" | awk '{print $1, $3}' | cmp -s - "$TEST_TMP/want"
}

fault_kafka_start "kl-$$" "$topic" $PARTS
sleep 1
moves=0
for round in 1 2; do
    fault_clients_running || fail "the clients were done before round $round"
    fault_meta "$topic" >"$TEST_TMP/before"
    rotate >"$TEST_TMP/reassign.json"
    kafka reassign "$TEST_TMP/reassign.json" || fail "reassignment refused"
    wait_until 30 reassigned || fail "reassignment $round not done in 30 s"
    fault_wait_preferred "$topic" 30
    moved=$(fault_meta "$topic" | join - "$TEST_TMP/before" |
        awk '$2 != $5' | wc -l)
    echo "leader: round $round moved $moved of $PARTS leaders"
    [ "$moved" -eq $PARTS ] || fail "round $round moved $moved leaders, not $PARTS"
    moves=$((moves + moved))
done
fault_clients_running || echo "leader: (the clients were done before the last move)"
fault_wait_clients 90
echo "leader: $moves leader moves; clients took $CLIENTS_SECS s"
fault_kafka_check "$topic" $PARTS none
chuted_stop
