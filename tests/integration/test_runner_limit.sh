#!/bin/bash
# The runner's own bound (tests/run-integration.sh, TEST_TIMEOUT): a test
# stuck in a wait nobody bounded fails at the limit, what it started is
# stopped, and the next test still runs.  Runs the runner on a folder of
# two small tests: the first starts a mock and then waits on a command
# that would take 10 minutes, the second passes.
. "$(dirname "$0")/lib.sh" "$1"
here=$(cd "$(dirname "$0")" && pwd)
dir=$TEST_TMP/tests
mkdir "$dir"

cat >"$dir/test_a_stuck.sh" <<EOF_STUCK
. "$here/lib.sh" "\$1"
start_mock 1 "stuck:1"
echo "\$MOCK_PID" >"$TEST_TMP/stuck.mock"
sleep 600
EOF_STUCK
cat >"$dir/test_b_next.sh" <<EOF_NEXT
echo ran >"$TEST_TMP/next.ran"
EOF_NEXT

t0=$SECONDS
rc=0
# Not the run's cluster: these tests use none, and the inner runner checks
# no cluster after each; and every test of the folder.
env -u KAFKA_DIR -u TESTS TEST_DIR="$dir" TEST_TIMEOUT=3 \
    timeout 60 "$here/../run-integration.sh" "$BUILD" >"$TEST_TMP/run.out" 2>&1 ||
    rc=$?
secs=$((SECONDS - t0))
out=$(cat "$TEST_TMP/run.out")
[ "$rc" -ne 124 ] || fail "the runner itself hung: $out"
[ "$rc" -ne 0 ] || fail "the run passed although a test was stuck: $out"
grep -q "FAILED: test_a_stuck (still running after 3 s: killed)" <<<"$out" ||
    fail "the stuck test was not failed at the limit: $out"
grep -q "ok: test_b_next" <<<"$out" && [ -s "$TEST_TMP/next.ran" ] ||
    fail "the test after the stuck one did not run: $out"
grep -q "integration: 1 passed, 1 failed" <<<"$out" ||
    fail "the summary is wrong: $out"
[ "$secs" -le 30 ] || fail "the stuck test took $secs s to end (limit 3 s)"
mock=$(cat "$TEST_TMP/stuck.mock")
[ -n "$mock" ] || fail "the stuck test started no mock: $out"
wait_until 5 sh -c "! kill -0 $mock 2>/dev/null" ||
    fail "the stuck test's mock (pid $mock) still runs after its test was killed"
echo "runner: a stuck test failed after $secs s (limit 3 s), its mock stopped, the next test ran"
