#!/bin/bash
# test_bench_floor.sh: chute-bench's work floor.  `--floor` alone prints a
# "producer=floor" line with a positive CPU per record, its batches
# compressed by the codec asked for (lz4 makes the repetitive values
# smaller, none leaves them), the partition count given and the floor
# split across two cores (xcore_ns) and the send path's clock read and CAS
# (clock_ns, cas_ns); bad input (no
# partition count, records larger than chuted takes) is refused clearly.  A normal run against the mock and chuted first measures the
# floor over the topic's own partition count (asked of the instance) and
# puts floor_x on chute's line and median line, not on librdkafka's;
# --floor-ns gives the floor instead of measuring it; --no-floor leaves
# both out.  No timing is checked, only that the
# figures are there and positive.
. "$(dirname "$0")/lib.sh" "$1"
BENCH=$BUILD/bin/chute-bench
name="bench-floor-$$"

# field LINE KEY: the value of KEY=... in LINE.
field() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# positive VALUE WHAT: VALUE is a number above 0.
positive() {
    awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }' ||
        fail "$2 is '$1', not a positive number"
}

# --- --floor alone, no cluster -----------------------------------------------
for codec in lz4 none; do
    timeout 120 "$BENCH" --floor --partitions 6 -N 20000 -S 100 \
        --codec $codec >"$TEST_TMP/floor.$codec" 2>"$TEST_TMP/floor.err" ||
        fail "--floor --codec $codec failed: $(cat "$TEST_TMP/floor.err")"
    line=$(grep '^producer=floor ' "$TEST_TMP/floor.$codec") ||
        fail "no producer=floor line: $(cat "$TEST_TMP/floor.$codec")"
    echo "$line"
    positive "$(field "$line" cpu_ns_per_rec)" "cpu_ns_per_rec ($codec)"
    positive "$(field "$line" batches)" "batches ($codec)"
    [ "$(field "$line" records)" = 20000 ] || fail "records: $line"
    [ "$(field "$line" partitions)" = 6 ] || fail "partitions: $line"
    [ "$(field "$line" codec)" = $codec ] || fail "codec: $line"
done
# The split across two cores: measured where there are two, 0 where not.
xcore=$(field "$(cat "$TEST_TMP/floor.lz4")" xcore_ns)
if [ "$(nproc)" -ge 2 ]; then
    positive "$xcore" "xcore_ns"
else
    [ "$xcore" = 0.0 ] || fail "xcore_ns on one core: $xcore"
fi
positive "$(field "$(cat "$TEST_TMP/floor.lz4")" clock_ns)" "clock_ns"
positive "$(field "$(cat "$TEST_TMP/floor.lz4")" cas_ns)" "cas_ns"
grep -q 'records' "$TEST_TMP/floor.err" &&
    fail "the split floor lost records: $(cat "$TEST_TMP/floor.err")"
ratio=$(field "$(cat "$TEST_TMP/floor.lz4")" wire_ratio)
awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r < 0.5) }' ||
    fail "lz4 floor batches are not compressed: wire_ratio=$ratio"
[ "$(field "$(cat "$TEST_TMP/floor.none")" wire_ratio)" = 1.000 ] ||
    fail "uncompressed floor batches changed size: $(cat "$TEST_TMP/floor.none")"

# --- bad input ---------------------------------------------------------------
"$BENCH" --floor --partitions 0 -N 10 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--partitions 0 was not a usage error"
"$BENCH" --floor -n "no-such-instance-$$" -N 10 >/dev/null \
    2>"$TEST_TMP/noinst.err" && fail "--floor without partitions or instance ran"
grep -q -- "--partitions" "$TEST_TMP/noinst.err" ||
    fail "no hint at --partitions: $(cat "$TEST_TMP/noinst.err")"
"$BENCH" --floor --partitions 1 -N 1 -S 2000000 >/dev/null \
    2>"$TEST_TMP/large.err" && fail "--floor ran records over 1 MB"
grep -q "larger than chuted's message.max.bytes" "$TEST_TMP/large.err" ||
    fail "no clear error for records over 1 MB: $(cat "$TEST_TMP/large.err")"

# --- before a normal run: the topic's partitions, floor_x on chute's lines ----
start_mock 1 bench:4
chuted_start "$name" -X workers=1 -X compression.codec=lz4
chuted_watch
timeout 300 "$BENCH" -b "$BOOTSTRAP" -n "$name" -t bench -N 5000 -S 100 \
    -r 2 >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" ||
    fail "chute-bench failed: $(cat "$TEST_TMP/run.out" "$TEST_TMP/run.err")"
cat "$TEST_TMP/run.out"
line=$(grep '^producer=floor ' "$TEST_TMP/run.out") || fail "no floor line"
[ "$(field "$line" partitions)" = 4 ] || fail "not the topic's partitions: $line"
positive "$(field "$line" cpu_ns_per_rec)" "the run's floor"
[ "$(grep -c '^producer=chute .* floor_x=' "$TEST_TMP/run.out")" = 2 ] ||
    fail "floor_x missing from chute's lines"
for l in "$(grep '^producer=chute ' "$TEST_TMP/run.out" | head -n 1)" \
    "$(grep '^median producer=chute ' "$TEST_TMP/run.out")"; do
    positive "$(field "$l" floor_x)" "floor_x in '$l'"
done
grep 'librdkafka' "$TEST_TMP/run.out" | grep -q floor_x &&
    fail "floor_x on a librdkafka line"

# --floor-ns: that floor, none measured: floor_x = cpu_ns_per_rec / 1000.
timeout 300 "$BENCH" -b "$BOOTSTRAP" -n "$name" -t bench -N 2000 -S 100 \
    --floor-ns 1000 >"$TEST_TMP/given.out" 2>"$TEST_TMP/given.err" ||
    fail "chute-bench --floor-ns failed: $(cat "$TEST_TMP/given.err")"
grep -q '^producer=floor ' "$TEST_TMP/given.out" &&
    fail "--floor-ns measured the floor: $(cat "$TEST_TMP/given.out")"
line=$(grep '^producer=chute ' "$TEST_TMP/given.out") || fail "no chute line"
awk -v c="$(field "$line" cpu_ns_per_rec)" -v x="$(field "$line" floor_x)" \
    'BEGIN { d = x - c / 1000; exit !(c > 0 && d < 0.01 && d > -0.01) }' ||
    fail "floor_x is not cpu_ns_per_rec over the given floor: $line"
"$BENCH" -b "$BOOTSTRAP" --floor-ns -5 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--floor-ns -5 was not a usage error"

timeout 300 "$BENCH" -b "$BOOTSTRAP" -n "$name" -t bench -N 2000 -S 100 \
    --no-floor >"$TEST_TMP/nofloor.out" 2>"$TEST_TMP/nofloor.err" ||
    fail "chute-bench --no-floor failed: $(cat "$TEST_TMP/nofloor.err")"
grep -q '^producer=chute ' "$TEST_TMP/nofloor.out" || fail "no chute line"
grep -q 'floor' "$TEST_TMP/nofloor.out" &&
    fail "--no-floor measured the floor: $(cat "$TEST_TMP/nofloor.out")"
chuted_stop
echo "PASS"
