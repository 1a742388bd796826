#!/bin/bash
# bench-ab.sh BUILD_A BUILD_B [RECORDS] [RUNS]: the same chute-bench case
# (100 B keyed records, no codec, chute against librdkafka) for two builds
# of chute, taking turns on one one-broker Apache Kafka, RUNS rounds of
# A then B.  Each build's chuted and chute-bench are its own.  Prints each
# round's median lines; compare the chute/librdkafka ratios of the two
# builds, not the absolute rates (a shared machine).
set -euo pipefail
a=${1:?usage: bench-ab.sh BUILD_A BUILD_B [RECORDS] [RUNS]}
b=${2:?usage: bench-ab.sh BUILD_A BUILD_B [RECORDS] [RUNS]}
records=${3:-300000}
rounds=${4:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
a=$(cd "$a" && pwd)
b=$(cd "$b" && pwd)
export KAFKA_DIR=${KAFKA_DIR:-$a/bench-ab-kafka}
kafka="$top/scripts/kafka.sh"
name="bench-ab-$$"
sup=

cleanup() {
    [ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null && wait "$sup" || true
    "$kafka" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$kafka" start -b 1 >/dev/null
bootstrap=$("$kafka" bootstrap)
"$kafka" topic bench-ab 12 1 >/dev/null
for round in $(seq "$rounds"); do
    for build in "$a" "$b"; do
        "$build/bin/chuted" -X bootstrap.servers="$bootstrap" -X name="$name" \
            2>>"$build/bench-ab-chuted.log" &
        sup=$!
        for _ in $(seq 100); do
            "$build/bin/chutectl" -n "$name" status >/dev/null 2>&1 && break
            kill -0 "$sup" || { echo "chuted died" >&2; exit 1; }
            sleep 0.1
        done
        echo "== round $round: $build"
        "$build/bin/chute-bench" -b "$bootstrap" -n "$name" -t bench-ab \
            -N "$records" -S 100 -r 1 | grep -E '^(producer|ratio)'
        kill -TERM "$sup"
        wait "$sup"
        sup=
    done
done
