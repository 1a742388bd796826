#!/bin/bash
# A stuck worker is replaced: while 2 clients send, worker 0 gets SIGSTOP
# (its loop stops, and with it its heartbeat).  With
# worker.heartbeat.timeout.ms=1000 the supervisor must SIGKILL it and start
# a replacement within a few seconds, which takes over its slots.  Every
# record arrives, in per-key order, none failed; the batches the stopped
# worker had in flight may be written twice, as whole byte-identical
# copies (the mock does not drop an idempotent resend, a broker would).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
FAULT_CLIENTS=2
FAULT_COUNT=10000
FAULT_RATE=2500
PARTS=4
topic=stuck
name="stuck-$$"
start_mock 1 "$topic:$PARTS"
fault_start_chuted "$name" workers=2 worker.heartbeat.timeout.ms=1000
lib_watch chuted "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"

worker0() { # worker0 EXPR: of worker 0 in `chutectl --json status`, as w
    "$BUILD/bin/chutectl" -n "$name" --json status | /usr/bin/python3 -c \
        "import json, sys; w = json.load(sys.stdin)['workers'][0]; print($1)"
}

fault_start_clients "$name" "$topic"
sleep 1
old=$(worker0 'w["pid"]')
[ "$old" -gt 0 ] || fail "worker 0 has no pid"
on_cleanup "kill -KILL $old 2>/dev/null"
kill -STOP "$old"
t0=${EPOCHREALTIME/./}
replaced() {
    [ "$(worker0 "w['pid'] not in (0, $old) and w['restarts'] == 1")" = True ]
}
gone() { ! kill -0 "$old" 2>/dev/null; }
wait_until 6 replaced || fail "the stopped worker $old was not replaced within 6 s"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
wait_until 2 gone || fail "the stopped worker $old still exists"
grep -q "worker 0 (pid $old): no heartbeat for" "$TEST_TMP/chuted.log" ||
    fail "no error logged for the stuck worker"
echo "stuck: worker 0 (pid $old) stopped; killed and replaced by pid $(worker0 'w["pid"]') after $ms ms"
fault_wait_clients 60
fault_check "$topic" $PARTS none
[ "$(worker0 'w["restarts"]')" = 1 ] ||
    fail "worker 0 restarted $(worker0 'w["restarts"]') times"
lib_unwatch chuted
chuted_stop
