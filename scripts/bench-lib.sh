# bench-lib.sh: what the benchmark scripts share; source it after
# `set -euo pipefail`.
#
#   bench_setup BUILD        sets top, build (absolute), kafka (kafka.sh),
#                            KAFKA_DIR (default BUILD/bench-kafka); at exit,
#                            stops chuted, the mock and the Kafka cluster
#   bench_kafka              starts a one-broker Kafka; sets bootstrap
#   bench_mock LOG ARGS...   starts the bundled mock cluster (chute-mock
#                            ARGS, stderr to LOG), waits for its bootstrap
#                            list (10 s at most); sets bootstrap
#   bench_chuted NAME LOG [ARGS...]
#                            starts chuted on it (stderr appended to LOG),
#                            waits until it answers; sets sup
#   bench_chuted_stop        SIGTERM, wait for its exit (30 s, then SIGKILL)

bench_setup() {
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    build=$(cd "$1" && pwd)
    export KAFKA_DIR=${KAFKA_DIR:-$build/bench-kafka}
    kafka="$top/scripts/kafka.sh"
    sup=
    mock=
    kafka_started=
    trap bench_cleanup EXIT
}

# bench_stop PID: SIGTERM, up to 30 s for it to exit, then SIGKILL.
bench_stop() {
    local pid=$1 i=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    [ -n "$sup" ] && bench_stop "$sup"
    [ -n "$mock" ] && bench_stop "$mock"
    [ -n "$kafka_started" ] && "$kafka" stop >/dev/null 2>&1
    return 0
}

bench_kafka() {
    kafka_started=1
    "$kafka" start -b 1 >/dev/null
    bootstrap=$("$kafka" bootstrap)
}

bench_mock() {
    local log=$1 out
    shift
    out=$(mktemp "${TMPDIR:-/tmp}/chute-mock.XXXXXX")
    # EOF on stdin only stops the mock reading commands.
    "$build/bin/chute-mock" "$@" </dev/null >"$out" 2>>"$log" &
    mock=$!
    for _ in $(seq 100); do
        bootstrap=$(head -n 1 "$out")
        case $bootstrap in *:[0-9]*) rm -f "$out"; return 0 ;; esac
        kill -0 "$mock" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$out"
    echo "chute-mock did not print its bootstrap list (log: $log)" >&2
    exit 1
}

bench_chuted() {
    local name=$1 log=$2
    shift 2
    "$build/bin/chuted" -X bootstrap.servers="$bootstrap" -X name="$name" \
        "$@" 2>>"$log" &
    sup=$!
    for _ in $(seq 100); do
        "$build/bin/chutectl" -n "$name" status >/dev/null 2>&1 && return 0
        kill -0 "$sup" || { echo "chuted died (log: $log)" >&2; exit 1; }
        sleep 0.1
    done
    echo "chuted did not come up (log: $log)" >&2
    exit 1
}

bench_chuted_stop() {
    bench_stop "$sup"
    sup=
}
