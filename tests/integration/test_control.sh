#!/bin/bash
# The control socket through chutectl: status --json has the fields
# operators need; topics reports every partition's leader as kcat sees it;
# flush returns once every record accepted before it is readable; scale
# moves every slot to its target while clients send (skipped while
# sup_scale is not supported); garbage, oversized length prefixes and
# pipelined requests on the socket; drain makes chuted exit 0 and leaves no
# shared memory behind.  Runs against the real Apache Kafka cluster.
. "$(dirname "$0")/lib.sh" "$1"
PARTS=12
topic=ctl-$$
export topic
name="ctl-$$"
ctl() { "$BUILD/bin/chutectl" -n "$name" "$@"; }
py() { /usr/bin/python3 "$@"; }
export CTL_HERE=$(cd "$(dirname "$0")" && pwd)

use_kafka
kafka_topic "$topic" $PARTS
"$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
    -X workers=2 2>"$TEST_TMP/chuted.log" &
sup=$!
track_pid $sup
on_cleanup "[ \$? -eq 0 ] || tail -n 30 '$TEST_TMP/chuted.log' >&2"
wait_until 10 ctl status >/dev/null 2>&1 || fail "chuted did not come up"

# ---- a first load, so that the topic is known and counters move
"$BUILD/tests/sendload" -n "$name" -t $topic -c 0 -N 20000 -k 100 -s 32 ||
    fail "first sendload failed"
sent=20000

# ---- status --json
ctl --json status >"$TEST_TMP/status.json" || fail "status --json failed"
py - "$TEST_TMP/status.json" "$sup" <<'EOF' || fail "status --json is not as expected"
import json, os, sys
st = json.load(open(sys.argv[1]))
assert st["supervisor_pid"] == int(sys.argv[2]), st["supervisor_pid"]
assert st["worker_count"] == 2 and st["accepting"] is True
assert len(st["workers"]) == 2, st["workers"]
owned = []
for w in st["workers"]:
    for k in ("index", "pid", "uptime_ms", "restarts", "slots", "target_slots",
              "records_acked", "records_failed", "heartbeat_age_ms"):
        assert k in w, k
    assert w["pid"] > 0 and w["uptime_ms"] > 0
    owned += w["slots"]
assert sorted(owned) == list(range(len(st["slots"]))), owned
for s in st["slots"]:
    for k in ("index", "owner", "target", "ring_used_bytes", "ring_size",
              "head", "tail", "resolved", "blocked_by_pid", "dead_writers",
              "corrupt_bytes"):
        assert k in s, k
    assert s["owner"] == s["target"] and s["owner"] in (0, 1), s
    assert s["resolved"] == s["tail"], s  # sendload flushed
assert st["pool"]["chunks_total"] > 0
t = [t for t in st["topics"] if t["name"] == os.environ["topic"]]
assert t and t[0]["partitions"] == 12 and t[0]["records_acked"] == 20000, t
assert t[0]["records_failed"] == 0 and t[0]["errors"] == [], t
EOF
ctl status >"$TEST_TMP/status.txt" || fail "status failed"
grep -q "^SLOT" "$TEST_TMP/status.txt" || fail "status prints no slot table"

# ---- topics: partitions and leaders, as kcat reports them
ctl --json topics >"$TEST_TMP/topics.json" || fail "topics --json failed"
kcat -b "$BOOTSTRAP" -L -t $topic -J >"$TEST_TMP/kcat.json" 2>/dev/null ||
    fail "kcat -L failed"
py - "$TEST_TMP/topics.json" "$TEST_TMP/kcat.json" <<'EOF' || fail "topics disagrees with kcat"
import json, os, sys
ours = json.load(open(sys.argv[1]))
theirs = json.load(open(sys.argv[2]))
t = [t for t in ours["topics"] if t["name"] == os.environ["topic"]][0]
assert t["error_code"] == 0 and t["partition_count"] == 12, t
k = [k for k in theirs["topics"] if k["topic"] == os.environ["topic"]][0]
want = {p["partition"]: p["leader"] for p in k["partitions"]}
got = {p["partition"]: p["leader"] for p in t["partitions"]}
assert got == want, (got, want)
assert {b["node_id"] for b in ours["brokers"]} == {b["id"] for b in theirs["brokers"]}
EOF
ctl topics | grep -q "^$topic " || fail "topics prints no row for $topic"

# ---- flush under load: records accepted before it are all readable after
"$BUILD/tests/sendload" -n "$name" -t $topic -c 1 -N 200000 -k 100 -s 16 \
    -A "$TEST_TMP/accepted.1" &
load=$!
track_pid $load
accepted_at_least() { # the last accepted index, once it is >= $1
    [ -s "$TEST_TMP/accepted.1" ] &&
        [ "$(od -An -td8 -N8 "$TEST_TMP/accepted.1" | tr -d ' ')" -ge "$1" ]
}
wait_until 20 accepted_at_least 1000 || fail "the load never started"
before=$(od -An -td8 -N8 "$TEST_TMP/accepted.1" | tr -d ' ')
ctl --json flush 30000 >"$TEST_TMP/flush.json" || fail "flush failed"
py -c 'import json,sys; f=json.load(open(sys.argv[1])); assert f["records_failed"] == 0, f' \
    "$TEST_TMP/flush.json" || fail "flush counted failures"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t $topic -e $((sent + before + 1)) \
    -o "$TEST_TMP/flush.dump" 2>/dev/null || fail "kverify after flush failed"
py - "$TEST_TMP/flush.dump" "$before" <<'EOF' || fail "records accepted before the flush are missing"
import sys
need = int(sys.argv[2])
seen = set()
for line in open(sys.argv[1]):
    value = bytes.fromhex(line.split("\t")[4]).decode()
    c, _, s = value.split("|")[:3]
    if c == "c1":
        seen.add(int(s[1:]))
missing = [i for i in range(need + 1) if i not in seen]
assert not missing, "%d missing, first %d" % (len(missing), missing[0])
EOF
wait $load || fail "the flushed load failed"
sent=$((sent + 200000))
echo "flush: records 0..$before of the load were readable after flush"

# ---- pipelined requests keep their order; garbage never kills chuted
py - "$TEST_TMP" "$name" <<'EOF' || fail "the socket misbehaved"
import os, socket, struct, sys
sys.path.insert(0, os.environ["CTL_HERE"])
import ctlconn
path = ctlconn.path(sys.argv[2])

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s

def frame(body):
    return struct.pack(">I", len(body)) + body

def read_reply(s):
    head = b""
    while len(head) < 4:
        b = s.recv(4 - len(head))
        if not b:
            return None
        head += b
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        assert b, "closed mid-reply"
        body += b
    return body

def closed(s):  # the server closes a broken stream
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True

FLUSH = b"\x72\x03\x08\xe8\x07"   # Request.flush {timeout_ms: 1000}
STATUS = b"\x62\x00"              # Request.status {}
# Two requests in one write: the replies come in order.
s = conn()
s.sendall(frame(FLUSH) + frame(STATUS))
r1, r2 = read_reply(s), read_reply(s)
assert r1 is not None and b"\x72" in r1[:2], r1[:8]       # Reply.flush
assert r2 is not None and r2[:1] == b"\x62", r2[:8]       # Reply.status
s.close()
# An empty request: an error reply, and the connection stays usable.
s = conn()
s.sendall(frame(b""))
r = read_reply(s)
assert r and r[:1] == b"\x08", r  # error_code set
s.sendall(frame(STATUS))
assert read_reply(s)[:1] == b"\x62"
s.close()
# Bytes that are no protobuf.
s = conn()
s.sendall(frame(os.urandom(64) + b"\xff" * 16))
r = read_reply(s)
assert r is None or r[:1] == b"\x08", r
s.close()
# Length prefixes past the limit, and a huge one.
for n in (1 << 20 | 1, 0xffffffff, 0x7fffffff):
    s = conn()
    s.sendall(struct.pack(">I", n) + b"x" * 100)
    assert closed(s), n
    s.close()
# A connection closed in the middle of a body, and one of 4 KB of noise.
s = conn()
s.sendall(struct.pack(">I", 50) + b"abc")
s.close()
s = conn()
s.sendall(os.urandom(4096))
s.close()
EOF
kill -0 $sup 2>/dev/null || fail "chuted died of garbage on its socket"
ctl status >/dev/null || fail "chuted no longer answers after garbage"
echo "socket: pipelining, garbage and oversized messages handled"

# ---- scale while clients send
if ctl scale 2 >"$TEST_TMP/scale.out" 2>&1; then
    pids=""
    for c in 2 3; do
        "$BUILD/tests/sendload" -n "$name" -t $topic -c $c -N 50000 -k 100 \
            -s 16 &
        pids="$pids $!"
    done
    for n in 4 1 3; do
        ctl scale -w 60000 $n >"$TEST_TMP/scale.out" 2>&1 ||
            { cat "$TEST_TMP/scale.out" >&2; fail "scale $n failed"; }
        ctl --json status >"$TEST_TMP/status.json" || fail "status failed"
        py - "$TEST_TMP/status.json" $n <<'EOF' || fail "after scale $n, owners are not their targets"
import json, os, sys
st = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert all(s["owner"] == s["target"] for s in st["slots"]), st["slots"]
assert {s["owner"] for s in st["slots"]} == set(range(n)), st["slots"]
running = {w["index"] for w in st["workers"] if w["pid"]}
assert running == set(range(n)), st["workers"]
assert st["worker_count"] == n and st["scale_done"], st
EOF
        echo "scale: $n workers, every slot with its target"
    done
    for p in $pids; do
        wait "$p" || fail "a client failed while scaling"
    done
    sent=$((sent + 100000))
    ctl flush 30000 >/dev/null || fail "flush after scaling failed"
    "$BUILD/tests/kverify" -b "$BOOTSTRAP" -t $topic -e $sent \
        -o /dev/null 2>/dev/null || fail "records missing after scaling"
elif grep -q "not supported" "$TEST_TMP/scale.out"; then
    echo "NOTICE: scale not checked: $(cat "$TEST_TMP/scale.out")"
else
    cat "$TEST_TMP/scale.out" >&2
    fail "scale 2 failed"
fi
ctl scale 0 >/dev/null 2>&1 && fail "scale 0 succeeded"

# ---- drain: replies, chuted delivers and exits 0, shared memory goes
"$BUILD/tests/sendload" -n "$name" -t $topic -c 4 -N 10000 -k 100 -s 16 ||
    fail "last sendload failed"
sent=$((sent + 10000))
ctl drain | grep -q draining || fail "drain did not say draining"
for _ in $(seq 100); do
    kill -0 $sup 2>/dev/null || break
    sleep 0.1
done
kill -0 $sup 2>/dev/null && fail "chuted still runs 10 s after drain"
wait $sup || fail "chuted exited non-zero after drain"
ls /dev/shm/chute."$name".* >/dev/null 2>&1 && fail "shared memory left behind"
ctl status >/dev/null 2>&1 && fail "status answered after drain"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t $topic -e $sent -o /dev/null \
    2>/dev/null || fail "records missing after drain"
grep -q "ERROR" "$TEST_TMP/chuted.log" &&
    { cat "$TEST_TMP/chuted.log" >&2; fail "errors logged"; }
echo "control: status, topics, flush, socket abuse, drain checked ($sent records)"
