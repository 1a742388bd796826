#!/bin/bash
# Runs every integration test script (tests/integration/test_*.sh) with the
# build directory as $1; fails if any fails.  TESTS="a b" runs a subset.
#
# When any selected test uses real Apache Kafka (use_kafka in lib.sh), one
# cluster (scripts/kafka.sh, KAFKA_VERSION) is started for the whole run in
# BUILD/kafka and stopped at the end; each test makes its own topics.  After
# each test the cluster must be whole again, else the run stops.
#
# Every wait in a test has its own bound; TEST_TIMEOUT (seconds, 900) bounds
# each test as a whole besides, so that a wait left unbounded by mistake
# fails its test, and the rest still run.  A test runs in its own process
# group (timeout(1)): at the limit, or when the run is interrupted, the
# whole group gets SIGTERM (each test's trap stops what it started), and
# SIGKILL 30 s later.
build=${1:-build}
limit=${TEST_TIMEOUT:-900}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${TEST_DIR:-$top/tests/integration} # another folder: test_runner_limit
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

# run_test SCRIPT: runs one test under the limit; sets rc.  The test is
# not in the terminal's process group, so an interrupt reaches it from here.
test_pid=
interrupted=
trap 'interrupted=1; [ -z "$test_pid" ] || kill -TERM "$test_pid" 2>/dev/null' \
    INT TERM
run_test() {
    timeout -k 30 "$limit" bash "$1" "$build" </dev/null &
    test_pid=$!
    # wait returns early when a trapped signal arrives: wait again for the
    # test's own status.
    while :; do
        rc=0
        wait "$test_pid" || rc=$?
        kill -0 "$test_pid" 2>/dev/null || break
    done
    test_pid=
}

for t in "${selected[@]}"; do
    name=$(basename "$t" .sh)
    total=$((total + 1))
    echo "== $name"
    start=$(date +%s)
    run_test "$t"
    secs=$(( $(date +%s) - start ))
    if [ -n "$interrupted" ]; then
        echo "FAILED: $name (interrupted)"
        failed=$((failed + 1))
        break
    elif [ $rc -eq 0 ]; then
        echo "ok: $name ($secs s)"
    elif [ $secs -ge "$limit" ]; then
        echo "FAILED: $name (still running after $limit s: killed)"
        failed=$((failed + 1))
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
