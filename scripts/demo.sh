#!/bin/bash
# demo.sh BUILD_DIR [--kafka]: chute end to end on loopback.
#
# Starts the bundled mock Kafka cluster (3 brokers, topic "demo" with 6
# partitions) or, with --kafka, a real Apache Kafka cluster from
# scripts/kafka.sh (one controller, 3 brokers; the jars are fetched from
# Maven Central on first use), then chuted with 2 workers under the instance name "demo" (lz4),
# sends 100,000 keyed records through chute-cat, prints chutectl status, and
# then reads the topic back with two independent consumers (kverify, i.e.
# librdkafka with check.crcs=true, and kcat).  Stops chuted with SIGTERM
# (it drains and exits 0), then the cluster.  Everything it started is stopped
# and its scratch files removed on any exit; any failed step exits non-zero.
set -euo pipefail

BUILD=${1:-build}
MODE=${2:-mock}
case $MODE in mock | --kafka) ;; *) echo "usage: demo.sh BUILD_DIR [--kafka]" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=demo
TOPIC=demo
PARTS=6
RECORDS=100000

BIN=$BUILD/bin
KVERIFY=$BUILD/tests/kverify
TMP=""
MOCK_PID=""
CHUTED_PID=""

if [ -t 1 ]; then B=$'\033[1m' R=$'\033[31m' N=$'\033[0m'; else B="" R="" N=""; fi
section() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
die() {
    printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2
    exit 1
}

# stop PID: SIGTERM, up to 30 s, then SIGKILL (bench_stop).
. "$HERE/bench-lib.sh"
stop() { bench_stop "$1"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$CHUTED_PID" ] && stop "$CHUTED_PID"
    [ -n "$MOCK_PID" ] && stop "$MOCK_PID"
    [ -n "${KAFKA_DIR:-}" ] && "$HERE/kafka.sh" stop >/dev/null 2>&1
    if [ "$rc" -ne 0 ] && [ -n "$TMP" ]; then
        for f in chuted.log mock.err kafka.err; do
            [ -s "$TMP/$f" ] || continue
            echo "--- $f (last 20 lines)" >&2
            tail -n 20 "$TMP/$f" >&2
        done
        echo "demo: FAILED" >&2
    fi
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "demo: line $LINENO failed: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECS CMD...: retries CMD every 0.1 s.
wait_for() {
    local tenths=$(($1 * 10)) i=0
    shift
    until "$@"; do
        [ "$i" -ge "$tenths" ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# --- preflight ---------------------------------------------------------------
for p in chuted chutectl chute-cat chute-mock; do
    [ -x "$BIN/$p" ] || die "no $BIN/$p: run 'make' first"
done
[ -x "$KVERIFY" ] || die "no $KVERIFY: run 'make' first"
command -v kcat >/dev/null || die "kcat is not installed: run 'make deps' as root"
if "$BIN/chutectl" -n "$NAME" status >/dev/null 2>&1; then
    die "a chute instance named '$NAME' is already running"
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/chute-demo.XXXXXX")

# --- cluster -----------------------------------------------------------------
start_mock() {
    section "mock Kafka cluster: 3 brokers, topic '$TOPIC' with $PARTS partitions"
    # The mock reads fault commands from stdin: give it a fifo that this
    # shell holds open, so it never sees EOF and never gets our terminal.
    mkfifo "$TMP/mock.in"
    exec {MOCK_IN}<>"$TMP/mock.in"
    "$BIN/chute-mock" -B 3 -T "$TOPIC:$PARTS" <"$TMP/mock.in" \
        >"$TMP/mock.out" 2>"$TMP/mock.err" &
    MOCK_PID=$!
    wait_for 10 test -s "$TMP/mock.out" || die "chute-mock printed no bootstrap list"
    BS=$(head -n 1 "$TMP/mock.out")
    case $BS in *:[0-9]*) ;; *) die "chute-mock printed '$BS'" ;; esac
}

start_kafka() {
    section "Apache Kafka ${KAFKA_VERSION:-4.1.1}: 1 controller, 3 brokers, topic '$TOPIC' with $PARTS partitions"
    export KAFKA_DIR=$TMP/kafka
    BS=$("$HERE/kafka.sh" start 2>"$TMP/kafka.err") || die "Apache Kafka did not start"
    "$HERE/kafka.sh" topic "$TOPIC" "$PARTS" 2>>"$TMP/kafka.err" ||
        die "could not create topic $TOPIC"
}

if [ "$MODE" = --kafka ]; then start_kafka; else start_mock; fi
echo "bootstrap.servers=$BS"

# --- chuted ------------------------------------------------------------------
section "chuted: instance '$NAME', 2 workers, lz4"
"$BIN/chuted" -X bootstrap.servers="$BS" -X name="$NAME" -X workers=2 \
    -X compression.codec=lz4 2>"$TMP/chuted.log" &
CHUTED_PID=$!
wait_for 10 "$BIN/chutectl" -n "$NAME" status >/dev/null 2>&1 ||
    die "chuted did not come up"
echo "chuted pid $CHUTED_PID, log in $TMP/chuted.log while the demo runs"

# --- send ----------------------------------------------------------------------
section "chute-cat: $RECORDS records 'key-N:value N ...' with -K :"
start=$(date +%s%N)
seq 1 "$RECORDS" |
    awk '{ printf "key-%d:value %d of the chute demo\n", $1, $1 }' |
    "$BIN/chute-cat" -n "$NAME" -t "$TOPIC" -K : -H source=demo.sh
ms=$((($(date +%s%N) - start) / 1000000))
echo "sent and flushed in $ms ms"

# --- status --------------------------------------------------------------------
section "chutectl -n $NAME status"
"$BIN/chutectl" -n "$NAME" status

# --- read back: kverify ----------------------------------------------------------
section "read back with kverify (librdkafka consumer, check.crcs=true)"
"$KVERIFY" -b "$BS" -t "$TOPIC" -e "$RECORDS" -T 60 -o "$TMP/kverify.out"
echo "records per partition:"
cut -f1 "$TMP/kverify.out" | sort -n | uniq -c | awk '{ printf "  partition %s: %s\n", $2, $1 }'
total=$(wc -l <"$TMP/kverify.out")
unique=$(cut -f4 "$TMP/kverify.out" | sort -u | wc -l)
[ "$total" -eq "$RECORDS" ] || die "kverify read $total records, want $RECORDS"
[ "$unique" -eq "$RECORDS" ] || die "kverify read $unique distinct keys, want $RECORDS"
echo "total $total, $unique distinct keys: every record exactly once"

# --- read back: kcat -------------------------------------------------------------
section "read back with kcat"
echo "\$ kcat -b \$BS -C -t $TOPIC -e -q -f '%p\\n' | sort | uniq -c"
kcat -b "$BS" -C -t "$TOPIC" -e -q -f '%p\n' | sort | uniq -c | tee "$TMP/kcat.counts"
cut -f1 "$TMP/kverify.out" | sort | uniq -c | diff -u - "$TMP/kcat.counts" ||
    die "kcat and kverify disagree on the per-partition counts"
# One key per record, numbered in send order: in each partition the numbers
# must grow with the offset.
kcat -b "$BS" -C -t "$TOPIC" -e -q -f '%p %k\n' |
    awk '{ n = substr($2, 5) + 0
           if (n <= last[$1]) { print "partition " $1 ": key-" n \
                                " after key-" last[$1]; bad = 1 }
           last[$1] = n }
         END { exit bad }' || die "records out of send order"
echo "per-partition order matches the send order"
echo
echo "a few records (partition, offset, key, value, headers):"
kcat -b "$BS" -C -t "$TOPIC" -p 0 -o 0 -c 3 -e -q \
    -f '  p%p o%o  %k  "%s"  %h\n'
kcat -b "$BS" -C -t "$TOPIC" -p "$((PARTS - 1))" -o -2 -e -q \
    -f '  p%p o%o  %k  "%s"  %h\n'

# --- stop ------------------------------------------------------------------------
section "stop: SIGTERM to chuted (drains, exits 0), then the cluster"
kill -TERM "$CHUTED_PID"
rc=0
wait "$CHUTED_PID" || rc=$?
CHUTED_PID=""
[ "$rc" -eq 0 ] || die "chuted exited with $rc"
echo "chuted exited 0"
tail -n 3 "$TMP/chuted.log"
leftover=$(ls /dev/shm/chute."$NAME".* "${CHUTE_RUN_DIR:-/run/chute}/chute-$NAME".* 2>/dev/null || true)
[ -z "$leftover" ] || die "chuted left behind: $leftover"
if [ -n "$MOCK_PID" ]; then
    kill -TERM "$MOCK_PID"
    rc=0
    wait "$MOCK_PID" || rc=$?
    MOCK_PID=""
    exec {MOCK_IN}>&-
    [ "$rc" -eq 0 ] || die "chute-mock exited with $rc"
    echo "mock exited 0"
else
    "$HERE/kafka.sh" stop
    unset KAFKA_DIR
    echo "Apache Kafka stopped, its data removed"
fi

section "demo passed"
