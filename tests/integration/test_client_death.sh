#!/bin/bash
# Clients that die or stop in the middle of a send (tests/tools/ringpoke):
#  - dead between claim and commit: the worker turns the claim into padding
#    within a second, counts it, and the other clients of that slot go on;
#  - dead right after the tail CAS (nothing written): padded over after 1 s;
#  - stopped (SIGSTOP) between claim and commit: its record is not
#    destroyed; status shows the slot blocked by its pid; once continued it
#    commits and its record is delivered with everyone else's.
. "$(dirname "$0")/lib.sh" "$1"
here=$(dirname "$0")
N=20000
start_mock 1 "death:1"
name="death-$$"
chuted_start "$name" -X workers=1

slot_field() { # slot_field COLUMN: the one slot holding topic "death" p0
    "$BUILD/bin/chutectl" -n "$name" status |
        awk -v col="$1" '$1 == "SLOT" { on = 1; next } on && NF == 9 { s += $col }
                         END { print s + 0 }'
}

send() { # send CLIENT COUNT: everything must arrive within 20 s
    timeout 20 "$BUILD/tests/sendload" -n "$name" -t death -c "$1" -N "$2" \
        -k 50 -s 16 >/dev/null || fail "client $1 was held up or failed"
}

"$BUILD/tests/ringpoke" -n "$name" -t death -p 0 die ||
    fail "ringpoke die failed"
t0=$(date +%s%N)
send 0 $N
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(slot_field 8)" -ge 1 ] || fail "dead writer not counted"
echo "death: claim of a dead writer skipped; the next client took $ms ms"

"$BUILD/tests/ringpoke" -n "$name" -t death -p 0 unwritten ||
    fail "ringpoke unwritten failed"
send 1 $N
[ "$(slot_field 8)" -ge 2 ] || fail "unwritten claim not counted"
echo "death: unwritten claim padded over"

"$BUILD/tests/ringpoke" -n "$name" -t death -p 0 stop > "$TEST_TMP/poke.out" &
poke=$!
track_pid $poke
wait_until 5 sh -c "grep -q T /proc/$poke/stat" || fail "ringpoke did not stop"
"$BUILD/tests/sendload" -n "$name" -t death -c 2 -N 1000 -k 50 -s 16 \
    >/dev/null &
held=$!
track_pid $held
wait_until 5 sh -c "[ \$($BUILD/bin/chutectl -n $name status |
    awk '\$1 == \"SLOT\" { on = 1; next } on && NF == 9 && \$7 == $poke' |
    wc -l) -eq 1 ]" || fail "status does not show the slot blocked by $poke"
kill -0 $held 2>/dev/null || fail "a client went past a stopped writer's claim"
echo "death: slot blocked by stopped writer $poke, its record kept"
kill -CONT $poke
wait $poke || fail "ringpoke failed after SIGCONT"
wait $held || fail "the held client failed"
"$BUILD/tests/kverify" -b "$BOOTSTRAP" -t death -e $((2 * N + 1001)) \
    -o "$TEST_TMP/dump" || fail "kverify failed"
grep -c "$(printf ringpoke-stopped | od -An -tx1 | tr -d ' \n')" \
    "$TEST_TMP/dump" | grep -qx 1 || fail "the stopped writer's record is not there once"
[ "$(wc -l < "$TEST_TMP/dump")" -eq $((2 * N + 1001)) ] ||
    fail "$(wc -l < "$TEST_TMP/dump") records, expected $((2 * N + 1001))"
echo "death: $((2 * N + 1001)) records delivered"
chuted_stop
