#!/bin/bash
# Runs every integration test script (tests/integration/test_*.sh) with the
# build directory as $1; fails if any fails.  TESTS="a b" runs a subset.
#
# When any selected test uses real Apache Kafka (use_kafka in lib.sh), one
# cluster (scripts/kafka.sh, KAFKA_VERSION) is started for the whole run in
# BUILD/kafka and stopped at the end; each test makes its own topics.  After
# each test the cluster must be whole again, else the run stops.
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/tests/integration
failed=0
total=0

selected=()
for t in "$dir"/test_*.sh; do
    name=$(basename "$t" .sh)
    if [ -n "$TESTS" ] && ! echo " $TESTS " | grep -q " $name "; then
        continue
    fi
    selected+=("$t")
done

if grep -lq '^[^#]*use_kafka' "${selected[@]}" 2>/dev/null; then
    export KAFKA_DIR=$top/$build/kafka
    [ "${build#/}" != "$build" ] && KAFKA_DIR=$build/kafka
    "$top/scripts/kafka.sh" stop 2>/dev/null
    echo "== starting Apache Kafka ${KAFKA_VERSION:-4.1.1} in $KAFKA_DIR"
    "$top/scripts/kafka.sh" start || { echo "integration: could not start Apache Kafka"; exit 1; }
    trap '"$top/scripts/kafka.sh" stop' EXIT
fi

for t in "${selected[@]}"; do
    name=$(basename "$t" .sh)
    total=$((total + 1))
    echo "== $name"
    start=$(date +%s)
    if bash "$t" "$build"; then
        echo "ok: $name ($(( $(date +%s) - start )) s)"
    else
        echo "FAILED: $name"
        failed=$((failed + 1))
    fi
    if [ -n "${KAFKA_DIR:-}" ] && ! "$top/scripts/kafka.sh" status >/dev/null; then
        "$top/scripts/kafka.sh" status
        echo "integration: $name left the Kafka cluster broken; stopping the run"
        failed=$((failed + 1))
        break
    fi
done
echo "integration: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
