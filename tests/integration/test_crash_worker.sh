#!/bin/bash
# Workers die at any instruction: while 4 clients send 400,000 keyed
# records (lz4), a random worker gets SIGKILL every 100 to 300 ms, at least
# 15 times.  The supervisor restarts it; the replacement takes over the
# batches in the pool and the rings where its predecessor stopped.
# Runs against the real Apache Kafka cluster with the default 5 requests in
# flight: the broker checks every batch's CRC and sequence, and drops the
# replacement's byte-identical resends as duplicates.
# Asserts: no record failed, every record present where its delivery report
# says, per-key order, the kept batches follow a broker's sequence rules,
# and every duplicate is a byte-identical whole batch.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
FAULT_COUNT=100000
topic=crash-worker-$$
name="cw-$$"
KILLS_MIN=15
# A worker killed between writing a record's report and marking it
# reported leaves its successor to report that record again.
FAULT_REPEATS_OK=1

use_kafka
kafka_topic "$topic" $PARTS
fault_start_chuted "$name" compression.codec=lz4 workers=2
fault_start_clients "$name" "$topic"

worker_pids() {
    "$BUILD/bin/chutectl" -n "$name" status 2>/dev/null |
        awk 'NR > 1 && $1 ~ /^[0-9]+$/ && $2 > 0 { print $2 } /^$/ { exit }'
}

kills=0
while [ $kills -lt $KILLS_MIN ] || fault_clients_running; do
    pids=($(worker_pids))
    if [ ${#pids[@]} -gt 0 ]; then
        victim=${pids[$((RANDOM % ${#pids[@]}))]}
        kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
    fi
    sleep 0.$((RANDOM % 3 + 1))
    [ $kills -lt 200 ] || break
done
fault_wait_clients 120
echo "crash: $kills workers killed; clients took $CLIENTS_SECS s"
[ $kills -ge $KILLS_MIN ] || fail "only $kills kills"
fault_check "$topic" $PARTS none
restarts=$("$BUILD/bin/chutectl" -n "$name" status |
    awk 'NR > 1 && $1 ~ /^[0-9]+$/ { r += $4 } /^$/ { exit } END { print r }')
echo "crash: supervisor counted $restarts restarts"
[ "$restarts" -ge $KILLS_MIN ] || fail "restarts $restarts < $KILLS_MIN"
chuted_stop
