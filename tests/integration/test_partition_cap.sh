#!/bin/bash
# Partition counts are capped where metadata is parsed: a topic the
# cluster says has 20000 partitions (more than KAFKA_PARTITIONS_MAX, 16384,
# the sequence states an instance holds) is refused by name with the count
# when a client asks for it, and chuted and the other topics go on.
. "$(dirname "$0")/lib.sh" "$1"
start_mock 1 "huge:20000" "small:2"
name="cap-$$"
chuted_start "$name"
lib_watch chuted "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"
out=$(echo x | timeout 30 "$BUILD/bin/chute-cat" -n "$name" -t huge 2>&1) &&
    fail "a topic of 20000 partitions was taken: $out"
echo "$out" | grep -q 'topic "huge" has 20000 partitions, more than chute takes (16384)' ||
    fail "chute-cat said: $out"
seq 100 | timeout 30 "$BUILD/bin/chute-cat" -n "$name" -t small >/dev/null ||
    fail "the small topic failed after the refusal"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t small -e 100 -o "$TEST_TMP/dump" ||
    fail "kverify failed"
echo "partition_cap: $(echo "$out" | grep -o 'topic "huge".*'); 100 records to another topic"
lib_unwatch chuted
chuted_stop
