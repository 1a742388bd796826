#!/bin/bash
# batchdump.py (kafka-python's Fetch v4 and RecordBatch reader) against
# kverify (librdkafka's consumer) on a topic chuted wrote: both must see the
# same records at the same offsets, so batchdump can be trusted by the
# fault tests, which need its batch headers (producer id, epoch, sequence).
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
CLIENTS=2
PER_CLIENT=20000
topic=bd
name="bd-$$"

start_mock 3 "$topic:12"
"$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
    -X linger.ms=1 -X batch.size=16384 2>"$TEST_TMP/chuted.log" &
sup=$!
track_pid $sup
wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "chuted did not come up"
pids=""
for c in $(seq 0 $((CLIENTS - 1))); do
    timeout 60 "$BUILD/tests/sendload" -n "$name" -t "$topic" -c "$c" \
        -N $PER_CLIENT -k 300 -s 64 &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || fail "a client failed"
done
timeout 60 "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$topic" \
    -e $((CLIENTS * PER_CLIENT)) -o "$TEST_TMP/kv.dump" || fail "kverify failed"
timeout 60 /usr/bin/python3 "$here/batchdump.py" -b "$BOOTSTRAP" -t "$topic" \
    -o "$TEST_TMP/bd.dump" || fail "batchdump failed"
# batchdump: partition offset pid epoch seq base count ts key value headers
cut -f1,2,8,9,10,11 "$TEST_TMP/bd.dump" | sort >"$TEST_TMP/bd.cut"
sort "$TEST_TMP/kv.dump" >"$TEST_TMP/kv.sorted"
n=$(wc -l <"$TEST_TMP/bd.cut")
[ "$n" -eq $((CLIENTS * PER_CLIENT)) ] || fail "batchdump read $n records"
cmp -s "$TEST_TMP/bd.cut" "$TEST_TMP/kv.sorted" || {
    diff "$TEST_TMP/bd.cut" "$TEST_TMP/kv.sorted" | head >&2
    fail "batchdump and kverify disagree"
}
# Batch headers: one producer id per batch, sequences that follow on.
awk -F'\t' '
    $2 == $6 {          # first record of a batch
        k = $1 SUBSEP $3 SUBSEP $4
        if ((k in next_seq) && next_seq[k] != $5) { bad++; print "p" $1 "@" $2 ": base seq " $5 ", expected " next_seq[k] > "/dev/stderr" }
        next_seq[k] = $5 + $7; batches++
    }
    END { if (bad || batches < 20) exit 1; print "batchdump: " batches " batches, sequences consecutive" }
' "$TEST_TMP/bd.dump" || fail "batch headers inconsistent"
kill -TERM $sup
wait $sup || fail "chuted did not exit 0 after SIGTERM"
echo "batchdump: $n records agree with kverify"
