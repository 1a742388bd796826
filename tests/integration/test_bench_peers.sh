#!/bin/bash
# chute-bench with all four producers (chute, librdkafka, Kafka's Java
# producer, kafka-python) into one topic of a real Apache Kafka cluster:
# each producer's line reports every record sent and none failed, kafka-
# python's says it runs without idempotence, a ratio line to chute follows
# for each other producer, and the topic then holds exactly what they sent,
# the Java and Python programs' warm-up records included (read back with
# librdkafka's consumer, check.crcs=true).  No timing is checked.  Builds
# the Java program (make java-bench, Maven Central) if it is missing.
. "$(dirname "$0")/lib.sh" "$1"
top=$(cd "$(dirname "$0")/../.." && pwd)
RECORDS=20000
PY_RECORDS=2000
WARMUP=1000
name="bench-peers-$$"
topic="bench-peers-$$"

if ! [ -f "$BUILD/java-bench/chute-java-bench.jar" ]; then
    timeout 600 make -C "$top" --no-print-directory BUILD="$BUILD" \
        java-bench >"$TEST_TMP/java-bench.log" 2>&1 ||
        { cat "$TEST_TMP/java-bench.log" >&2; fail "make java-bench failed"; }
fi

use_kafka
kafka_topic "$topic" 6
chuted_start "$name" -X workers=2 -X compression.codec=lz4

timeout 600 "$BUILD/bin/chute-bench" -b "$BOOTSTRAP" -n "$name" -t "$topic" \
    -N $RECORDS -N kafka-python=$PY_RECORDS --warmup $WARMUP --only all \
    >"$TEST_TMP/bench.out" 2>"$TEST_TMP/bench.err" ||
    { cat "$TEST_TMP/bench.out" "$TEST_TMP/bench.err" >&2; fail "chute-bench failed"; }
cat "$TEST_TMP/bench.out"

# expect_line PRODUCER KEY=VALUE...: its line holds every KEY=VALUE.
expect_line() {
    local line kv
    line=$(grep "^producer=$1 " "$TEST_TMP/bench.out") || fail "no line for $1"
    shift
    for kv in "$@"; do
        case " $line " in
        *" $kv "*) ;;
        *) fail "'$kv' not in: $line" ;;
        esac
    done
}

expect_line chute records=$RECORDS failed=0 warmup=0
expect_line librdkafka records=$RECORDS failed=0 warmup=0
expect_line java records=$RECORDS failed=0 warmup=$WARMUP idempotence=yes
expect_line kafka-python records=$PY_RECORDS failed=0 warmup=$WARMUP \
    idempotence=no
[ "$(grep -c '^ratio chute/' "$TEST_TMP/bench.out")" -eq 3 ] ||
    fail "expected 3 ratio lines"

expected=$((3 * RECORDS + PY_RECORDS + 2 * WARMUP))
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" -e $expected -T 120 \
    -o "$TEST_TMP/topic.dump" || fail "kverify failed"
got=$(wc -l <"$TEST_TMP/topic.dump")
[ "$got" -eq $expected ] || fail "the topic holds $got records, not $expected"
chuted_stop
echo "bench peers: 4 producers, $expected records in the topic"
