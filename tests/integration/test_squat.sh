#!/bin/bash
# Names another local user could squat (issue 10, item 5), against the
# mock.  Needs root: the squatter runs as uid 61010 with setpriv.
#   1. shared memory of the instance's names made by the squatter before
#      chuted starts: chuted refuses to take it over, saying whose it is,
#      and leaves it alone;
#   2. a runtime directory others may write, or a symbolic link: refused;
#   3. a running chuted binds no abstract socket: its control socket and
#      each worker's doorbell are files in the runtime directory, which
#      the squatter cannot write into; records still flow;
#   4. objects a dead chuted left, but with a mode that lets others write
#      (chmod 0666 after the crash): refused; back to 0600/0660, taken
#      over.
. "$(dirname "$0")/lib.sh" "$1"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: test_squat needs root to run a squatter as another uid"
    exit 0
fi
command -v setpriv >/dev/null || fail "no setpriv (util-linux)"
squatter() { timeout 30 setpriv --reuid=61010 --regid=61010 --clear-groups -- "$@"; }
name="squat-$$"
export CHUTE_RUN_DIR=$TEST_TMP/run
chmod 755 "$TEST_TMP"
on_cleanup rm -f "/dev/shm/chute.$name.status" "/dev/shm/chute.$name.state"
start_mock 1 "sq:4"

chuted_try() { # chuted_try LOG ARGS...: a chuted that must refuse to start
    local log=$1
    shift
    if timeout 20 "$BUILD/bin/chuted" -X bootstrap.servers="$BOOTSTRAP" \
        -X name="$name" "$@" 2>"$log"; then
        fail "chuted started: $(cat "$log")"
    fi
}

# ---- 1. squatted shared memory
for o in status state; do
    squatter /usr/bin/python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
os.fchmod(fd, 0o666)
os.ftruncate(fd, 1 << 20)' "/dev/shm/chute.$name.$o" ||
        fail "the squatter could not make /dev/shm/chute.$name.$o"
done
before=$(stat -c '%i %s %U' /dev/shm/chute.$name.status /dev/shm/chute.$name.state)
chuted_try "$TEST_TMP/squat.log"
grep -q "refusing to take over shared memory \"/chute.$name.status\": it belongs to uid 61010 with mode 0666" \
    "$TEST_TMP/squat.log" || fail "no clear refusal: $(cat "$TEST_TMP/squat.log")"
[ "$(stat -c '%i %s %U' /dev/shm/chute.$name.status /dev/shm/chute.$name.state)" = "$before" ] ||
    fail "chuted touched the squatter's objects"
rm -f /dev/shm/chute.$name.status /dev/shm/chute.$name.state
echo "squat: another user's shared memory refused and left alone"

# ---- 2. runtime directories that are not safe
mkdir -m 1777 "$TEST_TMP/open"
CHUTE_RUN_DIR=$TEST_TMP/open chuted_try "$TEST_TMP/open.log"
grep -q "runtime directory \"$TEST_TMP/open\" is writable by others (mode 1777)" \
    "$TEST_TMP/open.log" || fail "no clear refusal: $(cat "$TEST_TMP/open.log")"
mkdir -m 755 "$TEST_TMP/real"
ln -s "$TEST_TMP/real" "$TEST_TMP/link"
CHUTE_RUN_DIR=$TEST_TMP/link chuted_try "$TEST_TMP/link.log"
grep -q "is not a directory (a symbolic link?)" "$TEST_TMP/link.log" ||
    fail "no clear refusal: $(cat "$TEST_TMP/link.log")"
[ -z "$(ls "$TEST_TMP/real")" ] || fail "chuted put files behind the link"
echo "squat: a world-writable runtime directory and a symbolic link refused"

# ---- 3. no abstract sockets; doorbells are files nobody else can replace
chuted_start "$name" -X workers=2
chuted_watch
wait_until 10 test -S "$CHUTE_RUN_DIR/chute-$name.w1" || fail "no doorbell file"
for f in sock w0 w1; do
    [ "$(stat -c %a "$CHUTE_RUN_DIR/chute-$name.$f")" = 660 ] ||
        fail "chute-$name.$f has mode $(stat -c %a "$CHUTE_RUN_DIR/chute-$name.$f")"
done
pids=" $SUP $(pgrep -P "$SUP" | tr '\n' ' ')"
inodes=$(for p in $pids; do ls -l /proc/$p/fd 2>/dev/null; done |
    sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p' | sort -u)
[ -n "$inodes" ] || fail "no sockets found for chuted and its workers"
abstract=$(awk 'NR > 1 && $8 ~ /^@/ { print $7 }' /proc/net/unix | sort -u |
    comm -12 - <(echo "$inodes"))
[ -z "$abstract" ] || fail "chuted or a worker binds an abstract socket: $abstract"
if squatter touch "$CHUTE_RUN_DIR/chute-$name.w9" 2>/dev/null; then
    fail "another user could make a file in the runtime directory"
fi
seq 1000 | timeout 30 "$BUILD/bin/chute-cat" -n "$name" -t sq ||
    fail "records did not flow"
echo "squat: no abstract sockets; doorbells are 0660 files in a directory only chuted writes"

# ---- 4. a dead chuted's objects with a mode that lets others write
lib_unwatch "chuted"
kill -KILL $SUP
wait $SUP 2>/dev/null
for p in $pids; do lib_wait_gone "$p" 150 || fail "worker $p outlived chuted"; done
chmod 0666 /dev/shm/chute.$name.state
chuted_try "$TEST_TMP/mode.log"
grep -q "refusing to take over shared memory \"/chute.$name.state\": it belongs to uid 0 with mode 0666" \
    "$TEST_TMP/mode.log" || fail "no clear refusal: $(cat "$TEST_TMP/mode.log")"
chmod 0600 /dev/shm/chute.$name.state
chuted_start "$name" -X workers=2
grep -q "took over the shared memory" "$TEST_TMP/chuted.log" ||
    fail "the objects were not taken over once their mode was right"
echo "squat: a writable-by-others object refused; taken over once 0600"
chuted_stop
