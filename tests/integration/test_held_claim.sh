#!/bin/bash
# A live client that claims ring space and never commits (SIGSTOPped here:
# a stuck or hostile writer), against the mock, with
# ring.claim.timeout.ms=3000:
#   - while the claim is held the worker waits without spinning (under
#     6 clock ticks of CPU in 1.5 s; polling the claim took 13);
#   - past the timeout it skips the claim (counted as a dead writer) and
#     the slot's other records, held behind it, go through;
#   - the writer's commit after SIGCONT is refused, and its record is not
#     delivered;
#   - a SIGTERM drain with a claim held ends within the timeout.
. "$(dirname "$0")/lib.sh" "$1"
start_mock 1 "held:1"
name="held-$$"
chuted_start "$name" -X workers=1 -X ring.claim.timeout.ms=3000
chuted_watch
slot_field() { # slot_field COLUMN: summed over the slots
    "$BUILD/bin/chutectl" -n "$name" status |
        awk -v col="$1" '$1 == "SLOT" { on = 1; next } on && NF == 9 { s += $col }
                         END { print s + 0 }'
}
worker=$("$BUILD/bin/chutectl" -n "$name" status | awk '$1 == "0" { print $2; exit }')
[ -n "$worker" ] && kill -0 "$worker" || fail "no worker pid in status"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$worker/stat"; }

hold() { # hold: a ringpoke that claims and stops; its pid in $poke
    "$BUILD/tests/ringpoke" -n "$name" -t held -p 0 stop >"$TEST_TMP/poke.out" &
    poke=$!
    track_pid $poke
    wait_until 5 sh -c "grep -q T /proc/$poke/stat" || fail "ringpoke did not stop"
}

hold
timeout 30 "$BUILD/tests/sendload" -n "$name" -t held -c 0 -N 1000 -k 50 \
    -s 16 >/dev/null & held=$!
track_pid $held
sleep 0.5
t0=$(cpu_ticks)
sleep 1.5
ticks=$(($(cpu_ticks) - t0))
[ "$ticks" -lt 6 ] || fail "the worker spun while a claim was held: $ticks ticks in 1.5 s"
kill -0 $held 2>/dev/null || fail "a client went past the held claim before the timeout"
echo "held: the worker waited on the claim using $ticks CPU ticks in 1.5 s"
wait $held || fail "the client held behind the claim failed"
[ "$(slot_field 8)" -ge 1 ] || fail "the skipped claim was not counted"
kill -CONT $poke
wait $poke || fail "ringpoke failed after SIGCONT"
grep -q "commit refused" "$TEST_TMP/poke.out" ||
    fail "the late commit was not refused: $(cat "$TEST_TMP/poke.out")"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t held -e 1000 -o "$TEST_TMP/dump" ||
    fail "kverify failed"
! grep -q "$(printf ringpoke-stopped | od -An -tx1 | tr -d ' \n')" "$TEST_TMP/dump" ||
    fail "the skipped record was delivered"
echo "held: skipped after the timeout, the 1000 records behind it delivered, the late commit refused"

hold
lib_unwatch "chuted"
kill -TERM "$SUP"
lib_wait_gone "$SUP" 150 || fail "chuted did not drain within 15 s with a claim held"
wait "$SUP" || fail "chuted did not exit 0"
echo "held: a drain with a claim held ended"
