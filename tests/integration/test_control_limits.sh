#!/bin/bash
# The control socket's limits (docs/security.md), against the mock.  Raw
# connections come from ctlconn.py; other uids through setpriv (numeric
# ids, no passwd entries); the intake group is "users".
#   1. caps: control.connections.max=32, control.connections.per.user=12.
#      uid 61001 opens 30 and gets 12 (18 refused with CHUTE_ERR_TOO_MANY
#      naming control.connections.per.user); uid 61002 still gets status
#      and resolves a topic, then fills its own 12; uid 61005 is refused
#      (the last 8 are for admins) but root still gets status; status
#      counts and lists all of it; a libchute client of 61001 waits for
#      room and resolves once 61001 lets go; then 61005 gets in;
#   2. time limits: control.idle.timeout.ms=1000 closes a silent
#      connection after about a second, not one that keeps asking;
#      control.request.timeout.ms=1500 closes a request begun and never
#      finished although a byte comes every 0.2 s;
#   3. memory: 250 requests that claim 1 MB and send 200 KB are closed at
#      once (the 16 KiB cap) and chuted's RSS stays within 8 MB of where it
#      was (it grew by 49 MB before); three rounds of 250 partial requests
#      within the cap are all closed at control.request.timeout.ms, the
#      descriptors come back, and RSS ends within 8 MB of the start;
#   4. fd exhaustion: with chuted's descriptor limit just above what it
#      uses, 40 connections wait; chuted's CPU time over 3 s stays under
#      0.3 s (accept spun at 70 % before), the log says so once, and once
#      the connections go, status answers again.
# Every wait is bounded; the watchdog fails the test at once if chuted
# dies.  Needs root (setpriv, prlimit on chuted); skipped otherwise.
. "$(dirname "$0")/lib.sh" "$1"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: test_control_limits needs root to run clients as other uids"
    exit 0
fi
command -v setpriv >/dev/null || fail "no setpriv (util-linux)"
command -v prlimit >/dev/null || fail "no prlimit (util-linux)"
USERS=$(getent group users | cut -d: -f3)
[ -n "$USERS" ] || fail "the group users must exist"
topic=lim
name="lim-$$"
PY=/usr/bin/python3
CTLCONN=$LIB_TOP/tests/integration/ctlconn.py
chmod 755 "$TEST_TMP" # the other uids look for files there

as() { # as UID CMD...: CMD as UID (gid the same), in the group users
    local uid=$1
    shift
    timeout 60 setpriv --reuid="$uid" --regid="$uid" --groups="$USERS" -- "$@"
}
ctl() { "$BUILD/bin/chutectl" -n "$name" "$@"; }
status_json() { # status_json EXPR: EXPR of root's chutectl --json status
    timeout 10 "$BUILD/bin/chutectl" -n "$name" --json status | $PY -c '
import json, sys
st = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SUP/status"; }
fds() { ls "/proc/$SUP/fd" | wc -l; }
cpu_ticks() { sed 's/.*) //' "/proc/$SUP/stat" | awk '{ print $12 + $13 }'; }
start() { # start ARGS...: a fresh chuted with these -X settings
    chuted_start "$name" -X workers=1 -X slots=2 -X intake.group=users "$@"
    chuted_watch
}
# hold FILE UID N: UID opens N connections and says hello on each, in the
# background, until release FILE; waits for its counts.
hold() {
    : >"$1"
    as "$2" $PY "$CTLCONN" hold "$name" "$3" "$1.stop" >"$1" &
    track_pid $!
    wait_until 30 grep -q accepted= "$1" || fail "uid $2's connections: $(cat "$1")"
}
release() { # release FILE: let go of hold FILE's connections
    touch "$1.stop"
}

start_mock 1 "$topic:2"

# ---- 1. per-user and overall caps
start -X control.connections.max=32 -X control.connections.per.user=12
hold "$TEST_TMP/a" 61001 30
grep -q "accepted=12 refused=18 closed=0 timeout=0" "$TEST_TMP/a" ||
    fail "uid 61001 opening 30: $(cat "$TEST_TMP/a")"
grep -q "reason=-12 uid 61001 (pid [0-9]*) has 12 control connections open, the most one user may have (control.connections.per.user)" \
    "$TEST_TMP/a" || fail "the refusal: $(cat "$TEST_TMP/a")"
as 61002 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>"$TEST_TMP/b.err" ||
    fail "uid 61002 was locked out: $(cat "$TEST_TMP/b.err")"
as 61002 "$BUILD/tests/chute-probe" topic "$name" "$topic" CHUTE_OK \
    >"$TEST_TMP/probe.out" 2>&1 || fail "uid 61002 could not resolve: $(cat "$TEST_TMP/probe.out")"
hold "$TEST_TMP/b" 61002 12
grep -q "accepted=12 refused=0" "$TEST_TMP/b" || fail "uid 61002 opening 12: $(cat "$TEST_TMP/b")"
hold "$TEST_TMP/c" 61005 1
grep -q "accepted=0 refused=1" "$TEST_TMP/c" || fail "uid 61005 got in past 24: $(cat "$TEST_TMP/c")"
grep -q "reason=-12 24 control connections are open, the most chuted takes from users who are not admins (control.connections.max); refusing uid 61005" \
    "$TEST_TMP/c" || fail "the refusal: $(cat "$TEST_TMP/c")"
release "$TEST_TMP/c"
ctl status >/dev/null 2>"$TEST_TMP/root.err" || fail "root was locked out: $(cat "$TEST_TMP/root.err")"
got=$(status_json '(sorted((u["uid"], u["connections"]) for u in st["control"]["users"]), st["control"]["refused_user_limit"], st["control"]["refused_full"])')
[ "$got" = "([(0, 1), (61001, 12), (61002, 12)], 18, 1)" ] || fail "status: $got"
# A libchute client of 61001 waits for room instead of failing.
as 61001 "$BUILD/tests/chute-probe" topic "$name" "$topic" CHUTE_OK \
    >"$TEST_TMP/probe.a" 2>&1 &
probe=$!
sleep 1
kill -0 $probe 2>/dev/null || fail "61001's client did not wait for room: $(cat "$TEST_TMP/probe.a")"
release "$TEST_TMP/a"
wait $probe || fail "61001's client, once there was room: $(cat "$TEST_TMP/probe.a")"
wait_until 10 sh -c "[ \$(timeout 2 '$BUILD/bin/chutectl' -n '$name' --json status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"control\"][\"connections\"])') = 13 ]" ||
    fail "uid 61001's connections were not closed"
hold "$TEST_TMP/c2" 61005 1
grep -q "accepted=1 refused=0" "$TEST_TMP/c2" || fail "uid 61005 after 61001 left: $(cat "$TEST_TMP/c2")"
release "$TEST_TMP/b"
release "$TEST_TMP/c2"
chuted_stop
echo "1: 61001 capped at 12 of 30; 61002 unaffected; 61005 refused past 24, root not; counted"

# ---- 2. idle and request time limits
start -X control.idle.timeout.ms=1000 -X control.request.timeout.ms=1500
as 61001 $PY "$CTLCONN" busy "$name" 3 >"$TEST_TMP/busy" &
busy=$!
as 61001 $PY "$CTLCONN" idle "$name" 10 >"$TEST_TMP/idle" ||
    fail "idle: $(cat "$TEST_TMP/idle")"
idle_ms=$(sed -n 's/closed_after_ms=//p' "$TEST_TMP/idle")
[ -n "$idle_ms" ] && [ "$idle_ms" -ge 900 ] && [ "$idle_ms" -le 3000 ] ||
    fail "a silent connection: $(cat "$TEST_TMP/idle") (want closed after 1000 ms)"
wait $busy
grep -q "^ok requests=" "$TEST_TMP/busy" ||
    fail "a connection asking every 0.3 s was closed: $(cat "$TEST_TMP/busy")"
as 61001 $PY "$CTLCONN" trickle "$name" 10 >"$TEST_TMP/trickle" ||
    fail "trickle: $(cat "$TEST_TMP/trickle")"
trickle_ms=$(sed -n 's/closed_after_ms=//p' "$TEST_TMP/trickle")
[ -n "$trickle_ms" ] && [ "$trickle_ms" -ge 1400 ] && [ "$trickle_ms" -le 3500 ] ||
    fail "a request trickling in: $(cat "$TEST_TMP/trickle") (want closed 1500 ms after its first byte)"
got=$(status_json '(st["control"]["closed_idle"] >= 1, st["control"]["closed_request_timeout"])')
[ "$got" = "(True, 1)" ] || fail "status: $got"
chuted_stop
echo "2: silent connection closed after $idle_ms ms, a busy one kept, a trickling request closed after $trickle_ms ms"

# ---- 3. memory: oversized and partial requests
start -X control.connections.max=1024 -X control.connections.per.user=300 \
    -X control.request.timeout.ms=2000
rss0=$(rss_kb)
fd0=$(fds)
: >"$TEST_TMP/big"
as 61001 $PY "$CTLCONN" partial "$name" 250 1000000 200000 3 >"$TEST_TMP/big" &
big=$!
wait_until 20 grep -q sent= "$TEST_TMP/big" || fail "oversized: $(cat "$TEST_TMP/big")"
rss1=$(rss_kb)
wait $big
grep -q "closed=250 open=0" "$TEST_TMP/big" || fail "oversized requests not closed: $(cat "$TEST_TMP/big")"
[ $((rss1 - rss0)) -lt 8192 ] ||
    fail "RSS grew from $rss0 to $rss1 kB with 250 oversized requests"
# Three rounds: malloc keeps what the first round freed and the next ones
# reuse it; a buffer kept after its connection closed would add 4 MB a
# round.
rss_round=()
for round in 1 2 3; do
    out=$TEST_TMP/part$round
    : >"$out"
    as 61001 $PY "$CTLCONN" partial "$name" 250 16000 15000 5 >"$out" &
    part=$!
    wait_until 20 grep -q sent= "$out" || fail "partial: $(cat "$out")"
    fd2=$(fds)
    [ "$fd2" -ge $((fd0 + 240)) ] || fail "only $((fd2 - fd0)) of 250 partial requests were open"
    wait $part
    grep -q "closed=250 open=0" "$out" ||
        fail "partial requests outlived control.request.timeout.ms: $(cat "$out")"
    wait_until 5 sh -c "[ \$(ls /proc/$SUP/fd | wc -l) -le $((fd0 + 2)) ]" ||
        fail "descriptors: $fd0 before, $(fds) after"
    rss_round[$round]=$(rss_kb)
done
if grep -q libasan "/proc/$SUP/maps"; then
    echo "NOTICE: RSS after the rounds not checked: AddressSanitizer keeps freed memory in quarantine"
elif [ $((rss_round[3] - rss0)) -ge 8192 ]; then
    fail "RSS: $rss0 kB before, ${rss_round[*]} after each round of 250 timed-out requests"
fi
got=$(status_json '(st["control"]["closed_too_large"], st["control"]["closed_request_timeout"])')
[ "$got" = "(250, 750)" ] || fail "status: $got"
chuted_stop
echo "3: RSS $rss0 kB, $rss1 with 250 oversized requests, ${rss_round[*]} after each of three rounds of 250 timed out; all closed"

# ---- 4. out of descriptors: accept must not spin
start
: >"$TEST_TMP/open"
fd0=$(fds)
hard=$(prlimit --pid "$SUP" --nofile -o HARD --noheadings | tr -d ' ')
prlimit --pid "$SUP" --nofile=$((fd0 + 6)):"$hard" ||
    fail "prlimit"
$PY "$CTLCONN" open "$name" 40 "$TEST_TMP/open.stop" >"$TEST_TMP/open" &
track_pid $!
wait_until 20 grep -q opened=40 "$TEST_TMP/open" || fail "open: $(cat "$TEST_TMP/open")"
wait_until 10 grep -q "cannot accept connections: Too many open files" "$TEST_TMP/chuted.log" ||
    fail "chuted did not run out of descriptors"
t0=$(cpu_ticks)
sleep 3
t1=$(cpu_ticks)
[ $((t1 - t0)) -lt 30 ] || fail "chuted used $((t1 - t0)) ticks of CPU in 3 s out of descriptors"
[ "$(grep -c "cannot accept connections" "$TEST_TMP/chuted.log")" = 1 ] ||
    fail "the log says it more than once: $(grep "cannot accept" "$TEST_TMP/chuted.log" | head -3)"
touch "$TEST_TMP/open.stop"
wait_until 10 timeout 2 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "status did not answer once descriptors were free"
grep -q "accepting connections again" "$TEST_TMP/chuted.log" || fail "no 'accepting again' in the log"
[ "$(status_json 'st["control"]["accept_pauses"] >= 1')" = True ] || fail "accept pauses not counted"
chuted_stop
stop_mock
echo "4: out of descriptors: $((t1 - t0)) CPU ticks in 3 s, logged once; status answers again"
