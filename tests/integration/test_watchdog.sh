#!/bin/bash
# The harness itself: a test whose mock or Kafka broker dies must fail
# within seconds, naming the dead process and printing its log tail, even
# while it waits on something that can never finish.  Runs a small inner
# test twice (mock killed; a broker of the run's cluster killed behind
# kafka.sh's back, then restarted) and checks how each ended.
. "$(dirname "$0")/lib.sh" "$1"
here=$(cd "$(dirname "$0")" && pwd)

inner=$TEST_TMP/inner.sh
cat >"$inner" <<'INNER'
. "$LIB_DIR/lib.sh" "$1"
case $2 in
mock)
    start_mock 1 "wd:1"
    echo "inner: mock $MOCK_PID up" >&2
    (sleep 1; kill -KILL "$MOCK_PID") &
    ;;
kafka)
    use_kafka
    victim=$(cat "$KAFKA_DIR/node-2/pid")
    (sleep 1; kill -KILL "$victim") &
    ;;
esac
# Something that would hang for a minute: the watchdog must end it.
sleep 60 &
wait $!
echo "inner: still here after 60 s" >&2
exit 0
INNER

# run_inner MODE: runs the inner test; sets RC, SECS and OUT.
run_inner() {
    local t0=$SECONDS
    RC=0
    LIB_DIR=$here timeout 50 bash "$inner" "$BUILD" "$1" >"$TEST_TMP/$1.out" 2>&1 || RC=$?
    SECS=$((SECONDS - t0))
    OUT=$(cat "$TEST_TMP/$1.out")
}

run_inner mock
[ "$RC" -ne 0 ] || fail "the inner test passed although its mock died: $OUT"
[ "$RC" -ne 124 ] || fail "the inner test hung after its mock died"
[ "$SECS" -le 10 ] || fail "the inner test took $SECS s to notice its mock died"
grep -q "chute-mock died" <<<"$OUT" || fail "no word of the dead mock: $OUT"
grep -q "chute-mock log" <<<"$OUT" || fail "no log tail of the dead mock: $OUT"
echo "watchdog: a dead mock failed the test in $SECS s"

use_kafka
lib_unwatch "a Kafka node" # this test kills a node: only the inner one watches
on_cleanup kafka_restore
run_inner kafka
[ "$RC" -ne 0 ] || fail "the inner test passed although a broker died: $OUT"
[ "$RC" -ne 124 ] || fail "the inner test hung after a broker died"
[ "$SECS" -le 10 ] || fail "the inner test took $SECS s to notice a dead broker"
grep -q "a Kafka node died" <<<"$OUT" || fail "no word of the dead broker: $OUT"
grep -q "node-2" <<<"$OUT" ||
    grep -qi "kafka" <<<"$(sed -n '/log (last/,$p' <<<"$OUT")" ||
    fail "no log tail of the dead broker: $OUT"
echo "watchdog: a dead broker failed the test in $SECS s"
# The broker died behind kafka.sh's back: bring it back for the next tests.
kafka start-broker 2 || fail "could not restart broker 2"
