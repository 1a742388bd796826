#!/bin/bash
# test_mock_tools.sh: the test tools themselves work, so that the other
# integration tests can trust them.  chute-mock starts and creates topics,
# kcat writes records that kverify reads back exactly, fault commands answer
# and take effect, and kverify rejects a batch with a wrong CRC (which the
# mock itself accepts).
set -u
. "$(dirname "$0")/lib.sh" "${1:-}"

KVERIFY=$BUILD/tests/kverify
[ -x "$KVERIFY" ] || fail "no $KVERIFY"
command -v kcat >/dev/null || fail "kcat is not installed"

start_mock 3 t1:3 t2:1
echo "mock at $BOOTSTRAP"

# --- metadata: 3 brokers, the topics with their partition counts ----------
kcat -b "$BOOTSTRAP" -L -m 5 >"$TEST_TMP/md" || fail "kcat -L failed"
[ "$(grep -c '^  broker [123] at ' "$TEST_TMP/md")" -eq 3 ] ||
    fail "metadata does not list brokers 1-3: $(cat "$TEST_TMP/md")"
grep -q 'topic "t1" with 3 partitions' "$TEST_TMP/md" || fail "no t1:3"
grep -q 'topic "t2" with 1 partitions' "$TEST_TMP/md" || fail "no t2:1"

# --- round trip: kcat writes, kverify reads back exactly --------------------
printf 'k1:v1\nk2:\n:v3\nnokey\n' |
    kcat -P -b "$BOOTSTRAP" -t t1 -p 0 -K: -H h1=x -H h2= ||
    fail "kcat -P to partition 0 failed"
printf 'a\nb\n' | kcat -P -b "$BOOTSTRAP" -t t1 -p 2 ||
    fail "kcat -P to partition 2 failed"
"$KVERIFY" -b "$BOOTSTRAP" -t t1 -e 6 -T 20 -o "$TEST_TMP/got" \
    2>"$TEST_TMP/kv.err" || fail "kverify failed: $(cat "$TEST_TMP/kv.err")"
grep -q '^kverify: 6 records, 3 partitions$' "$TEST_TMP/kv.err" ||
    fail "kverify summary: $(cat "$TEST_TMP/kv.err")"
# Fields: partition offset key value headers (timestamp checked below).
T=$(printf '\t')
cat >"$TEST_TMP/want" <<EOF
0${T}0${T}6b31${T}7631${T}6831=78,6832=""
0${T}1${T}6b32${T}""${T}6831=78,6832=""
0${T}2${T}""${T}7633${T}6831=78,6832=""
0${T}3${T}-${T}6e6f6b6579${T}6831=78,6832=""
2${T}0${T}-${T}61${T}-
2${T}1${T}-${T}62${T}-
EOF
cut -f1,2,4- "$TEST_TMP/got" | sort -k1,1n -k2,2n >"$TEST_TMP/got.cut"
diff -u "$TEST_TMP/want" "$TEST_TMP/got.cut" >&2 ||
    fail "kverify output differs from what kcat wrote"
now_ms=$(($(date +%s) * 1000))
awk -F'\t' -v now="$now_ms" '$3 < now - 300000 || $3 > now + 300000 {
    print "bad timestamp: " $0; bad = 1 } END { exit bad }' \
    "$TEST_TMP/got" >&2 || fail "kverify timestamps are not about now"

# --- fault commands answer and take effect ----------------------------------
mock_cmd bogus && fail "unknown command answered ok"
case $MOCK_REPLY in "error: "*) ;; *) fail "reply '$MOCK_REPLY'" ;; esac
mock_cmd down 9 && fail "'down 9' of 3 brokers answered ok"

mock_cmd leader t1 0 3 || fail "leader: $MOCK_REPLY"
kcat -b "$BOOTSTRAP" -L -t t1 -m 5 >"$TEST_TMP/md" || fail "kcat -L failed"
grep -q 'partition 0, leader 3,' "$TEST_TMP/md" ||
    fail "leader did not move: $(cat "$TEST_TMP/md")"

broker1=${BOOTSTRAP%%,*}
mock_cmd down 1 || fail "down: $MOCK_REPLY"
kcat -b "$broker1" -L -m 3 >/dev/null 2>&1 &&
    fail "broker 1 still answers metadata after 'down 1'"
mock_cmd up 1 || fail "up: $MOCK_REPLY"
wait_until 10 kcat -b "$broker1" -L -m 3 -t t1 >/dev/null 2>&1 ||
    fail "broker 1 does not answer after 'up 1'"

mock_cmd topic-error t2 3 || fail "topic-error: $MOCK_REPLY"
kcat -b "$BOOTSTRAP" -L -t t2 -m 5 2>&1 | grep -q 'Unknown topic' ||
    fail "'topic-error t2 3' not seen in metadata"
mock_cmd topic-error t2 0 || fail "topic-error: $MOCK_REPLY"

mock_cmd err 0 1 6 || fail "err: $MOCK_REPLY"
mock_cmd clear 0 || fail "clear: $MOCK_REPLY"

# --- a batch with a wrong CRC: the mock takes it, kverify must not ----------
# Produce v3 by hand to the leader of t2/0 (made broker 1), one record batch
# whose CRC is computed and then invalidated by changing the value.
mock_cmd leader t2 0 1 || fail "leader: $MOCK_REPLY"
python3 - "$broker1" <<'EOF' || fail "raw produce of a bad batch failed"
import socket, struct, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        if n < 0x80:
            return out + bytes([n])
        out += bytes([n & 0x7F | 0x80])
        n >>= 7

def batch(value):
    body = b"\0" + varint(0) + varint(0) + varint(-1) + varint(len(value)) \
        + value + varint(0)
    rec = varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, 0, 1, 1, -1, -1, -1, 1) + rec
    head = struct.pack(">ib", -1, 2)
    crc = crc32c(after_crc)
    after_crc = after_crc.replace(value, value[:-1] + b"X")
    inner = head + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(inner)) + inner

def string(s):
    return struct.pack(">h", len(s)) + s

records = batch(b"corrupt-me")
req = struct.pack(">hhi", 0, 3, 7) + string(b"t") + struct.pack(">hhi", -1,
    -1, 5000) + struct.pack(">i", 1) + string(b"t2") + struct.pack(">ii", 1,
    0) + struct.pack(">i", len(records)) + records
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(struct.pack(">i", len(req)) + req)
resp = b""
while len(resp) < 4 or len(resp) < 4 + struct.unpack(">i", resp[:4])[0]:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("connection closed")
    resp += chunk
# size, correlation id, 1 topic "t2", 1 partition: id, error code
err = struct.unpack(">h", resp[4 + 4 + 4 + 2 + 2 + 4 + 4:][:2])[0]
sys.exit(f"produce error {err}" if err else 0)
EOF
"$KVERIFY" -b "$BOOTSTRAP" -t t2 -T 20 >/dev/null 2>"$TEST_TMP/kv.err" &&
    fail "kverify accepted a batch with a wrong CRC"
grep -qi 'crc' "$TEST_TMP/kv.err" ||
    fail "kverify failed, but not on the CRC: $(cat "$TEST_TMP/kv.err")"

stop_mock
echo "ok: $TEST_NAME"
