#!/bin/bash
# chute_send() makes no system call in steady state: a client sending
# 200,000 records in a tight loop may ring the worker's doorbell only when
# the worker went to sleep.  strace counts the client's system calls; the
# bound (1 per 20 records) is loose enough for a loaded machine and far
# below one call per record, which a send that always woke the worker
# would make.
. "$(dirname "$0")/lib.sh" "$1"
N=200000
command -v strace >/dev/null || fail "strace is not installed (make deps)"
start_mock 1 "nosys:4"
name="nosys-$$"
chuted_start "$name" -X workers=1
# Warm up: resolve the topic and let the worker connect.
"$BUILD/tests/sendload" -n "$name" -t nosys -c 1 -N 1000 >/dev/null ||
    fail "warm-up failed"
strace -f -qq -c -o "$TEST_TMP/strace.txt" \
    "$BUILD/tests/sendload" -n "$name" -t nosys -c 0 -N $N -k 100 -s 50 ||
    fail "sendload failed"
calls=$(awk '$NF == "sendto" { print $4 }' "$TEST_TMP/strace.txt")
calls=${calls:-0}
echo "nosyscall: $calls sendto calls for $N records"
[ "$calls" -lt $((N / 20)) ] || fail "$calls wake-ups for $N sends"
chuted_stop
