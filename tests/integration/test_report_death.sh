#!/bin/bash
# A worker killed in the middle of a span of delivery reports, while its
# client owes itself every report it may (reportfill: sends until
# CHUTE_ERR_QUEUE_FULL without polling, flushes, then polls once through).
# CHUTE_TEST_REPORT_DEATH kills the first worker that writes a span of two
# or more reports, in one of two places:
#   half      after committing the span's last half: the successor writes
#             the whole span again, while the dead worker's claims still
#             hold their room; the ring must have room for both (no report
#             lost), and the repeats must not count against what the
#             client owes (its second round takes as many records);
#   unmarked  after moving the tail, before marking its claims: the
#             client must read past them as soon as chute_flush() returns,
#             not a second later.
# On the real Apache Kafka cluster (the successor resends the batches: the
# broker de-duplicates them); librdkafka's consumer (kverify) then finds each
# round's records on the topic exactly once.
. "$(dirname "$0")/lib.sh" "$1"
use_kafka

for mode in half unmarked; do
    topic="report-death-$mode-$$"
    kafka_topic "$topic" 4
    name="rd-$mode-$$"
    died=$TEST_TMP/$mode.died
    CHUTE_TEST_REPORT_DEATH=$mode:$died chuted_start "$name" -X linger.ms=20
    rc=0
    timeout 120 "$BUILD/tests/reportfill" -n "$name" -t "$topic" -r 2 \
        >"$TEST_TMP/$mode.out" 2>&1 || rc=$?
    cat "$TEST_TMP/$mode.out"
    [ -e "$died" ] || fail "$mode: no worker died in a span of reports"
    grep -q "killed by signal 9" "$TEST_TMP/chuted.log" ||
        fail "$mode: the supervisor saw no worker killed"
    [ $rc -ne 124 ] || fail "$mode: reportfill hung"
    [ $rc -eq 0 ] || fail "$mode: reportfill failed ($rc)"
    repeated=$(sed -n 's/^reportfill round 1: .* repeated \([0-9]*\) .*/\1/p' \
        "$TEST_TMP/$mode.out")
    if [ "$mode" = half ]; then
        [ "${repeated:-0}" -gt 0 ] ||
            fail "half: the successor repeated no report of the dead span"
    fi
    sent=$(sed -n 's/^reportfill round [0-9]*: sent \([0-9]*\) .*/\1/p' \
        "$TEST_TMP/$mode.out" | awk '{ n += $1 } END { print n }')
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -e "$sent" \
        -o "$TEST_TMP/$mode.dump" || fail "$mode: kverify failed"
    # Each round's values are r0, r1, ...: every one twice (two rounds of
    # the same count), none more often.
    bad=$(cut -f5 "$TEST_TMP/$mode.dump" | sort | uniq -c |
        awk '$1 != 2 { n++ } END { print n + 0 }')
    lines=$(wc -l <"$TEST_TMP/$mode.dump")
    [ "$lines" -eq "$sent" ] ||
        fail "$mode: the topic holds $lines records, $sent were sent"
    [ "$bad" -eq 0 ] ||
        fail "$mode: $bad values are not on the topic once per round"
    echo "report-death: $mode: every report there after the flush," \
        "$repeated repeated; $sent records on the topic, each once"
    chuted_stop
done
