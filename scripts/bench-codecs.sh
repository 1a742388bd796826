#!/bin/bash
# bench-codecs.sh BUILD [RECORDS] [RUNS]: chute-bench for every codec at
# 100 B and 1 KiB records, chute against librdkafka in the same run, on a
# one-broker Apache Kafka started for it (KAFKA_DIR, default
# BUILD/bench-kafka).  Prints chute-bench's median lines per case.
# Figures from a shared machine: read the ratios, not the absolute rates.
set -euo pipefail
build=${1:?usage: bench-codecs.sh BUILD [RECORDS] [RUNS]}
records=${2:-200000}
runs=${3:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
export KAFKA_DIR=${KAFKA_DIR:-$build/bench-kafka}
kafka="$top/scripts/kafka.sh"
name="bench-codecs-$$"
sup=

cleanup() {
    [ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null && wait "$sup" || true
    "$kafka" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$kafka" start -b 1 >/dev/null
bootstrap=$("$kafka" bootstrap)
for codec in none gzip snappy lz4 zstd; do
    for size in 100 1024; do
        topic="codec-$codec-$size"
        "$kafka" topic "$topic" 12 1 >/dev/null
        "$build/bin/chuted" -X bootstrap.servers="$bootstrap" \
            -X name="$name" -X compression.codec="$codec" \
            2>>"$build/bench-codecs-chuted.log" &
        sup=$!
        for _ in $(seq 100); do
            "$build/bin/chutectl" -n "$name" status >/dev/null 2>&1 && break
            kill -0 "$sup" || { echo "chuted died" >&2; exit 1; }
            sleep 0.1
        done
        echo "== codec=$codec size=$size"
        "$build/bin/chute-bench" -b "$bootstrap" -n "$name" -t "$topic" \
            -N "$records" -S "$size" -r "$runs" --codec "$codec" |
            grep '^median'
        kill -TERM "$sup"
        wait "$sup"
        sup=
    done
done
