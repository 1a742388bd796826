#!/bin/bash
# Fork: a client opens chute, resolves its topic and turns delivery reports
# on, then forks 3 children that use the inherited chute_t only after the
# parent has exited, while the parent itself sends as client 3 first.
# Each child must become a client of its own: its chute_flush waits for its
# records only and it gets exactly the reports of the records it sent
# (sendload checks: a report for another process's record fails it).  All
# 4 x 20,000 records are read back by librdkafka's consumer, once each, in
# per-key order, at the partition and offset their reports name, from the
# real Apache Kafka cluster.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
PER=20000
FORKS=3
use_kafka
topic="fork-$$"
kafka_topic "$topic" 6
name="fork-$$"
chuted_start "$name"
chuted_watch

"$BUILD/tests/sendload" -n "$name" -t "$topic" -c $FORKS -N $PER -k 300 \
    -s 64 -R "$TEST_TMP/r" -F $FORKS >"$TEST_TMP/parent.out" ||
    fail "the parent client failed: $(cat "$TEST_TMP/parent.out")"
children=$(awk '/^child/ {print $4}' "$TEST_TMP/parent.out")
[ "$(echo $children | wc -w)" -eq $FORKS ] || fail "not $FORKS children"
for pid in $children; do track_pid "$pid"; done

children_done() {
    for i in $(seq 0 $((FORKS - 1))); do
        [ -s "$TEST_TMP/r.$i.rc" ] && continue
        # A child that died without writing its status fails at once.
        pid=$(echo $children | cut -d' ' -f$((i + 1)))
        kill -0 "$pid" 2>/dev/null || fail "child $i (pid $pid) died"
        return 1
    done
}
wait_until 150 children_done || fail "the children did not finish"
for i in $(seq 0 $((FORKS - 1))); do
    [ "$(cat "$TEST_TMP/r.$i.rc")" = 0 ] || fail "child $i failed"
done
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -e $(((FORKS + 1) * PER)) \
    -o "$TEST_TMP/dump" || fail "kverify failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump" \
    --clients $((FORKS + 1)) --count $PER --keys 300 --maxpad 64 \
    --partitions 6 --reports "$TEST_TMP/r.0" "$TEST_TMP/r.1" "$TEST_TMP/r.2" \
    "$TEST_TMP/r" || fail "reports do not match the topic"
echo "fork: $FORKS children and the parent, $(((FORKS + 1) * PER)) records, each report its sender's"
chuted_stop
