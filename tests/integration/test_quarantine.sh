#!/bin/bash
# One slot's bad data never crash-loops the service.  chuted runs with the
# test hook CHUTE_TEST_POISON (worker/worker.c): a record holding
# POISON-PILL crashes (SIGSEGV) or hangs the worker that drains it.  After
# workers died twice in a row at that record (crashed, or killed for a
# heartbeat older than worker.heartbeat.timeout.ms), the supervisor must
# quarantine the slot's ring content: the poison record is charged as
# failed to the client that sent it (chute-cat reports "1 failed"), the
# worker restarts no more, the same slot takes and delivers records again,
# and the other slot delivers all its records meanwhile (duplicates only
# as whole batch copies the killed worker had in flight).
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/faultlib.sh"
here=$(dirname "$0")
FAULT_CLIENTS=1
FAULT_COUNT=10000
FAULT_RATE=2500
N=2000
start_mock 1 "pcrash:1" "ocrash:1" "phang:1" "ohang:1"

round() { # round crash|hang
    local mode=$1 ptopic=p$1 otopic=o$1 name="q$1-$$" out restarts
    : >"$TEST_TMP/chuted.log"
    CHUTE_TEST_POISON="$mode:POISON-PILL" chuted_start "$name" \
        -X workers=1 -X worker.heartbeat.timeout.ms=1000
    lib_watch chuted "$TEST_TMP/chuted.log" "kill -0 $SUP 2>/dev/null"
    restarts() {
        "$BUILD/bin/chutectl" -n "$name" --json status | /usr/bin/python3 \
            -c "import json, sys; print(json.load(sys.stdin)['workers'][0]['restarts'])"
    }
    # The poison's topic first: it gets id 0 (slot 0), the other slot 6.
    timeout 60 "$BUILD/tests/sendload" -n "$name" -t "$ptopic" -c 0 -N $N \
        -k 50 -s 16 >/dev/null || fail "$mode: the first client failed"
    fault_start_clients "$name" "$otopic"
    out=$(echo POISON-PILL | timeout 30 "$BUILD/bin/chute-cat" -n "$name" \
        -t "$ptopic" 2>&1) && fail "$mode: chute-cat reported no failure: $out"
    echo "$out" | grep -q "1 failed" || fail "$mode: chute-cat said: $out"
    grep -q "slot 0: workers died 2 times in a row .* quarantined the slot's ring content: 1 records" \
        "$TEST_TMP/chuted.log" || fail "$mode: no quarantine logged"
    [ "$(restarts)" = 2 ] || fail "$mode: worker 0 restarted $(restarts) times, not 2"
    # The slot goes on, and nothing kills the worker again.
    timeout 60 "$BUILD/tests/sendload" -n "$name" -t "$ptopic" -c 1 -N $N \
        -k 50 -s 16 >/dev/null || fail "$mode: the slot takes no records after the quarantine"
    fault_wait_clients 60
    [ "$(restarts)" = 2 ] || fail "$mode: worker 0 restarted again: $(restarts) times"
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$ptopic" -e $((2 * N)) \
        -o "$TEST_TMP/$ptopic" || fail "$mode: kverify failed"
    /usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/$ptopic" --clients 2 \
        --count $N --keys 50 --maxpad 16 --partitions 1 ||
        fail "$mode: topic check failed"
    fault_check "$otopic" 1 none
    echo "quarantine ($mode): 2 deaths at the poison record, slot 0 quarantined, $((2 * N)) + $FAULT_COUNT records delivered"
    lib_unwatch chuted
    chuted_stop
}

round crash
round hang
