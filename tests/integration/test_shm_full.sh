#!/bin/bash
# A full /dev/shm is a clear start-up error of chuted, never a SIGBUS in a
# client later: chuted allocates its shared memory for real at start.
# Each case runs chuted in a private mount namespace (unshare -m, root
# only) over a small tmpfs on /dev/shm:
#  - 32 MiB: the one user space's object (32 MiB of report rings and the
#    rings; users.max=1) does not fit;
#  - 40 MiB with a 16 MiB buffer pool: the user space fits, the state
#    does not, and the user space must not stay behind;
#  - 128 MiB with a 1 MiB pool: it fits, chuted starts and stops cleanly.
# A failed start must exit 1 within seconds, naming the object and the
# reason, and leave /dev/shm empty.  The failing ones need no broker (their
# bootstrap.servers is never reached); the last sends through the mock.
. "$(dirname "$0")/lib.sh" "$1"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "shm_full: skipped (needs root and unshare -m)"
    exit 0
fi
BUILD_ABS=$(cd "$BUILD" && pwd)

# in_ns SIZE CMD: runs CMD (a shell command) in a mount namespace of its
# own whose /dev/shm is an empty tmpfs of SIZE; what CMD leaves in
# /dev/shm is listed on fd 3 ($TEST_TMP/left).
in_ns() {
    local size=$1
    shift
    timeout 30 unshare -m --propagation private sh -c "
        mount -t tmpfs -o size=$size tmpfs /dev/shm || exit 90
        $*
        rc=\$?
        ls /dev/shm >'$TEST_TMP/left'
        exit \$rc"
}

chuted_cmd() { # chuted_cmd NAME ARGS...: the command line, log appended
    local name=$1
    shift
    echo "'$BUILD_ABS/bin/chuted' -X bootstrap.servers=${BOOTSTRAP:-127.0.0.1:9}" \
        "-X name=$name -X slots=1 -X users.max=1 -X workers=1 -X ring.size=64k -X message.max.bytes=16384 -X batch.size=16384 $*" \
        "2>>'$TEST_TMP/chuted.log'"
}

refused() { # refused SIZE WHICH ARGS...: chuted must fail on object WHICH
    local size=$1 which=$2 name="full-$$-$1" rc=0 t0
    shift 2
    : >"$TEST_TMP/chuted.log"
    t0=${EPOCHREALTIME/./}
    in_ns "$size" "timeout 5 $(chuted_cmd "$name" "$@")" || rc=$?
    [ "$rc" -ne 90 ] || fail "could not mount a tmpfs on /dev/shm"
    [ "$rc" -ne 124 ] || fail "$size: chuted started in a full /dev/shm (still running after 5 s)"
    [ "$rc" -eq 1 ] || fail "$size: chuted exited $rc, not 1: $(cat "$TEST_TMP/chuted.log")"
    grep -q "cannot allocate [0-9]* bytes of shared memory for \"/chute.$name.$which\" (is /dev/shm full? see df /dev/shm): No space left on device" \
        "$TEST_TMP/chuted.log" || fail "$size: no clear error: $(cat "$TEST_TMP/chuted.log")"
    [ ! -s "$TEST_TMP/left" ] || fail "$size: left in /dev/shm: $(cat "$TEST_TMP/left")"
    echo "shm_full: /dev/shm of $size: exit 1 in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms: $(grep -o 'cannot allocate.*' "$TEST_TMP/chuted.log")"
}

refused 32m u0 -X buffer.memory=1m
refused 40m state -X buffer.memory=16m

# Room enough: chuted comes up (its control socket is in /tmp, outside
# the tmpfs).  Then a file fills the tmpfs to the last byte, and a client
# sends 3000 records through rings whose pages nobody had touched yet:
# they are chuted's already, so the client gets no SIGBUS, and every record
# arrives.  Then chuted stops cleanly and leaves nothing behind.
start_mock 1 "full:1"
name="fits-$$"
: >"$TEST_TMP/chuted.log"
cat >"$TEST_TMP/fits.sh" <<FITS
$(chuted_cmd "$name" -X buffer.memory=1m) &
pid=\$!
i=0
until '$BUILD_ABS/bin/chutectl' -n $name status >/dev/null 2>&1; do
    i=\$((i + 1)); [ \$i -lt 100 ] || { kill -KILL \$pid; exit 91; }
    kill -0 \$pid 2>/dev/null || exit 92
    sleep 0.1
done
dd if=/dev/zero of=/dev/shm/filler bs=64k 2>/dev/null
[ "\$(df --output=avail /dev/shm | tail -1)" -eq 0 ] || exit 93
timeout 60 '$BUILD_ABS/tests/sendload' -n $name -t full -c 0 -N 3000 -k 50 \
    -s 16 >/dev/null
rc=\$?
rm -f /dev/shm/filler
kill -TERM \$pid
wait \$pid || exit 94
exit \$rc
FITS
rc=0
in_ns 128m "sh '$TEST_TMP/fits.sh'" || rc=$?
case $rc in
0) ;;
135) fail "the client died of SIGBUS in a full /dev/shm" ;;
91 | 92) fail "chuted did not come up in a 128 MiB /dev/shm: $(cat "$TEST_TMP/chuted.log")" ;;
93) fail "the filler left room in /dev/shm" ;;
94) fail "chuted did not stop cleanly: $(cat "$TEST_TMP/chuted.log")" ;;
*) fail "the client failed (status $rc) in a full /dev/shm" ;;
esac
[ ! -s "$TEST_TMP/left" ] || fail "a clean stop left: $(cat "$TEST_TMP/left")"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t full -e 3000 -o "$TEST_TMP/dump" ||
    fail "kverify failed"
/usr/bin/python3 "$(dirname "$0")/check_topic.py" "$TEST_TMP/dump" --clients 1 \
    --count 3000 --keys 50 --maxpad 16 --partitions 1 || fail "topic check failed"
echo "shm_full: /dev/shm of 128m, then filled up: a client sent 3000 records without SIGBUS"
