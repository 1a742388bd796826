#!/bin/bash
# bench-latency.sh BUILD RESULTS_FILE: issue 14's latency, idle and memory
# figures, against the bundled mock cluster (3 brokers, topic bench with 12
# partitions) and chuted with lz4.  Sections, each appended to RESULTS_FILE
# (with the command that made it) and echoed:
#   end-to-end latency, chute beside librdkafka, linger.ms 0 and 5
#       (chuted restarted with each; chute-bench --latency)
#   wake latency of a sleeping worker (chute-bench --wake)
#   idle cost: CPU idle, after a burst, at 1 record/ms (chute-bench --idle)
#   memory: chutectl status's memory lines and --json memory
#   soak: chute-bench --soak $SOAK_S (default 60)
# Environment: SOAK_S, LAT_SECS (paced span of --latency, 3), WAKE_N
# (records of --wake, 300), IDLE_S (10).  scripts/bench.sh runs it for
# `make bench`.  chute-bench's stderr goes to RESULTS_FILE less .txt with
# -latency.log; a failed section says FAILED in RESULTS_FILE and the
# others still run, then it exits 1.  Whatever it started is
# stopped on any exit.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench-latency.sh BUILD RESULTS_FILE" >&2; exit 2; }
. "$(dirname "$0")/bench-lib.sh"
build=$(cd "$1" && pwd)
results=$2
SOAK_S=${SOAK_S:-60}
LAT_SECS=${LAT_SECS:-3}
WAKE_N=${WAKE_N:-300}
IDLE_S=${IDLE_S:-10}
name="bench-lat-$$"
bin=$build/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-latency.XXXXXX")
log=${results%.txt}-latency.log
failures=0
sup=
mock=

cleanup() {
    local rc=$?
    trap - EXIT
    [ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null && wait "$sup" || true
    [ -n "$mock" ] && kill -TERM "$mock" 2>/dev/null && wait "$mock" || true
    if [ "$rc" -ne 0 ]; then
        for f in chuted.log mock.err; do
            [ -s "$tmp/$f" ] && { echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2; }
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT

for p in chuted chutectl chute-bench chute-mock; do
    [ -x "$bin/$p" ] || { echo "no $bin/$p: run make first" >&2; exit 1; }
done

# The mock reads fault commands from stdin: a fifo held open here.
mkfifo "$tmp/mock.in"
exec {mock_in}<>"$tmp/mock.in"
"$bin/chute-mock" -B 3 -T bench:12 <"$tmp/mock.in" >"$tmp/mock.out" \
    2>"$tmp/mock.err" &
mock=$!
for _ in $(seq 100); do
    [ -s "$tmp/mock.out" ] && break
    kill -0 "$mock" || { echo "chute-mock died" >&2; exit 1; }
    sleep 0.1
done
bootstrap=$(head -n 1 "$tmp/mock.out")
case $bootstrap in *:[0-9]*) ;; *) echo "chute-mock printed no bootstrap list" >&2; exit 1 ;; esac

say() { printf '%s\n' "$*" | tee -a "$results"; }

# section TITLE CMD...: a heading, the command as a user would type it
# (programs by name, bootstrap list and instance as BOOTSTRAP and NAME),
# then its output; stderr goes to $log.  A section that fails says so and
# the next one runs; the script then exits 1.
section() {
    local title=$1 shown rc=0
    shift
    shown=$(printf '%s ' "$@" | sed -e "s|$bin/||g" -e "s|$name|NAME|g" \
        -e "s|$bootstrap|BOOTSTRAP|g" \
        -e 's|^run_bench |chute-bench -n NAME -t bench |' \
        -e "s|^memory_lines |chutectl -n NAME status \\| grep '^memory'|" \
        -e 's|^memory_json |chutectl -n NAME --json status (memory, workers[].rss_bytes)|')
    say ""
    say "== $title"
    say "\$ $shown"
    "$@" 2>>"$log" | tee -a "$results" || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "FAILED (exit $rc; see $log)"
        failures=$((failures + 1))
    fi
    return 0
}

# chuted_linger MS: (re)starts chuted with lz4 and that linger.ms.
chuted_linger() {
    [ -n "$sup" ] && bench_chuted_stop
[ "$failures" -eq 0 ]
    bench_chuted "$name" "$tmp/chuted.log" -X compression.codec=lz4 \
        -X linger.ms="$1"
}

run_bench() { "$bin/chute-bench" -n "$name" -t bench "$@"; }
memory_lines() { "$bin/chutectl" -n "$name" status | grep '^memory'; }
memory_json() {
    "$bin/chutectl" -n "$name" --json status | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
print(json.dumps(st["memory"]))
print(json.dumps({"worker%d_rss_bytes" % w["index"]: w["rss_bytes"]
                  for w in st["workers"]}))'
}

say ""
say "== scripts/bench-latency.sh: mock cluster (3 brokers, topic bench:12), chuted -X compression.codec=lz4, 100 B keyed records (1000 keys)"
for linger in 0 5; do
    chuted_linger "$linger"
    section "end-to-end latency, linger.ms $linger (chuted -X linger.ms=$linger)" \
        run_bench -b "$bootstrap" --latency --linger "$linger" --secs "$LAT_SECS"
done
section "wake latency: one record every 2-20 ms" run_bench --wake "$WAKE_N"
section "idle cost: CPU of supervisor and workers" run_bench --idle "$IDLE_S"
section "memory: chutectl status (its memory lines)" memory_lines
section "memory: chutectl --json status (memory, and each worker's rss_bytes)" \
    memory_json
section "soak: $SOAK_S s at a quarter of the peak" run_bench --soak "$SOAK_S"
section "memory after the soak: chutectl status" memory_lines
bench_chuted_stop
[ "$failures" -eq 0 ]
