#!/bin/bash
# acks=0 and acks=1 without idempotence: every record arrives, in per-key
# order (the mock answers even acks=0; chute must not wait for that answer
# and must ignore it).
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
N=30000
start_mock 3 "acks0:6" "acks1:6"
for acks in 0 1; do
    name="acks$acks-$$"
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        -X acks=$acks -X enable.idempotence=false \
        2>"$TEST_TMP/chuted$acks.log" &
    sup=$!
    track_pid $sup
    wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted (acks=$acks) did not come up"
    "$BUILD/tests/sendload" -n "$name" -t acks$acks -c 0 -N $N -k 100 \
        -s 20 || fail "client failed (acks=$acks)"
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t acks$acks -e $N \
        -o "$TEST_TMP/dump$acks" || fail "kverify failed (acks=$acks)"
    /usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump$acks" \
        --clients 1 --count $N --keys 100 --maxpad 20 --partitions 6 ||
        fail "topic check failed (acks=$acks)"
    kill -TERM $sup
    wait $sup || fail "chuted (acks=$acks) did not exit 0"
done
