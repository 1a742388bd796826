#!/bin/bash
# Re-sharding while clients send: 4 clients send 400,000 keyed records
# while the worker count goes 2 -> 4 -> 1 -> 3, each change made by
# editing the configuration file and sending SIGHUP (the control socket's
# scale does the same).  Asserts: no record failed, every record present
# where its report says, per-key order, the kept batches follow a broker's
# sequence rules, duplicates only as byte-identical whole batches, and
# every scale finished (each slot with its target owner).  Runs against
# the real Apache Kafka cluster with the default 5 requests in flight: a
# slot's new owner continues its sequences, which the broker checks.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=24
FAULT_COUNT=100000
FAULT_RATE=15000 # about 7 s of sending, so every change lands mid-run
topic=scale-$$
name="scale-$$"
conf=$TEST_TMP/chute.conf

write_conf() { # write_conf WORKERS
    printf 'bootstrap.servers=%s\nname=%s\nworkers=%s\n' \
        "$BOOTSTRAP" "$name" "$1" > "$conf"
    printf 'compression.codec=lz4\n' >> "$conf"
}

scaled_to() { # scaled_to N: the supervisor logged that scaling to N is done
    grep -c "scaled to $1 workers" "$TEST_TMP/chuted.log"
}

use_kafka
kafka_topic "$topic" $PARTS
write_conf 2
"$BUILD/bin/chuted" -c "$conf" 2>>"$TEST_TMP/chuted.log" &
SUP=$!
FAULT_NAME=$name
track_pid $SUP
wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "chuted did not come up"
fault_start_clients "$name" "$topic"
for n in 4 1 3; do
    before=$(scaled_to $n)
    write_conf $n
    kill -HUP $SUP
    wait_until 30 sh -c "[ \$(grep -c 'scaled to $n workers' $TEST_TMP/chuted.log) -gt $before ]" ||
        fail "scaling to $n did not finish"
    echo "scale: $n workers"
    sleep 1
done
fault_clients_running || fail "the clients finished before the last scale"
fault_wait_clients 120
echo "scale: clients took $CLIENTS_SECS s"
fault_check "$topic" $PARTS none
chuted_stop
