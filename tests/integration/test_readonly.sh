#!/bin/bash
# What a client may write (docs/security.md, "Shared memory"), against the
# mock.  Needs root: clients run as other uids in intake.group ("users").
#   1. a client user cannot open the status object (ring positions,
#      resolved, topics, clients) for writing, map it writable or truncate
#      it (it can read it), nor open any user object by name;
#   2. client entries are the supervisor's to give: a uid that registers
#      more than clients.per.user processes is refused with a message,
#      while another uid still sends; once its process is gone, its
#      entries are free again.
. "$(dirname "$0")/lib.sh" "$1"
need_other_uids
as() { local uid=$1; shift; as_uid "$uid" "$USERS" timeout 30 "$@"; }
PY=/usr/bin/python3
CTLCONN=$LIB_TOP/tests/integration/ctlconn.py
name="ro-$$"
start_mock 1 "ro:2"
chuted_start "$name" -X workers=1 -X slots=2 -X intake.group=users \
    -X clients.per.user=5
chuted_watch

# ---- 1. the status object is read-only for clients
as 61001 $PY - "$name" <<'PYEOF' || fail "a client could write the status object"
import mmap, os, sys
name = sys.argv[1]
status = "/dev/shm/chute.%s.status" % name
for f in os.listdir("/dev/shm"):        # user objects: by descriptor only
    if f.startswith("chute.%s.u" % name):
        try:
            os.open("/dev/shm/" + f, os.O_RDONLY)
            sys.exit("opened user object %s by name" % f)
        except PermissionError:
            pass
try:
    os.open(status, os.O_RDWR)
    sys.exit("opened the status object read-write")
except PermissionError:
    pass
fd = os.open(status, os.O_RDONLY)
try:
    mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    sys.exit("mapped the status object writable")
except PermissionError:
    pass
try:
    os.ftruncate(fd, 0)
    sys.exit("truncated the status object")
except OSError:
    pass
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
assert m[:8] == bytes.fromhex("010a434855544500"), "not a chute object"
print("status object: read-only for uid", os.getuid())
PYEOF
seq 100 | as 61001 "$BUILD/bin/chute-cat" -n "$name" -t ro ||
    fail "a client user could not send"
echo "readonly: the status object cannot be written, mapped writable or truncated by a client"

# ---- 2. client entries: given by the supervisor, capped per uid
as 61001 $PY "$CTLCONN" register "$name" 6 "$TEST_TMP/release" \
    >"$TEST_TMP/reg.out" & holder=$!
track_pid $holder
wait_until 20 grep -q registered= "$TEST_TMP/reg.out" || fail "register hung"
grep -q "registered=5 refused=1" "$TEST_TMP/reg.out" ||
    fail "not capped at 5: $(cat "$TEST_TMP/reg.out")"
grep -q "uid 61001 already has 5 client processes registered (clients.per.user)" \
    "$TEST_TMP/reg.out" || fail "no clear refusal: $(cat "$TEST_TMP/reg.out")"
if seq 10 | as 61001 "$BUILD/bin/chute-cat" -n "$name" -t ro 2>"$TEST_TMP/cat.err"; then
    fail "uid 61001 registered a sixth client"
fi
grep -q "clients.per.user" "$TEST_TMP/cat.err" ||
    fail "chute-cat did not say why: $(cat "$TEST_TMP/cat.err")"
seq 100 | as 61002 "$BUILD/bin/chute-cat" -n "$name" -t ro ||
    fail "another uid was locked out"
touch "$TEST_TMP/release"
wait $holder || fail "the registering process failed"
seq 100 | as 61001 "$BUILD/bin/chute-cat" -n "$name" -t ro ||
    fail "the entries of a process that is gone were not freed"
echo "readonly: 5 entries for uid 61001, the sixth refused, uid 61002 unaffected, freed at exit"
chuted_stop
