#!/bin/bash
# test_bad_input.sh: bad input gets a clear error and loses nothing.
#   1. no service: chute_open, chute-cat and chutectl fail and name it;
#   2. malformed configuration: chuted names file:line and the key;
#   3. an oversized record: CHUTE_ERR_TOO_LARGE, nothing written, and the
#      next record is delivered;
#   4. a topic the cluster refuses: CHUTE_ERR_UNKNOWN_TOPIC at once, naming
#      the topic and the Kafka error; a valid topic still works;
#   5. a full ring (workers stopped): queue.full.policy=fail fails at once,
#      block waits max.block.ms; every accepted record is delivered once the
#      workers run again.
# chuted must exit 0 on SIGTERM after each scenario.
set -u
. "$(dirname "$0")/lib.sh" "${1:-}"

PROBE=$BUILD/tests/chute-probe
KVERIFY=$BUILD/tests/kverify
CHUTED=$BUILD/bin/chuted
CHUTECTL=$BUILD/bin/chutectl
CAT=$BUILD/bin/chute-cat
for b in "$PROBE" "$KVERIFY" "$CHUTED" "$CHUTECTL" "$CAT"; do
    [ -x "$b" ] || fail "no $b (run make build)"
done
# Control sockets in our scratch dir: nothing of ours meets another run's.
export CHUTE_RUN_DIR=$TEST_TMP/run
mkdir -p "$CHUTE_RUN_DIR"
# Instance names unique to this run; shared memory of a killed chuted goes.
BASE=bad-$$
on_cleanup "rm -f /dev/shm/chute.$BASE-*"

# expect_in FILE TEXT WHAT: FILE must contain TEXT (fixed string).
expect_in() {
    grep -qF -- "$2" "$1" || fail "$3: no '$2' in: $(cat "$1")"
}

# workers_of NAME: the worker pids chutectl status lists.
workers_of() {
    "$CHUTECTL" -n "$1" status | awk 'NR > 1 && /^$/ { exit }
        NR > 1 { print $2 }' | tr '\n' ' '
}

# Instances still running ("NAME:PID"); stop_chuted takes them off.  After a
# failure their workers (maybe stopped) would outlive a killed chuted and
# drain for message.timeout.ms: kill them outright.
INSTANCES=()
reap_instances() {
    local e name pid p ws
    for e in "${INSTANCES[@]}"; do
        [ -n "$e" ] || continue
        name=${e%%:*} pid=${e#*:}
        exited "$pid" && continue
        ws=$(workers_of "$name" 2>/dev/null)
        kill -KILL "$pid" 2>/dev/null
        for p in $ws; do
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = chute-worker ] &&
                kill -KILL "$p" 2>/dev/null
        done
        echo "--- chuted $name log (last 20 lines):" >&2
        tail -n 20 "$TEST_TMP/chuted-$name.log" >&2
    done
}
on_cleanup reap_instances

# exited PID: PID (a child of ours) is gone or a zombie.
exited() {
    [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status"
}

# start_chuted NAME -X...: starts chuted in the background, waits until its
# control socket answers; sets SUP_PID.
start_chuted() {
    local name=$1
    shift
    "$CHUTED" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" "$@" \
        >"$TEST_TMP/chuted-$name.log" 2>&1 &
    SUP_PID=$!
    INSTANCES+=("$name:$SUP_PID")
    wait_until 10 "$CHUTECTL" -n "$name" status >/dev/null 2>&1 ||
        fail "chuted $name did not come up"
}

# stop_chuted NAME: SIGTERM; chuted must exit 0 within 20 s and log no
# error.
stop_chuted() {
    local name=$1 rc=0
    kill -TERM "$SUP_PID"
    wait_until 20 exited "$SUP_PID" ||
        fail "chuted $name did not exit on SIGTERM"
    wait "$SUP_PID" || rc=$?
    INSTANCES=("${INSTANCES[@]/#$name:$SUP_PID/}")
    [ "$rc" -eq 0 ] ||
        fail "chuted $name exited $rc after SIGTERM: $(cat "$TEST_TMP/chuted-$name.log")"
    ! grep -q ERROR "$TEST_TMP/chuted-$name.log" ||
        fail "chuted $name logged errors: $(cat "$TEST_TMP/chuted-$name.log")"
}

# counters NAME: prints "SENT ACKED FAILED" summed over the workers.
counters() {
    "$CHUTECTL" -n "$1" status | awk '
        NR == 1 { next } /^$/ { exit }
        { s += $5; a += $6; f += $7 } END { print s + 0, a + 0, f + 0 }'
}

counters_are() {
    [ "$(counters "$1")" = "$2" ]
}

# kverify_exact TOPIC COUNT OUT: the topic holds exactly COUNT records
# (kverify stops at the end of every partition once it saw COUNT).
kverify_exact() {
    "$KVERIFY" -b "$BOOTSTRAP" -t "$1" -e "$2" -T 20 -o "$3" \
        2>"$3.err" || fail "kverify $1: $(cat "$3.err")"
    [ "$(wc -l <"$3")" -eq "$2" ] ||
        fail "topic $1 holds $(wc -l <"$3") records, want $2"
}

# --- 1. no service --------------------------------------------------------
nosuch=$BASE-nosuch
"$PROBE" open "$nosuch" CHUTE_ERR_NO_SERVICE >"$TEST_TMP/open.out" ||
    fail "chute_open of a missing service: $(cat "$TEST_TMP/open.out")"
expect_in "$TEST_TMP/open.out" "\"$nosuch\"" "chute_open message"
"$CAT" -n "$nosuch" -t t </dev/null 2>"$TEST_TMP/cat.err" &&
    fail "chute-cat succeeded without a service"
expect_in "$TEST_TMP/cat.err" "no chute service named \"$nosuch\"" chute-cat
"$CHUTECTL" -n "$nosuch" status >/dev/null 2>"$TEST_TMP/ctl.err" &&
    fail "chutectl status succeeded without a service"
expect_in "$TEST_TMP/ctl.err" "no chute service named \"$nosuch\"" chutectl
echo "1: no service: clear errors"

# --- 2. malformed configuration (no processes) ---------------------------
# bad_config WHAT TEXT...: chuted with CHUTED_ARGS must exit non-zero and
# print every TEXT.
bad_config() {
    local what=$1 rc=0 t
    shift
    "$CHUTED" "${CHUTED_ARGS[@]}" >/dev/null 2>"$TEST_TMP/cfg.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "chuted accepted $what"
    for t in "$@"; do
        expect_in "$TEST_TMP/cfg.err" "$t" "$what"
    done
}
cfg=$TEST_TMP/bad.conf
printf 'bootstrap.servers=127.0.0.1:9\n# a comment\nname=%s-cfg\nlinger.ms=abc\n' \
    "$BASE" >"$cfg"
CHUTED_ARGS=(-c "$cfg")
bad_config "linger.ms=abc" "$cfg:4:" '"linger.ms"' '"abc" is not an integer'
printf 'bootstrap.servers=127.0.0.1:9\n\njust-a-word\n' >"$cfg"
bad_config "a line without =" "$cfg:3:" "no '=' in \"just-a-word\""
printf 'bootstrap.servers=127.0.0.1:9\nno.such.key = 1\n' >"$cfg"
bad_config "an unknown key" "$cfg:2:" 'unknown property "no.such.key"'
CHUTED_ARGS=(-X bootstrap.servers=127.0.0.1:9 -X linger.ms=900001)
bad_config "-X linger.ms=900001" "-X linger.ms=900001" '"linger.ms"' \
    "not between 0 and 900000"
CHUTED_ARGS=(-X bootstrap.servers=127.0.0.1:9 -X ring.size=100000)
bad_config "-X ring.size=100000" '"ring.size"' "not a power of two"
CHUTED_ARGS=(-c "$TEST_TMP/missing.conf")
bad_config "a missing file" "$TEST_TMP/missing.conf"
# A ring too small for message.max.bytes: refused before any shared memory.
CHUTED_ARGS=(-X bootstrap.servers=127.0.0.1:9 -X name="$BASE-ring"
    -X ring.size=64k -X message.max.bytes=40000)
bad_config "ring.size below 2 * message.max.bytes" '"ring.size"' \
    '"message.max.bytes"'
[ -z "$(ls /dev/shm | grep "^chute\.$BASE-ring\.")" ] ||
    fail "a refused configuration left shared memory behind"
echo "2: malformed configuration: file:line and key named"

start_mock 1 good:1 fill:1

# --- 3. oversized record --------------------------------------------------
name=$BASE-big
start_chuted "$name" -X message.max.bytes=100000
"$PROBE" oversize "$name" good 100001 after-oversize >"$TEST_TMP/big.out" ||
    fail "oversize probe: $(cat "$TEST_TMP/big.out")"
expect_in "$TEST_TMP/big.out" "message.max.bytes (100000)" "oversize message"
# The refused record never reached a worker: exactly one sent and acked.
wait_until 10 counters_are "$name" "1 1 0" ||
    fail "counters after oversize: $(counters "$name"), want 1 sent 1 acked"
kverify_exact good 1 "$TEST_TMP/good.dump"
[ "$(cut -f5 "$TEST_TMP/good.dump")" = "$(printf after-oversize | od -An -tx1 | tr -d ' \n')" ] ||
    fail "topic good holds $(cat "$TEST_TMP/good.dump"), not after-oversize"
stop_chuted "$name"
echo "3: oversized record refused, the next one delivered"

# --- 4. a topic the cluster refuses ----------------------------------------
name=$BASE-topic
start_chuted "$name"
mock_cmd topic-error badtopic 29 || fail "topic-error: $MOCK_REPLY"
mock_cmd topic-error badname 17 || fail "topic-error: $MOCK_REPLY"
for t in badtopic:TOPIC_AUTHORIZATION_FAILED badtopic:TOPIC_AUTHORIZATION_FAILED \
    badname:INVALID_TOPIC_EXCEPTION; do
    "$PROBE" topic "$name" "${t%%:*}" CHUTE_ERR_UNKNOWN_TOPIC \
        >"$TEST_TMP/topic.out" || fail "resolve ${t%%:*}: $(cat "$TEST_TMP/topic.out")"
    expect_in "$TEST_TMP/topic.out" "\"${t%%:*}\"" "unknown-topic message"
    expect_in "$TEST_TMP/topic.out" "${t#*:}" "unknown-topic message"
    # A refusal is final: no waiting out the 10 s resolve timeout.
    ms=$(sed -n 's/.*call_ms=//p' "$TEST_TMP/topic.out")
    [ "$ms" -lt 5000 ] || fail "refused topic ${t%%:*} took $ms ms"
done
"$PROBE" topic "$name" good CHUTE_OK >"$TEST_TMP/topic.out" ||
    fail "good topic after refused ones: $(cat "$TEST_TMP/topic.out")"
echo after-bad-topic | "$CAT" -n "$name" -t good 2>"$TEST_TMP/cat.err" ||
    fail "chute-cat to good: $(cat "$TEST_TMP/cat.err")"
# Topic good now holds the record of step 3 and this one.
kverify_exact good 2 "$TEST_TMP/good.dump"
grep -qF "$(printf after-bad-topic | od -An -tx1 | tr -d ' \n')" \
    "$TEST_TMP/good.dump" || fail "after-bad-topic not in topic good"
stop_chuted "$name"
echo "4: refused topics: CHUTE_ERR_UNKNOWN_TOPIC; a valid topic works"

# --- 5. full ring -----------------------------------------------------------
name=$BASE-ring
start_chuted "$name" -X ring.size=65536 -X message.max.bytes=16384
"$PROBE" topic "$name" fill CHUTE_OK >"$TEST_TMP/topic.out" ||
    fail "resolve fill: $(cat "$TEST_TMP/topic.out")"
workers=$(workers_of "$name")
[ -n "$workers" ] || fail "no worker pids in chutectl status"
for p in $workers; do
    [ "$(cat /proc/"$p"/comm)" = chute-worker ] || fail "pid $p is no worker"
done
# shellcheck disable=SC2086 # one pid per word
kill -STOP $workers
stopped() {
    local p
    for p in $workers; do
        [ "$(awk '{ print $3 }' /proc/"$p"/stat)" = T ] || return 1
    done
}
wait_until 5 stopped || fail "workers did not stop"

"$PROBE" fill "$name" fill fail 5000 F >"$TEST_TMP/fill1.out" ||
    fail "fill with policy fail: $(cat "$TEST_TMP/fill1.out")"
n1=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$TEST_TMP/fill1.out")
ms1=$(sed -n 's/.*failing_call_ms=//p' "$TEST_TMP/fill1.out")
# 64 KiB of records of about 48 bytes: a full ring, not an early refusal.
# policy fail ignores max.block.ms (5000 here): it refuses at once.
[ "$n1" -gt 1000 ] || fail "only $n1 records fit a 64 KiB ring"
[ "$ms1" -lt 100 ] || fail "policy fail took $ms1 ms to refuse"

"$PROBE" fill "$name" fill block 300 B >"$TEST_TMP/fill2.out" ||
    fail "fill with policy block: $(cat "$TEST_TMP/fill2.out")"
n2=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$TEST_TMP/fill2.out")
ms2=$(sed -n 's/.*failing_call_ms=//p' "$TEST_TMP/fill2.out")
expect_in "$TEST_TMP/fill2.out" "max.block.ms" "block message"
[ "$ms2" -ge 250 ] && [ "$ms2" -lt 5000 ] ||
    fail "policy block with max.block.ms=300 returned after $ms2 ms"

# shellcheck disable=SC2086
kill -CONT $workers
total=$((n1 + n2))
wait_until 20 counters_are "$name" "$total $total 0" ||
    fail "counters $(counters "$name"), want $total sent and acked, 0 failed"
kverify_exact fill "$total" "$TEST_TMP/fill.dump"
# Every accepted record once, in order: F-000000.. then B-000000..
{
    for i in $(seq 0 $((n1 - 1))); do printf 'F-%06d\n' "$i"; done
    for i in $(seq 0 $((n2 - 1))); do printf 'B-%06d\n' "$i"; done
} | od -An -tx1 -v | tr -d ' \n' >"$TEST_TMP/want.hex"
cut -f5 "$TEST_TMP/fill.dump" | sed 's/$/0a/' | tr -d '\n' >"$TEST_TMP/got.hex"
cmp -s "$TEST_TMP/want.hex" "$TEST_TMP/got.hex" ||
    fail "topic fill does not hold exactly the accepted records in order"
# The ring drains and takes records again.
echo after-full | "$CAT" -n "$name" -t fill 2>"$TEST_TMP/cat.err" ||
    fail "chute-cat after the ring drained: $(cat "$TEST_TMP/cat.err")"
stop_chuted "$name"
echo "5: full ring: fail at once ($n1 accepted), block $ms2 ms; $total delivered"

stop_mock
echo "ok: $TEST_NAME"
