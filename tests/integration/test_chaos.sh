#!/bin/bash
# Chaos: a real 3-broker Apache Kafka cluster (5 requests in flight, the
# broker checks CRCs and sequences), chuted with 3 workers, 4 clients each sending
# 250,000 keyed records that carry (client, key, sequence).  Meanwhile a
# random worker gets SIGKILL every 100 to 300 ms (at least 15 times), one
# client is killed mid-run (it writes the index of its last accepted send
# to a side file after each chute_send()), and the supervisor is killed
# and started again once.  Asserts, from an independent batch-level read:
# every record chute_send() accepted is present (the killed client's up to
# its last accepted send), per-key order holds, the kept batches follow a
# broker's sequence rules, and every duplicate is a whole byte-identical
# batch.  Prints records, kills, duplicate batches and unblocked slots.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
PARTS=48
FAULT_COUNT=250000
FAULT_KEYS=1000
FAULT_MAXPAD=8
FAULT_REPEATS_OK=1
KILLS_MIN=15
KILLS_MAX=30  # then let the clients finish: workers that are killed faster
              # than they restart (backoff up to 1 s) barely move
VICTIM=3
topic=chaos-$$
name="chaos-$$"
settings=(workers=3 compression.codec=lz4)

use_kafka
kafka_topic "$topic" $PARTS
fault_start_chuted "$name" "${settings[@]}"
FAULT_ACCEPTED_DIR=$TEST_TMP
fault_start_clients "$name" "$topic"
victim_pid=$(echo $CLIENT_PIDS | awk -v v=$((VICTIM + 1)) '{ print $v }')

worker_pids() {
    "$BUILD/bin/chutectl" -n "$name" status 2>/dev/null |
        awk 'NR > 1 && $1 ~ /^[0-9]+$/ && $2 > 0 { print $2 } /^$/ { exit }'
}

kills=0 loops=0 client_killed=0 sup_killed=0
while [ $kills -lt $KILLS_MIN ] || fault_clients_running; do
    loops=$((loops + 1))
    pids=($(worker_pids))
    if [ ${#pids[@]} -gt 0 ] && [ $kills -lt $KILLS_MAX ]; then
        kill -KILL "${pids[$((RANDOM % ${#pids[@]}))]}" 2>/dev/null &&
            kills=$((kills + 1))
    fi
    if [ $loops -eq 4 ]; then
        kill -KILL "$victim_pid" && client_killed=1
    fi
    if [ $loops -eq 8 ]; then
        kill -KILL "$SUP"
        wait "$SUP" 2>/dev/null || true
        sleep 0.3
        fault_start_chuted "$name" "${settings[@]}"
        sup_killed=1
    fi
    sleep 0.$((RANDOM % 3 + 1))
    [ $loops -lt 400 ] || break
done
fault_wait_clients 240
[ $client_killed = 1 ] && [ $sup_killed = 1 ] || fail "a planned kill did not happen"
[ $kills -ge $KILLS_MIN ] || fail "only $kills worker kills"
last=$(od -An -td8 -N8 "$TEST_TMP/accepted.$VICTIM" | tr -d ' ')
echo "chaos: $kills worker kills, client $VICTIM killed after record $last," \
    "supervisor killed once; clients took $CLIENTS_SECS s"
FAULT_CHECK_ARGS=(--killed "$VICTIM:$last")
fault_check "$topic" $PARTS none
unblocked=$("$BUILD/bin/chutectl" -n "$name" status |
    awk '$1 == "SLOT" { on = 1; next } on && NF == 9 { s += $8 } END { print s + 0 }')
echo "chaos: unblocked slots (dead writers skipped): $unblocked"
chuted_stop
