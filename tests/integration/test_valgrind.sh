#!/bin/bash
# valgrind (memcheck) over the service and a client: chuted with its
# workers, and a client sending 20,000 records with delivery reports.  Any
# memory error or definite leak fails the test.
. "$(dirname "$0")/lib.sh" "$1"
command -v valgrind >/dev/null || fail "valgrind is not installed (make deps)"
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --error-exitcode=9)
start_mock 3 "vg:4"
name="vg-$$"
"${VG[@]}" --log-file="$TEST_TMP/vg-chuted.%p" "$BUILD/bin/chuted" \
    -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
    -X compression.codec=lz4 2>"$TEST_TMP/chuted.log" &
sup=$!
track_pid $sup
wait_until 30 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "chuted did not come up under valgrind"
"${VG[@]}" "$BUILD/tests/sendload" -n "$name" -t vg -c 0 -N 20000 \
    -R "$TEST_TMP/reports" || fail "client failed under valgrind"
kill -TERM $sup
wait $sup || fail "chuted exited non-zero under valgrind"
if [ -n "$(cat "$TEST_TMP"/vg-chuted.* 2>/dev/null)" ]; then
    cat "$TEST_TMP"/vg-chuted.* >&2
    fail "valgrind reported errors in chuted or its workers"
fi
echo "valgrind: chuted, workers and client clean"
