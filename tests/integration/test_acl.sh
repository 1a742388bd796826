#!/bin/bash
# Topic access rules (acl.user.NAME, acl.group.NAME; docs/security.md),
# against the mock.  Needs root: clients run as other uids with setpriv.
#   1. uid 61001 may write a-* and "shared" (its user rule), not b-1 nor
#      c-1: chute_topic fails with CHUTE_ERR_DENIED and a message;
#   2. uid 61003, a member of adm by a supplementary group, may write b-*
#      (the group rule) but not a-1;
#   3. a refused topic is never looked up: it is not in the topic table;
#   4. refusals are counted per uid in status;
#   5. a reload whose rules no longer allow "shared" takes it back.
. "$(dirname "$0")/lib.sh" "$1"
need_other_uids
as() { local uid=$1 groups=$2; shift 2; as_uid "$uid" "$groups" timeout 30 "$@"; }
name="acl-$$"
CHUTE_NAME=$name
json() { status_json "$1"; }
may() { # may UID GROUPS TOPIC: 10 records go through
    seq 10 | as "$1" "$2" "$BUILD/bin/chute-cat" -n "$name" -t "$3" \
        >/dev/null 2>"$TEST_TMP/cat.err" ||
        fail "uid $1 could not write $3: $(cat "$TEST_TMP/cat.err")"
}
may_not() { # may_not UID GROUPS TOPIC: refused, with a message
    if seq 1 | as "$1" "$2" "$BUILD/bin/chute-cat" -n "$name" -t "$3" \
        >/dev/null 2>"$TEST_TMP/cat.err"; then
        fail "uid $1 wrote $3"
    fi
    grep -q "uid $1 may not write topic \"$3\": no acl.user or acl.group rule allows it" \
        "$TEST_TMP/cat.err" || fail "no clear refusal: $(cat "$TEST_TMP/cat.err")"
}
cat >"$TEST_TMP/acl.conf" <<CONF
acl.user.61001=a-*, shared
acl.group.adm=b-*
CONF
start_mock 1 "a-1:2" "b-1:2" "c-1:2" "shared:2"
"$BUILD/bin/chuted" -c "$TEST_TMP/acl.conf" -X bootstrap.servers="$BOOTSTRAP" \
    -X name="$name" -X intake.group=users 2>>"$TEST_TMP/chuted.log" &
SUP=$!
track_pid $SUP
wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "chuted did not come up: $(cat "$TEST_TMP/chuted.log")"
chuted_watch

may 61001 "$USERS" a-1
may 61001 "$USERS" shared
may_not 61001 "$USERS" b-1
may_not 61001 "$USERS" c-1
echo "acl: uid 61001 writes a-1 and shared, is refused b-1 and c-1"
may 61003 "$USERS,$ADM" b-1
may_not 61003 "$USERS,$ADM" a-1
echo "acl: a member of adm writes b-1, is refused a-1"
[ "$(json '"c-1" in [t["name"] for t in st["topics"]]')" = False ] ||
    fail "a refused topic was looked up: $(json 'st["topics"]')"
[ "$(json '[u["refused_acl"] for u in st["users"] if u["uid"] == 61001]')" = "[2]" ] ||
    fail "61001's refusals not counted 2: $(json 'st["users"]')"
[ "$(json '[u["refused_acl"] for u in st["users"] if u["uid"] == 61003]')" = "[1]" ] ||
    fail "61003's refusals not counted 1: $(json 'st["users"]')"
echo "acl: c-1 never looked up; refusals counted per uid"
echo "acl.user.61001=a-*" >"$TEST_TMP/acl.conf"
echo "acl.group.adm=b-*" >>"$TEST_TMP/acl.conf"
"$BUILD/bin/chutectl" -n "$name" reload >/dev/null || fail "reload failed"
may_not 61001 "$USERS" shared
may 61001 "$USERS" a-1
grep -q "uid 61001 may no longer write topic \"shared\"" "$TEST_TMP/chuted.log" ||
    fail "the reload did not take shared back"
echo "acl: a reload took shared back from uid 61001"
chuted_stop
