#!/bin/bash
# A hostile client moves a live ring's tail far past its head, a position
# no claim makes: head + 2^62 (once made the worker spin forever, heartbeat
# stopped) and head + 2^40 (once made it zero memory past the ring and
# crash, and every replacement with it).  The worker must keep its
# heartbeat and never restart, skip the rest of that ring as corrupt, put
# the tail back so the slot takes records again, and keep the other slot
# flowing meanwhile.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
N=3000
start_mock 1 "victim:1" "bystander:1"
name="tail-$$"
chuted_start "$name" -X workers=1
lib_watch chuted "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"

# status_get EXPR: one value of `chutectl --json status`, s being the reply.
status_get() {
    "$BUILD/bin/chutectl" -n "$name" --json status |
        /usr/bin/python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}
victim_corrupt() { # the victim's slot is the only one with garbage
    status_get 'sum(x["corrupt_bytes"] for x in s["slots"])'
}

timeout 60 "$BUILD/tests/sendload" -n "$name" -t victim -c 0 -N $N -k 50 \
    -s 16 >/dev/null || fail "the first victim client failed"
pid0=$(status_get 's["workers"][0]["pid"]')
# A stuck worker ignores the SIGTERM its supervisor's death sends it.
on_cleanup "kill -KILL $pid0 2>/dev/null"
# The bystander sends all along (about 6 s), on another slot of the same
# worker.
timeout 90 "$BUILD/tests/sendload" -n "$name" -t bystander -c 0 -N 30000 \
    -k 50 -s 16 -r 5000 >/dev/null &
bystander=$!
track_pid $bystander
for bits in 62 40; do
    before=$(victim_corrupt)
    "$BUILD/tests/ringpoke" -n "$name" -t victim -p 0 tail $bits \
        >"$TEST_TMP/poke.out" || fail "ringpoke tail $bits failed"
    # For 4 s the worker must beat (tick 100 ms) and stay the same process.
    for i in $(seq 1 20); do
        sleep 0.2
        read -r pid beat restarts < <(status_get \
            '"%d %d %d" % tuple(s["workers"][0][k] for k in ("pid", "heartbeat_age_ms", "restarts"))')
        [ "$pid" = "$pid0" ] && [ "$restarts" = 0 ] ||
            fail "tail + 2^$bits: the worker restarted (pid $pid0 -> $pid, $restarts restarts)"
        [ "$beat" -lt 1000 ] ||
            fail "tail + 2^$bits: no heartbeat for $beat ms: the worker is stuck"
    done
    [ "$(victim_corrupt)" -gt "$before" ] ||
        fail "tail + 2^$bits: nothing counted as corrupt"
    echo "tail: $(cat "$TEST_TMP/poke.out") (+2^$bits): worker $pid0 kept beating"
done
grep -q "is not one a claim makes" "$TEST_TMP/chuted.log" ||
    fail "no error logged for the hostile tail"
# The slot takes records again: a new client's all arrive.
timeout 60 "$BUILD/tests/sendload" -n "$name" -t victim -c 1 -N $N -k 50 \
    -s 16 >/dev/null || fail "the victim slot takes no records after the repair"
wait $bystander || fail "the bystander client failed or was held up"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t victim -e $((2 * N)) \
    -o "$TEST_TMP/victim" || fail "kverify victim failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/victim" --clients 2 \
    --count $N --keys 50 --maxpad 16 --partitions 1 || fail "victim check failed"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t bystander -e 30000 \
    -o "$TEST_TMP/bystander" || fail "kverify bystander failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/bystander" --clients 1 \
    --count 30000 --keys 50 --maxpad 16 --partitions 1 ||
    fail "bystander check failed"
echo "tail: both hostile tails repaired; $((2 * N)) victim and 30000 bystander records delivered"
lib_unwatch chuted
chuted_stop
