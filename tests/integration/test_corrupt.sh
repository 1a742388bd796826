#!/bin/bash
# Hostile shared memory: while clients send, another process writes
# committed records full of random bytes into the ring their partitions use
# (tests/tools/ringpoke garbage).  The worker must skip them with a
# counter, never crash or hang, and deliver every real record.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
N=30000
start_mock 1 "corrupt:2"
name="corrupt-$$"
chuted_start "$name" -X workers=1
"$BUILD/tests/sendload" -n "$name" -t corrupt -c 0 -N $N -k 50 -s 16 \
    >/dev/null &
client=$!
for i in $(seq 1 20); do
    "$BUILD/tests/ringpoke" -n "$name" -t corrupt -p $((i % 2)) garbage 65536 ||
        fail "ringpoke garbage failed"
done
wait $client || fail "the client failed or was charged for garbage"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t corrupt -e $N -o "$TEST_TMP/dump" ||
    fail "kverify failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump" --clients 1 \
    --count $N --keys 50 --maxpad 16 --partitions 2 || fail "topic check failed"
status=$("$BUILD/bin/chutectl" -n "$name" status)
restarts=$(echo "$status" | awk 'NR == 2 { print $4 }')
[ "$restarts" = 0 ] || fail "the worker restarted $restarts times"
grep -q "invalid record" "$TEST_TMP/chuted.log" || fail "no invalid record logged"
echo "corrupt: 20 x 64 KiB of garbage skipped, $N real records delivered"
chuted_stop
