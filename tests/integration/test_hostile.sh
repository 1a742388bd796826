#!/bin/bash
# One hostile client against a victim of another user (issue 10), on the
# real Apache Kafka cluster.  Needs root: the attacker runs as uid 61001,
# the victim as uid 61002, both in intake.group "users"; the access rules
# let each write only its own topics.
# While the victim sends 40,000 keyed records with delivery reports, the
# attacker (hostile.py) tries to open every object by name for writing
# and to map the status object writable, writes records naming the
# victim's client entries, tails no claim makes and random bytes into
# every ring and report ring it has, then cuts its own object short
# (SIGBUS for whoever touches it), and asks for the victim's topic.
# Asserts: the victim loses nothing (every record once, per-key order,
# every report where the consumer finds the record, no failure charged to
# it); chuted and its workers live (no restart); status shows the
# attacker's refusal (acl) and the cut object.
. "$(dirname "$0")/lib.sh" "$1"
need_other_uids
as() { local uid=$1; shift; as_uid "$uid" "$USERS" "$@"; }
here=$(cd "$(dirname "$0")" && pwd)
PER=40000
name="hostile-$$"
victim_topic="hv-$$"
mkdir -m 777 "$TEST_TMP/out"
CHUTE_NAME=$name
json() { status_json "$1"; }

use_kafka
kafka_topic "$victim_topic" 6
kafka_topic "ha-$$" 2
chuted_start "$name" -X workers=2 -X intake.group=users \
    -X "acl.user.61002=hv-*" -X "acl.user.61001=ha-*"
chuted_watch

as 61002 timeout 150 "$BUILD/tests/sendload" -n "$name" -t "$victim_topic" \
    -c 0 -N $PER -k 300 -s 64 -R "$TEST_TMP/out/r0" -r 8000 \
    >"$TEST_TMP/victim.out" 2>&1 & victim=$!
track_pid $victim
victim_bound() { [ "$(json 'sum(1 for u in st["users"] if u["uid"] == 61002)')" = 1 ]; }
wait_until 20 victim_bound ||
    fail "the victim never registered: $(cat "$TEST_TMP/victim.out")"

as 61001 timeout 60 /usr/bin/python3 "$here/hostile.py" "$name" 61002 6 \
    >"$TEST_TMP/attack.out" 2>&1 & attacker=$!
track_pid $attacker
if echo x | as 61001 timeout 30 "$BUILD/bin/chute-cat" -n "$name" \
    -t "$victim_topic" 2>"$TEST_TMP/steal.err"; then
    fail "the attacker could write the victim's topic"
fi
grep -q "uid 61001 may not write topic \"$victim_topic\"" "$TEST_TMP/steal.err" ||
    fail "no clear refusal: $(cat "$TEST_TMP/steal.err")"
wait $attacker || fail "an attack got through: $(cat "$TEST_TMP/attack.out")"
cat "$TEST_TMP/attack.out"
grep -q "cut its user object" "$TEST_TMP/attack.out" ||
    fail "the attacker did not get to cut its object"
wait $victim || fail "the victim failed: $(cat "$TEST_TMP/victim.out")"

"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t "$victim_topic" -e $PER \
    -o "$TEST_TMP/dump" || fail "kverify failed"
/usr/bin/python3 "$here/check_topic.py" "$TEST_TMP/dump" --clients 1 \
    --count $PER --keys 300 --maxpad 64 --partitions 6 \
    --reports "$TEST_TMP/out/r0" || fail "the victim's records are not intact"
[ "$(json 'sum(w["restarts"] for w in st["workers"])')" = 0 ] ||
    fail "workers were restarted: $(json 'st["workers"]')"
[ "$(json '[u["refused_acl"] for u in st["users"] if u["uid"] == 61001][0] > 0')" = True ] ||
    fail "the attacker's refusal was not counted: $(json 'st["users"]')"
[ "$(json '[u["truncated"] for u in st["users"] if u["uid"] == 61001][0] > 0')" = True ] ||
    fail "no service process met the cut object: $(json 'st["users"]')"
[ "$(json '[u["refused_acl"] for u in st["users"] if u["uid"] == 61002][0]')" = 0 ] ||
    fail "the victim was refused something: $(json 'st["users"]')"
echo "hostile: victim's $PER records intact; users: $(json 'st["users"]')"
chuted_stop
