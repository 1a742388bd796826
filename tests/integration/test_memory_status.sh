#!/bin/bash
# chutectl status reports the instance's memory: the sizes of its shared
# objects as /dev/shm has them (fixed at start: unchanged after traffic),
# and the resident set of the supervisor and of each worker as /proc has
# them; the table shows the same.  Against the bundled mock.
. "$(dirname "$0")/lib.sh" "$1"
CHUTE_NAME="mem-$$"
export CHUTE_NAME
start_mock 3 mem:6
chuted_start "$CHUTE_NAME" -X workers=2 -X users.max=2
chuted_watch

# check_memory: the reply against /dev/shm and /proc/PID/status.
check_memory() {
    "$BUILD/bin/chutectl" -n "$CHUTE_NAME" --json status >"$TEST_TMP/st.json" ||
        fail "status --json failed"
    /usr/bin/python3 - "$TEST_TMP/st.json" "$CHUTE_NAME" "$SUP" <<'PY' || fail "memory in status --json is wrong"
import json, os, sys
st = json.load(open(sys.argv[1]))
name, sup = sys.argv[2], int(sys.argv[3])
m = st["memory"]
size = lambda kind: os.stat("/dev/shm/chute.%s.%s" % (name, kind)).st_size
assert m["user_spaces"] == 2, m
for u in range(2):
    assert m["user_space_bytes"] == size("u%d" % u), (m, u, size("u%d" % u))
assert m["status_bytes"] == size("status"), (m, size("status"))
assert m["state_bytes"] == size("state"), (m, size("state"))
assert 0 < m["pool_bytes"] < m["state_bytes"], m
assert m["shared_bytes"] == 2 * m["user_space_bytes"] + m["status_bytes"] + m["state_bytes"], m
def vmrss(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
# Resident sets move a little between the reply and our read: within 25 %.
def close(got, want, what):
    assert want > 0 and abs(got - want) <= want // 4, (what, got, want)
close(m["supervisor_rss_bytes"], vmrss(sup), "supervisor")
assert len(st["workers"]) == 2
for w in st["workers"]:
    close(w["rss_bytes"], vmrss(w["pid"]), "worker %d" % w["index"])
assert m["workers_rss_bytes"] == sum(w["rss_bytes"] for w in st["workers"]), m
print(json.dumps(m))
PY
}

check_memory >"$TEST_TMP/before"
"$BUILD/tests/sendload" -n "$CHUTE_NAME" -t mem -c 0 -N 20000 -k 100 -s 32 ||
    fail "sendload failed"
check_memory >"$TEST_TMP/after"
# The objects' sizes are fixed at start: traffic changes none of them.
/usr/bin/python3 - "$TEST_TMP/before" "$TEST_TMP/after" <<'PY' || fail "shared sizes changed with traffic"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("user_space_bytes", "user_spaces", "status_bytes", "state_bytes", "pool_bytes", "shared_bytes"):
    assert a[k] == b[k], (k, a[k], b[k])
PY

"$BUILD/bin/chutectl" -n "$CHUTE_NAME" status >"$TEST_TMP/st.txt" || fail "status failed"
grep -Eq '^memory: shared [0-9.]+ MiB fixed at start: 2 user spaces of' "$TEST_TMP/st.txt" ||
    fail "no shared-memory line in the status table: $(cat "$TEST_TMP/st.txt")"
grep -Eq '^memory: resident supervisor [0-9.]+ MiB, workers [0-9.]+ MiB: 0: [0-9.]+ 1: [0-9.]+' "$TEST_TMP/st.txt" ||
    fail "no resident-set line in the status table: $(grep memory "$TEST_TMP/st.txt")"
chuted_stop
stop_mock
echo "PASS"
