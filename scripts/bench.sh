#!/bin/bash
# bench.sh BUILD: chute's standard benchmark set (`make bench`), on the
# bundled mock cluster (chute-mock -B 3 -T bench:12) and chuted with
# compression.codec=lz4, linger.ms=5, idempotence on (its default), 2
# workers (its default):
#
#   1. the work floor (chute-bench --floor) for 100 B and 1 KB records,
#      which every later run's floor_x then divides by (--floor-ns), and
#      its two-core variant (xcore_ns), which the targets quote beside it;
#   2. 100 B and 1 KB keyed records, one client, chute against librdkafka,
#      RUNS alternating runs, medians;
#   3. the scaling table: 1, 2, 4, 8 clients (librdkafka: as many producer
#      processes) with 1 and 2 workers (chutectl scale), then the issue 14
#      targets that section 2 answers, met or not;
#   4. when `make java-bench` built Kafka's Java producer (and JAVA is not
#      0): 100 B, one client, chute against librdkafka and the Java
#      producer on a one-broker Apache Kafka (scripts/kafka.sh; the Java
#      client never gets metadata from the mock), JAVA_RUNS runs;
#   5. scripts/bench-latency.sh BUILD RESULTS, when it is there.
#
# Everything goes to BUILD/bench/results-YYYYmmdd-HHMMSS.txt and to stdout;
# each section names the command that reproduces it.  Logs (chuted's, the
# mock's, chute-bench's) go to BUILD/bench/*-STAMP.log.  Environment:
# RECORDS (1000000) and RUNS (5) for section 2, RECORDS_1K (RECORDS / 2),
# SCALE_RECORDS (500000), SCALE_RUNS (3), SCALE_CLIENTS ("1 2 4 8"),
# SCALE_WORKERS ("1 2"), JAVA (1), JAVA_RECORDS (RECORDS / 2), JAVA_RUNS
# (3).  A section whose chute-bench fails says so and the
# script goes on; it then exits 1.  Figures from a shared machine: read the
# ratios and floor_x, not the absolute rates.
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:?usage: bench.sh BUILD}"

RECORDS=${RECORDS:-1000000}
RUNS=${RUNS:-5}
RECORDS_1K=${RECORDS_1K:-$((RECORDS / 2))}
SCALE_RECORDS=${SCALE_RECORDS:-500000}
SCALE_RUNS=${SCALE_RUNS:-3}
SCALE_CLIENTS=${SCALE_CLIENTS:-1 2 4 8}
SCALE_WORKERS=${SCALE_WORKERS:-1 2}
JAVA=${JAVA:-1}
JAVA_RECORDS=${JAVA_RECORDS:-$((RECORDS / 2))}
JAVA_RUNS=${JAVA_RUNS:-3}
jar="$build/java-bench/chute-java-bench.jar"
TOPIC=bench
PARTITIONS=12
CODEC=lz4
MOCK_ARGS=(-B 3 -T "$TOPIC:$PARTITIONS")
CHUTED_ARGS=(-X compression.codec=$CODEC -X linger.ms=5)
name="bench-$$"
stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$build/bench"
results="$build/bench/results-$stamp.txt"
log="$build/bench/bench-$stamp.log"
chuted_log="$build/bench/chuted-$stamp.log"
mock_log="$build/bench/mock-$stamp.log"
failures=0
last=$(mktemp)
r100=$(mktemp)
r1k=$(mktemp)
export CHUTE_RUN_DIR
CHUTE_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chute-bench-run.XXXXXX")
trap 'bench_cleanup; rm -rf "$CHUTE_RUN_DIR" "$last" "$r100" "$r1k"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in chuted chutectl chute-bench chute-mock; do
    [ -x "$build/bin/$p" ] || { echo "no $build/bin/$p: run make" >&2; exit 1; }
done

say() { printf '%s\n' "$*" | tee -a "$results"; }

# section TITLE COMMAND...: a heading, the command that reproduces it
# (bootstrap list and instance name as BOOTSTRAP and NAME), then its output
# (stdout, also left in $last; stderr to the log).
section() {
    local title=$1 rc=0 cmd
    shift
    cmd="$*"
    cmd=${cmd//$bootstrap/BOOTSTRAP}
    say ""
    say "== $title"
    say "\$ ${cmd//$name/NAME}"
    : >"$last"
    "$@" 2>>"$log" | tee -a "$results" "$last" || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "FAILED (exit $rc; see $log)"
        failures=$((failures + 1))
    fi
    return 0
}

header() {
    local commit
    commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$top" diff --quiet HEAD 2>/dev/null || commit="$commit (modified)"
    say "chute benchmark results"
    say "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    say "commit:   $commit"
    say "nproc:    $(nproc)"
    say "kernel:   $(uname -sr)"
    say "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    say "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the start)"
    say "cluster:  chute-mock ${MOCK_ARGS[*]} (librdkafka's mock, loopback)"
    say "chuted:   ${CHUTED_ARGS[*]} (idempotence on, workers 2: defaults)"
    say "peers:    librdkafka $(pkg-config --modversion rdkafka 2>/dev/null)," \
        "--codec $CODEC, linger.ms=5, acks=all, idempotence"
    say "workload: keyed (1000 keys), RECORDS=$RECORDS RUNS=$RUNS" \
        "RECORDS_1K=$RECORDS_1K SCALE_RECORDS=$SCALE_RECORDS" \
        "SCALE_RUNS=$SCALE_RUNS SCALE_CLIENTS='$SCALE_CLIENTS'" \
        "SCALE_WORKERS='$SCALE_WORKERS' JAVA=$JAVA" \
        "JAVA_RECORDS=$JAVA_RECORDS JAVA_RUNS=$JAVA_RUNS"
    say "setup:    $build/bin/chute-mock ${MOCK_ARGS[*]} &" \
        "$build/bin/chuted -X bootstrap.servers=BOOTSTRAP -X name=NAME" \
        "${CHUTED_ARGS[*]} &"
}

# pick FILE KIND KEY: KEY's value in the last line of FILE for KIND:
# chute or librdkafka (its producer line or median line), or ratio (the
# chute/librdkafka ratio line or its median); empty if there is none.
pick() {
    awk -v kind="$2" -v key="$3" '
        kind == "ratio" && /chute\/librdkafka/ &&
            ($1 == "ratio" || ($1 == "median" && $2 == "ratio")) { line = $0 }
        kind != "ratio" && ($1 == "producer=" kind ||
            ($1 == "median" && $2 == "producer=" kind)) { line = $0 }
        END {
            n = split(line, f, " ")
            for (i = 1; i <= n; i++)
                if (index(f[i], key "=") == 1) {
                    print substr(f[i], length(key) + 2)
                    exit
                }
        }' "$1"
}

# scale_row WORKERS CLIENTS: one chute-bench run; adds its table row.
scale_row() {
    local w=$1 c=$2
    section "scaling: $c client(s), $w worker(s)" \
        "${bench[@]}" -S 100 -N "$SCALE_RECORDS" -c "$c" -C "$c" -r "$SCALE_RUNS" \
        --only chute,rdkafka $floor100
    printf "%7s %7s %12.0f %10.1f %7s %13.0f %9.2f\n" "$c" "$w" \
        "$(pick "$last" chute rec_per_s)" \
        "$(pick "$last" chute cpu_ns_per_rec)" \
        "$(pick "$last" chute floor_x)" \
        "$(pick "$last" librdkafka rec_per_s)" \
        "$(pick "$last" ratio rec_per_s)" >>"$table" 2>/dev/null || true
}

# target WHAT VALUE le|ge LIMIT: one line of the targets section.
target() {
    local verdict="no figure"
    if [ -n "$2" ]; then
        verdict="not met"
        awk -v v="$2" -v op="$3" -v l="$4" \
            'BEGIN { exit !(op == "le" ? v <= l : v >= l) }' && verdict=met
    fi
    say "$(printf '%-48s %10s  %s' "$1" "${2:-?}" "$verdict")"
}

# The issue's throughput and CPU targets from the one-client sections.
targets() {
    say ""
    say "== issue 14 targets (medians of the one-client sections above;" \
        "latency, idle and memory: bench-latency.sh)"
    target "CPU per record <= 1.5x the floor, 100 B" \
        "$(pick "$r100" chute floor_x)" le 1.5
    target "CPU per record <= 1.5x the floor, 1 KB" \
        "$(pick "$r1k" chute floor_x)" le 1.5
    target "records/s >= 3x librdkafka's, 100 B" \
        "$(pick "$r100" ratio rec_per_s)" ge 3
    target "records/s >= 2x librdkafka's, 1 KB" \
        "$(pick "$r1k" ratio rec_per_s)" ge 2
    target "send p50 <= 40 ns, 100 B" "$(pick "$r100" chute send_ns_p50)" le 40
    say "  (the least a timed send takes here: two clock reads and two" \
        "CASes, from the floor's clock_ns and cas_ns: ${send_least:-?} ns)"
    target "send p99 <= 1000 ns, 100 B" \
        "$(pick "$r100" chute send_ns_p99)" le 1000
    say "for reference, CPU per record over librdkafka's (issue: ~0.25 at" \
        "100 B, ~0.35 at 1 KB): $(pick "$r100" ratio cpu_ns_per_rec)," \
        "$(pick "$r1k" ratio cpu_ns_per_rec)"
    say "and over the floor split across two cores (xcore_ns): 100 B" \
        "$(over "$(pick "$r100" chute cpu_ns_per_rec)" "$xcore100")," \
        "1 KB $(over "$(pick "$r1k" chute cpu_ns_per_rec)" "$xcore1k")"
}

# over A B: A / B to two places, or ? when either is missing or B is 0.
over() {
    awk -v a="$1" -v b="$2" \
        'BEGIN { if (a == "" || b + 0 == 0) print "?"; else printf "%.2f\n", a / b }'
}

scaling() {
    local w c
    table=$(mktemp)
    for w in $SCALE_WORKERS; do
        "$build/bin/chutectl" -n "$name" scale "$w" >>"$log" 2>&1 ||
            { say "chutectl scale $w failed"; failures=$((failures + 1)); continue; }
        for c in $SCALE_CLIENTS; do
            scale_row "$w" "$c"
        done
    done
    say ""
    say "== scaling table (100 B, lz4; medians of $SCALE_RUNS run(s); librdkafka: as many producer processes as clients)"
    say "\$ chutectl -n NAME scale W; chute-bench -b BOOTSTRAP -n NAME -t $TOPIC" \
        "--codec $CODEC -S 100 -N $SCALE_RECORDS -c C -C C -r $SCALE_RUNS" \
        "--only chute,rdkafka $floor100"
    say "x_rdkafka: chute's rec/s over librdkafka's, same run (the median of the runs' ratios)"
    say "clients workers    rec_per_s cpu_ns/rec floor_x rdk_rec_per_s x_rdkafka"
    tee -a "$results" <"$table"
    rm -f "$table"
}

header
bench_mock "$mock_log" "${MOCK_ARGS[@]}"
bench_chuted "$name" "$chuted_log" "${CHUTED_ARGS[@]}"
bench=("$build/bin/chute-bench" -b "$bootstrap" -n "$name" -t "$TOPIC"
       --codec $CODEC)

# The floor of each record size, measured once over the whole workload:
# every later run's floor_x is over it (--floor-ns), so that one results
# file has one floor per size.  Without it (the floor failed) each run
# measures its own.
floor_of() {
    sed -n 's/^producer=floor .* cpu_ns_per_rec=\([0-9.]*\)$/--floor-ns \1/p' "$last"
}
# The same floor with libchute's half and the worker's on two cores.
xcore_of() {
    sed -n 's/^producer=floor .* xcore_ns=\([0-9.]*\) .*$/\1/p' "$last"
}
# The least a measured chute_send() can take: the timestamp's clock read
# and the measurement's own, the claim's and the commit's CAS (from the
# floor's clock_ns and cas_ns), before any record is written.
send_least_of() {
    sed -n 's/^producer=floor .* clock_ns=\([0-9.]*\) cas_ns=\([0-9.]*\) .*$/\1 \2/p' \
        "$last" | awk '{ printf "%.1f\n", 2 * $1 + 2 * $2 }'
}
section "floor: 100 B records (one process, chute's own code, no IPC)" \
    "$build/bin/chute-bench" --floor -n "$name" -t "$TOPIC" --codec $CODEC \
    -S 100 -N "$RECORDS"
floor100=$(floor_of)
xcore100=$(xcore_of)
send_least=$(send_least_of)
section "floor: 1 KB records" \
    "$build/bin/chute-bench" --floor -n "$name" -t "$TOPIC" --codec $CODEC \
    -S 1000 -N "$RECORDS_1K"
floor1k=$(floor_of)
xcore1k=$(xcore_of)
# shellcheck disable=SC2086 # $floor100, $floor1k: an option and its value
section "100 B records, one client, $RUNS alternating runs" \
    "${bench[@]}" -S 100 -N "$RECORDS" -r "$RUNS" --only chute,rdkafka $floor100
cp "$last" "$r100"
# shellcheck disable=SC2086
section "1 KB records, one client, $RUNS alternating runs" \
    "${bench[@]}" -S 1000 -N "$RECORDS_1K" -r "$RUNS" --only chute,rdkafka \
    $floor1k
cp "$last" "$r1k"
scaling
targets

bench_chuted_stop
bench_stop "$mock"
mock=

# Kafka's Java producer, on Apache Kafka (the broker shares the cores).
java_section() {
    local err
    say ""
    say "== Apache Kafka, one broker (scripts/kafka.sh start -b 1; topic $TOPIC, $PARTITIONS partitions)"
    kafka_started=1 # from here on, the clean-up stops it
    if ! err=$("$kafka" start -b 1 2>&1 >/dev/null) ||
        ! bootstrap=$("$kafka" bootstrap) ||
        ! err=$("$kafka" topic "$TOPIC" "$PARTITIONS" 1 2>&1 >/dev/null); then
        say "FAILED: Apache Kafka did not start: $err"
        failures=$((failures + 1))
        return 0
    fi
    bench_chuted "$name" "$chuted_log" "${CHUTED_ARGS[@]}"
    section "100 B records, one client, against Apache Kafka with Kafka's Java producer, $JAVA_RUNS alternating runs" \
        "$build/bin/chute-bench" -b "$bootstrap" -n "$name" -t "$TOPIC" \
        --codec $CODEC -S 100 -N "$JAVA_RECORDS" -r "$JAVA_RUNS" \
        --only chute,rdkafka,java $floor100
    bench_chuted_stop
    "$kafka" stop >/dev/null 2>&1 || true
    kafka_started=
}
if [ "$JAVA" != 0 ] && [ -f "$jar" ]; then
    java_section
elif [ "$JAVA" != 0 ]; then
    say ""
    say "== Kafka's Java producer: no $jar (make java-bench), left out"
fi
latency="$top/scripts/bench-latency.sh"
if [ -x "$latency" ]; then
    say ""
    say "== latency, idle cost, memory: $latency BUILD RESULTS (its own sections follow)"
    "$latency" "$build" "$results" || {
        say "FAILED: bench-latency.sh exited $?"
        failures=$((failures + 1))
    }
fi
echo
echo "results: $results"
[ "$failures" -eq 0 ]
