#!/bin/bash
# Every broker frozen (SIGSTOP) for 6 s, longer than message.timeout.ms
# (3000 here), on the real Apache Kafka cluster, while 4 clients send
# 4 x 25,000 keyed records paced over ~10 s (default 5 requests in
# flight).  chuted has its producer ids and the topic resolved before the
# brokers freeze, and the clients start just after, so records are
# accepted while nothing can take them.  Frozen, the brokers miss their
# heartbeats and the controller fences all three; thawed, they come back
# and elect leaders again.  Records that waited past message.timeout.ms
# fail (a batch in flight may still be written: "possibly persisted");
# a failed batch leaves a gap in its partition's sequences, so chuted
# starts a new epoch for its slot, and the records sent after the thaw are
# delivered.
# Asserts: some records failed; every missing record was reported failed;
# chute_flush returns, so every client exits within 30 s of its start;
# per-key order; the broker's sequence rules; no duplicate batch kept.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=12
topic=kafka-alldown-$$
name="ka-$$"
FAULT_RATE=${FAULT_RATE:-2500}

use_kafka
on_cleanup kafka_restore
kafka_topic "$topic" $PARTS
fault_wait_preferred "$topic" 20
fault_start_chuted "$name" batch.size=16384 message.timeout.ms=3000
"$BUILD/tests/chute-probe" topic "$name" "$topic" CHUTE_OK >/dev/null ||
    fail "cannot resolve the topic"
slots=$("$BUILD/bin/chutectl" -n "$name" status | awk '/^SLOT/ {s = 1; next}
    s && /^[0-9]/ {n++} END {print n}')
wait_until 20 eval '[ "$(grep -c "producer id" "$TEST_TMP/chuted.log")" -ge "$slots" ]' ||
    fail "chuted's workers have no producer id for every slot"
for b in $(cat "$KAFKA_DIR/broker-ids"); do
    kafka pause "$b"
done
fault_start_clients "$name" "$topic"
sleep 6
for b in $(cat "$KAFKA_DIR/broker-ids"); do
    kafka resume "$b"
done
fault_wait_clients 24 # 30 s from the clients' start, 6 s already gone
echo "all down: clients took $CLIENTS_SECS s"
fault_wait_meta 30 "$topic" '$2 >= 0'
fault_kafka_check "$topic" $PARTS some
grep -q "bumped to epoch" "$TEST_TMP/chuted.log" ||
    fail "no epoch bump after failed batches"
chuted_stop
