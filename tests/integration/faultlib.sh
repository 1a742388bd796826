# faultlib.sh: shared steps of the fault-injection tests (test_fault_*.sh).
# Source lib.sh first, then this.  A test starts the mock, chuted and the
# clients in the background, injects its faults while they run, waits for
# the clients within a bound, then reads the topic back batch by batch
# (batchdump.py) and checks it against the clients' reports (check_faults.py).
#
#   fault_start_chuted NAME [-X k=v]...   chuted on $BOOTSTRAP, log in
#                                         $TEST_TMP/chuted.log; sets SUP
#   fault_start_clients NAME TOPIC        FAULT_CLIENTS x FAULT_COUNT records
#                                         in the background; sets CLIENT_PIDS
#   fault_clients_running                 succeeds while any client runs
#   fault_wait_clients SECS               waits for every client; fails when
#                                         one is still running after SECS;
#                                         sets CLIENTS_SECS (wall time since
#                                         the clients started)
#   fault_check TOPIC PARTS none|some|any batchdump + check_faults
#   (chuted_stop from lib.sh stops chuted)
#
# FAULT_KEEP=DIR keeps the batch dump, the reports and the logs of a failed
# check in DIR.

FAULT_HERE=$(dirname "${BASH_SOURCE[0]}")
FAULT_CLIENTS=${FAULT_CLIENTS:-4}
FAULT_COUNT=${FAULT_COUNT:-25000}
FAULT_KEYS=${FAULT_KEYS:-500}
FAULT_MAXPAD=${FAULT_MAXPAD:-32}

fault_start_chuted() {
    local name=$1 x xs=()
    FAULT_NAME=$name
    shift
    for x in "$@"; do
        xs+=(-X "$x")
    done
    chuted_start "$name" "${xs[@]}"
}

fault_start_clients() {
    local name=$1 topic=$2 c
    CLIENT_PIDS=""
    : >"$TEST_TMP/reports"
    FAULT_T0=${EPOCHREALTIME/./}
    for c in $(seq 0 $((FAULT_CLIENTS - 1))); do
        "$BUILD/tests/sendload" -n "$name" -t "$topic" -c "$c" \
            -N "$FAULT_COUNT" -k "$FAULT_KEYS" -s "$FAULT_MAXPAD" \
            -R "$TEST_TMP/delivery.$c" ${FAULT_REPEATS_OK:+-D} \
            ${FAULT_ACCEPTED_DIR:+-A "$FAULT_ACCEPTED_DIR/accepted.$c"} \
            ${FAULT_RATE:+-r "$FAULT_RATE"} \
            >>"$TEST_TMP/reports" 2>>"$TEST_TMP/clients.err" &
        CLIENT_PIDS="$CLIENT_PIDS $!"
        track_pid $!
    done
}

fault_clients_running() {
    local p
    for p in $CLIENT_PIDS; do
        kill -0 "$p" 2>/dev/null && return 0
    done
    return 1
}

# sendload exits 1 when records failed; what counts is its report line,
# which check_faults.py reads.
fault_wait_clients() {
    local secs=$1 p
    wait_until "$secs" eval '! fault_clients_running' || {
        cat "$TEST_TMP/reports" >&2
        "$BUILD/bin/chutectl" -n "$FAULT_NAME" status >&2 || true
        echo "--- chuted log (last 30 lines):" >&2
        tail -n 30 "$TEST_TMP/chuted.log" >&2
        [ -z "${FAULT_KEEP:-}" ] || { mkdir -p "$FAULT_KEEP" &&
            cp "$TEST_TMP"/*.log "$FAULT_KEEP"/; }
        fail "clients still running $secs s after they started"
    }
    for p in $CLIENT_PIDS; do
        wait "$p" || true
    done
    local us=$((${EPOCHREALTIME/./} - FAULT_T0))
    CLIENTS_SECS=$((us / 1000000)).$(printf %03d $((us / 1000 % 1000)))
    cat "$TEST_TMP/reports"
    if grep -v "failed" "$TEST_TMP/clients.err" | grep -q .; then
        cat "$TEST_TMP/clients.err" >&2
    fi
}

fault_check() {
    local topic=$1 parts=$2 expect=$3
    timeout 60 /usr/bin/python3 "$FAULT_HERE/batchdump.py" -b "$BOOTSTRAP" \
        -t "$topic" -o "$TEST_TMP/$topic.batches" || fail "batchdump failed"
    /usr/bin/python3 "$FAULT_HERE/check_faults.py" \
        "$TEST_TMP/$topic.batches" "$TEST_TMP/reports" \
        --clients "$FAULT_CLIENTS" --count "$FAULT_COUNT" --keys "$FAULT_KEYS" \
        --maxpad "$FAULT_MAXPAD" --partitions "$parts" --failed "$expect" \
        --delivery "$TEST_TMP"/delivery.* \
        ${FAULT_NO_ORDER:+--no-order} "${FAULT_CHECK_ARGS[@]}" || {
        if [ -n "${FAULT_KEEP:-}" ]; then
            mkdir -p "$FAULT_KEEP" &&
                cp "$TEST_TMP"/*.batches "$TEST_TMP"/reports \
                    "$TEST_TMP"/*.log "$TEST_TMP"/mock.err "$FAULT_KEEP"/
        fi
        echo "--- chuted log (last 20 lines):" >&2
        tail -n 20 "$TEST_TMP/chuted.log" >&2
        fail "check_faults failed"
    }
}

