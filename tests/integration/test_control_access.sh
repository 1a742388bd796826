#!/bin/bash
# Who may do what on the control socket (docs/security.md), against the
# mock.  Clients run as other uids with setpriv (numeric ids: no passwd
# entries are made); the intake group is "users", admin.group "adm".
#   1. a stranger (uid 61001, groups users) gets status and resolves a
#      topic (chute-cat sends a record), and status shows its connection
#      under the uid the kernel gave, not anything it sent;
#   2. the stranger's scale, drain, reload and flush are refused with
#      CHUTE_ERR_DENIED and a message (chutectl exits 1), counted in status
#      (refused_not_admin) and in /metrics; nothing changed (one worker,
#      still accepting);
#   3. a member of adm by a supplementary group flushes and scales to 2;
#      one whose primary group is adm scales back to 1; root reloads;
#      none of them is counted as refused;
#   4. the member drains: chuted exits 0.
# Needs root (setpriv to other uids); skipped otherwise.
. "$(dirname "$0")/lib.sh" "$1"
need_other_uids
topic=acc
name="acc-$$"
PY=/usr/bin/python3
CTLCONN=$LIB_TOP/tests/integration/ctlconn.py

# as UID GID GROUPS CMD...: CMD as that uid and gid, with supplementary
# GROUPS (a comma list).
as() {
    local uid=$1 gid=$2 groups=$3
    shift 3
    timeout 30 setpriv --reuid="$uid" --regid="$gid" --groups="$groups" -- "$@"
}
stranger() { as 61001 61001 "$USERS" "$@"; }
member() { as 61003 61003 "$USERS,$ADM" "$@"; }   # adm: supplementary
primary() { as 61004 "$ADM" "$USERS" "$@"; }      # adm: primary group
ctl() { "$BUILD/bin/chutectl" -n "$name" "$@"; }
status_json() { # status_json EXPR: EXPR of root's chutectl --json status
    timeout 10 "$BUILD/bin/chutectl" -n "$name" --json status | $PY -c '
import json, sys
st = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
metric() { # metric SAMPLE: its value in /metrics
    curl -s -m 10 "http://127.0.0.1:$PORT/metrics" |
        awk -v k="$1" '$1 == k { print $2 }'
}

start_mock 1 "$topic:2"
for _ in 1 2 3 4 5; do
    PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" -X name="$name" \
        -X workers=1 -X slots=2 -X intake.group=users -X admin.group=adm \
        -X metrics.listen="127.0.0.1:$PORT" 2>>"$TEST_TMP/chuted.log" &
    SUP=$!
    track_pid $SUP
    wait_until 10 sh -c "timeout 2 '$BUILD/bin/chutectl' -n '$name' status >/dev/null 2>&1 ||
        ! kill -0 $SUP 2>/dev/null" || fail "chuted did not come up"
    kill -0 $SUP 2>/dev/null && break
done
kill -0 $SUP 2>/dev/null || fail "chuted did not start: $(tail -3 "$TEST_TMP/chuted.log")"
chuted_watch

# ---- 1. a stranger reads status and resolves topics
stranger "$BUILD/bin/chutectl" -n "$name" status >"$TEST_TMP/st.txt" 2>&1 ||
    fail "status as a stranger: $(cat "$TEST_TMP/st.txt")"
echo hello | stranger "$BUILD/bin/chute-cat" -n "$name" -t "$topic" \
    >"$TEST_TMP/cat.out" 2>&1 ||
    fail "chute-cat as a stranger: $(cat "$TEST_TMP/cat.out")"
stranger "$BUILD/tests/chute-probe" topic "$name" "$topic" CHUTE_OK \
    >"$TEST_TMP/probe.out" 2>&1 ||
    fail "topic resolution as a stranger: $(cat "$TEST_TMP/probe.out")"
stranger $PY "$CTLCONN" hold "$name" 1 "$TEST_TMP/hold.stop" >"$TEST_TMP/hold.out" &
track_pid $!
wait_until 10 grep -q accepted=1 "$TEST_TMP/hold.out" ||
    fail "the stranger's connection: $(cat "$TEST_TMP/hold.out")"
[ "$(status_json '[u["connections"] for u in st["control"]["users"] if u["uid"] == 61001]')" = "[1]" ] ||
    fail "status does not show uid 61001's connection: $(status_json 'st["control"]["users"]')"
touch "$TEST_TMP/hold.stop"
echo "1: a stranger reads status, resolves and sends; status shows uid 61001"

# ---- 2. the stranger may not change the service
for cmd in "scale 2" drain reload "flush 1000"; do
    # shellcheck disable=SC2086
    stranger "$BUILD/bin/chutectl" -n "$name" $cmd >"$TEST_TMP/deny.out" 2>&1 &&
        fail "chutectl $cmd as a stranger succeeded"
    grep -q "chutectl: ${cmd%% *} failed: \"${cmd%% *}\" changes the service: only root, chuted's own user (uid 0) or a member of admin.group \"adm\" may ask for it, not uid 61001 (gid 61001, pid [0-9]*) (CHUTE_ERR_DENIED)" \
        "$TEST_TMP/deny.out" || fail "chutectl $cmd: $(cat "$TEST_TMP/deny.out")"
done
[ "$(status_json 'st["control"]["refused_not_admin"]')" = 4 ] ||
    fail "refused_not_admin is $(status_json 'st["control"]["refused_not_admin"]'), not 4"
[ "$(metric 'chute_control_refused_total{reason="not_admin"}')" = 4 ] ||
    fail "/metrics: $(metric 'chute_control_refused_total{reason="not_admin"}') refusals, not 4"
[ "$(status_json '(st["worker_count"], st["accepting"])')" = "(1, True)" ] ||
    fail "a refused request changed the service: $(status_json '(st["worker_count"], st["accepting"])')"
grep -q 'WARN  sup: control socket: "scale" changes the service' \
    "$TEST_TMP/chuted.log" || fail "the refusal was not logged"
echo "2: scale, drain, reload and flush refused for the stranger, counted 4"

# ---- 3. admins: admin.group as a supplementary or primary group, root
member "$BUILD/bin/chutectl" -n "$name" flush 5000 >"$TEST_TMP/ok.out" 2>&1 ||
    fail "flush by a member of adm: $(cat "$TEST_TMP/ok.out")"
member "$BUILD/bin/chutectl" -n "$name" scale -w 20000 2 >"$TEST_TMP/ok.out" 2>&1 ||
    fail "scale 2 by a member of adm: $(cat "$TEST_TMP/ok.out")"
[ "$(status_json 'st["worker_count"]')" = 2 ] || fail "scale 2 did not happen"
primary "$BUILD/bin/chutectl" -n "$name" scale -w 20000 1 >"$TEST_TMP/ok.out" 2>&1 ||
    fail "scale 1 with adm as primary group: $(cat "$TEST_TMP/ok.out")"
[ "$(status_json 'st["worker_count"]')" = 1 ] || fail "scale 1 did not happen"
ctl reload >"$TEST_TMP/ok.out" 2>&1 || fail "reload by root: $(cat "$TEST_TMP/ok.out")"
[ "$(status_json 'st["control"]["refused_not_admin"]')" = 4 ] ||
    fail "an admin's request was counted as refused"
echo "3: adm by supplementary group flushed and scaled, by primary group scaled, root reloaded"

# ---- 4. an admin drains
lib_unwatch "chuted"
member "$BUILD/bin/chutectl" -n "$name" drain >"$TEST_TMP/ok.out" 2>&1 ||
    fail "drain by a member of adm: $(cat "$TEST_TMP/ok.out")"
wait_until 20 sh -c "! kill -0 $SUP 2>/dev/null" || fail "chuted still runs 20 s after drain"
wait $SUP || fail "chuted exited non-zero after drain"
stop_mock
echo "4: a member of adm drained; chuted exited 0"
