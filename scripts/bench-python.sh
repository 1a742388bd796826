#!/bin/bash
# bench-python.sh BUILD [RECORDS] [RUNS]: chute's Python KafkaProducer
# against kafka-python (Debian's python3-kafka 2.0.2) and confluent-kafka-
# python (python3-confluent-kafka), 100 B keyed records, on a one-broker
# Apache Kafka it starts and stops (KAFKA_DIR, default BUILD/bench-kafka)
# and a chuted with its defaults.  It installs python/ into BUILD/pyenv (a
# venv of /usr/bin/python3 with the system's packages) first.  Prints every
# run and the medians (python/bench/bench_python.py).  kafka-python sends
# a third of RECORDS (it is that much slower).
# Figures from a shared machine: read the ratios, not the absolute rates.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:?usage: bench-python.sh BUILD [RECORDS] [RUNS]}"
records=${2:-300000}
runs=${3:-5}
name="bench-py-$$"
venv=$build/pyenv

if ! [ -x "$venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
CHUTE_BUILD=$build "$venv/bin/pip" install -q --no-build-isolation \
    "$top/python" >"$build/bench-python-pip.log" 2>&1 ||
    { cat "$build/bench-python-pip.log" >&2; exit 1; }

bench_kafka
"$kafka" topic bench-py 12 1 >/dev/null
bench_chuted "$name" "$build/bench-python-chuted.log"
"$venv/bin/python" "$top/python/bench/bench_python.py" \
    --bootstrap "$bootstrap" --topic bench-py --instance "$name" \
    --chuted-pid "$sup" -N "$records" \
    --kafka-python-records $((records / 3)) -r "$runs" \
    --python "$venv/bin/python"
