# bench-lib.sh: what the benchmark scripts share; source it after
# `set -euo pipefail`.
#
#   bench_setup BUILD        sets top, build (absolute), kafka (kafka.sh),
#                            KAFKA_DIR (default BUILD/bench-kafka); at exit,
#                            stops chuted and the Kafka cluster
#   bench_kafka              starts a one-broker Kafka; sets bootstrap
#   bench_chuted NAME LOG [ARGS...]
#                            starts chuted on it (stderr appended to LOG),
#                            waits until it answers; sets sup
#   bench_chuted_stop        SIGTERM, wait for its exit

bench_setup() {
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    build=$(cd "$1" && pwd)
    export KAFKA_DIR=${KAFKA_DIR:-$build/bench-kafka}
    kafka="$top/scripts/kafka.sh"
    sup=
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null && wait "$sup" || true
    "$kafka" stop >/dev/null 2>&1 || true
}

bench_kafka() {
    "$kafka" start -b 1 >/dev/null
    bootstrap=$("$kafka" bootstrap)
}

bench_chuted() {
    local name=$1 log=$2
    shift 2
    "$build/bin/chuted" -X bootstrap.servers="$bootstrap" -X name="$name" \
        "$@" 2>>"$log" &
    sup=$!
    for _ in $(seq 100); do
        "$build/bin/chutectl" -n "$name" status >/dev/null 2>&1 && return 0
        kill -0 "$sup" || { echo "chuted died" >&2; exit 1; }
        sleep 0.1
    done
    echo "chuted did not come up" >&2
    exit 1
}

bench_chuted_stop() {
    kill -TERM "$sup"
    wait "$sup"
    sup=
}
