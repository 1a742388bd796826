#!/bin/bash
# chute-bench's --latency, --wake, --idle and --soak against the bundled
# mock: each runs to the end with no failed record and prints its lines
# (percentiles in order, every process sampled), and the records each says
# chute sent are exactly those the instance acknowledged (chutectl status).
# No timing is checked.
. "$(dirname "$0")/lib.sh" "$1"
CHUTE_NAME="modes-$$"
export CHUTE_NAME
start_mock 3 bench:12
chuted_start "$CHUTE_NAME" -X workers=2 -X compression.codec=lz4 -X linger.ms=0
chuted_watch
bench() {
    timeout 120 "$BUILD/bin/chute-bench" -n "$CHUTE_NAME" -t bench "$@" \
        >>"$TEST_TMP/out" 2>>"$TEST_TMP/err" ||
        fail "chute-bench $* failed: $(tail -n 5 "$TEST_TMP/err")"
}
bench -b "$BOOTSTRAP" --latency -R 2000 --secs 1 --linger 0
bench --wake 20
bench --idle 1
bench --soak 1 -R 1000
acked=$(status_json '[t["records_acked"] for t in st["topics"] if t["name"] == "bench"][0]')
/usr/bin/python3 - "$TEST_TMP/out" "$acked" <<'PY' || fail "chute-bench's lines are wrong: $(cat "$TEST_TMP/out")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
acked = int(sys.argv[2])
f = lambda line: dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
lat = [f(l) for l in lines if l.startswith("latency producer=")]
assert [d["producer"] for d in lat] == ["chute", "librdkafka"], lat
for d in lat:
    assert d["records"] == "2000" and d["failed"] == "0" and d["linger_ms"] == "0", d
    p = [float(d[k]) for k in ("e2e_us_p50", "e2e_us_p99", "e2e_us_p99.9", "e2e_us_max")]
    assert 0 < p[0] <= p[1] <= p[2] <= p[3], d
assert any(l.startswith("latency ratio chute/librdkafka p50=") for l in lines)
wake = [f(l) for l in lines if l.startswith("wake ")]
assert len(wake) == 1 and wake[0]["seen"] == "20" and wake[0]["missed"] == "0", wake
w = wake[0]
assert float(w["consumed_after_call_us_p50"]) <= float(w["consumed_after_call_us_max"]), w
floor = [f(l) for l in lines if l.startswith("wake_floor ")]
assert len(floor) == 1 and floor[0]["records"] == "20", floor
assert 0 < float(floor[0]["woken_after_call_us_p50"]) <= float(floor[0]["woken_after_call_us_max"]), floor
idle = [f(l) for l in lines if l.startswith("idle ")]
assert [d["phase"] for d in idle] == ["idle", "after_burst_1s", "after_burst", "paced_1_per_ms"], idle
for d in idle:
    assert float(d["cpu_pct"]) >= 0, d
assert idle[1]["burst"] == "100000", idle[1]
soak = [f(l) for l in lines if l.startswith("soak summary ")]
assert [d["proc"] for d in soak] == ["supervisor", "worker0", "worker1"], soak
for d in soak:
    assert 0 < int(d["rss_kb_start"]) and int(d["rss_kb_end"]) <= int(d["rss_kb_max"]), d
    assert 0 < int(d["anon_kb_end"]) <= int(d["rss_kb_end"]), d
sr = [f(l) for l in lines if l.startswith("soak records=")]
assert sr and sr[0]["failed"] == "0" and sr[0]["samples"] == "2", sr
# What chute sent, by the tool's own count, against what chuted acked.
sent = 2000 + 20 + 100000 + int(idle[3]["records"]) + int(sr[0]["records"])
assert sent == acked, (sent, acked)
PY
chuted_stop
stop_mock
echo "PASS"
