#!/bin/bash
# bench-codecs.sh BUILD [RECORDS] [RUNS]: chute-bench for every codec at
# 100 B and 1 KiB records, chute against librdkafka in the same run, on a
# one-broker Apache Kafka started for it (KAFKA_DIR, default
# BUILD/bench-kafka).  Prints chute-bench's median lines per case.
# Figures from a shared machine: read the ratios, not the absolute rates.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:?usage: bench-codecs.sh BUILD [RECORDS] [RUNS]}"
records=${2:-200000}
runs=${3:-3}
name="bench-codecs-$$"

bench_kafka
for codec in none gzip snappy lz4 zstd; do
    for size in 100 1024; do
        topic="codec-$codec-$size"
        "$kafka" topic "$topic" 12 1 >/dev/null
        bench_chuted "$name" "$build/bench-codecs-chuted.log" \
            -X compression.codec="$codec"
        echo "== codec=$codec size=$size"
        "$build/bin/chute-bench" -b "$bootstrap" -n "$name" -t "$topic" \
            -N "$records" -S "$size" -r "$runs" --codec "$codec" |
            grep '^median'
        bench_chuted_stop
    done
done
