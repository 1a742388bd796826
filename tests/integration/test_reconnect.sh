#!/bin/bash
# A broker that is down is retried with backoff and logged sparingly: the
# only broker of the mock goes down for 6 s while 2 workers hold records
# for it.  Each connection may log its first failure and then at most one
# warning every 5 s (the old fixed 100 ms schedule logged one per attempt,
# dozens); when the broker is back every record arrives, and the log says
# a connection came back after several failed attempts.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
FAULT_CLIENTS=1
FAULT_COUNT=5000
PARTS=4
topic=reconnect
name="rc-$$"
start_mock 1 "$topic:$PARTS" "warm:1"
fault_start_chuted "$name" workers=2
lib_watch chuted "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"
seq 10 | timeout 30 "$BUILD/bin/chute-cat" -n "$name" -t warm >/dev/null ||
    fail "the first records failed"
mock_cmd down 1 || fail "down: $MOCK_REPLY"
fault_start_clients "$name" "$topic"
sleep 6
warns=$(grep -c " WARN .*broker " "$TEST_TMP/chuted.log")
mock_cmd up 1 || fail "up: $MOCK_REPLY"
fault_wait_clients 60
# Per worker: its broker connection and its bootstrap connection, each a
# first warning and at most one more in 6 s.
[ "$warns" -ge 1 ] || fail "the broker being down was not logged"
[ "$warns" -le 8 ] || {
    grep " WARN .*broker " "$TEST_TMP/chuted.log" | head -20 >&2
    fail "$warns warnings in 6 s of a broker down"
}
grep -q "connected again after [0-9]* failed attempts" "$TEST_TMP/chuted.log" ||
    fail "no connection logged its return"
fault_check "$topic" $PARTS none
echo "reconnect: 6 s down: $warns warnings; $FAULT_COUNT records delivered after"
lib_unwatch chuted
chuted_stop
