#!/bin/bash
# SIGHUP reloads: chuted reads its file again, the workers apply what may
# change while running, and a worker forked after the reload (a restart)
# starts with the reloaded settings, not the ones chuted started with.
# Seen through compression: 1,000 records of 512 identical bytes are about
# 0.5 MB on the wire uncompressed and a few KB with lz4 (bytes_sent in
# chutectl status).  Against the mock: one broker, one partition.
# Asserts: none -> lz4 by SIGHUP compresses; a worker killed after that is
# replaced and still compresses; socket.timeout.ms by SIGHUP reaches the
# worker's open connections (a Metadata answer slowed to 1 s times out at
# 300 ms); a change that needs a restart is named in the log and left
# alone; a bad file keeps the running configuration.  chutectl reload does
# the same and answers with the outcome.
. "$(dirname "$0")/lib.sh" "$1"
topic=reload
name="reload-$$"
conf=$TEST_TMP/chute.conf
RECORDS=1000

write_conf() { # write_conf LINES...: bootstrap and name, then LINES
    printf 'bootstrap.servers=%s\nname=%s\nworkers=1\nlinger.ms=20\n' \
        "$BOOTSTRAP" "$name" >"$conf"
    printf '%s\n' "$@" >>"$conf"
}

status_field() { # status_field KEY: the worker's KEY in chutectl --json status
    "$BUILD/bin/chutectl" -n "$name" --json status | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["workers"][0][sys.argv[1]])' "$1"
}

# sent_bytes: bytes on the wire for RECORDS compressible records
sent_bytes() {
    local before after
    before=$(status_field bytes_sent)
    head -c 512 /dev/zero | tr '\0' x >"$TEST_TMP/value"
    for _ in $(seq $RECORDS); do cat "$TEST_TMP/value"; echo; done |
        timeout 30 "$BUILD/bin/chute-cat" -n "$name" -t "$topic" \
            >/dev/null 2>>"$TEST_TMP/cat.log" ||
        fail "chute-cat failed"
    after=$(status_field bytes_sent)
    echo $((after - before))
}

applied() { # the reloads the worker (w0) logged as applied so far
    grep -c 'w0: settings .* applied' "$TEST_TMP/chuted.log"
}

hup() { # hup: SIGHUP, then wait until the worker applied it
    local before
    before=$(applied)
    kill -HUP $SUP
    wait_until 10 sh -c "[ \$(grep -c 'w0: settings .* applied' \
        '$TEST_TMP/chuted.log') -gt $before ]" ||
        fail "the worker did not apply the reload"
}

start_mock 1 "$topic:1"
write_conf compression.codec=none
"$BUILD/bin/chuted" -c "$conf" 2>>"$TEST_TMP/chuted.log" &
SUP=$!
track_pid $SUP
wait_until 10 "$BUILD/bin/chutectl" -n "$name" status >/dev/null 2>&1 ||
    fail "chuted did not come up"

plain=$(sent_bytes)
echo "reload: none: $plain bytes"
[ "$plain" -gt $((RECORDS * 512)) ] || fail "uncompressed batches of $plain bytes"

write_conf compression.codec=lz4
hup
lz4=$(sent_bytes)
echo "reload: lz4 after SIGHUP: $lz4 bytes"
[ "$lz4" -lt $((plain / 10)) ] || fail "lz4 after SIGHUP: $lz4 bytes"

# The replacement of a killed worker starts with the reloaded settings.
pid=$(status_field pid)
kill -KILL "$pid"
wait_until 10 sh -c "[ \"\$('$BUILD/bin/chutectl' -n '$name' --json status |
    /usr/bin/python3 -c 'import json,sys; w=json.load(sys.stdin)[\"workers\"][0]; print(w[\"restarts\"], w[\"pid\"] > 0)')\" = '1 True' ]" ||
    fail "the killed worker was not replaced"
again=$(sent_bytes)
echo "reload: lz4 after a worker restart: $again bytes"
[ "$again" -lt $((plain / 10)) ] ||
    fail "the replaced worker sent $again bytes: it started with the settings of chuted's start"

# socket.timeout.ms reaches the connections the worker has open.
write_conf compression.codec=lz4 socket.timeout.ms=300 metadata.max.age.ms=200
hup
mock_cmd rtt 1 1000 || fail "mock rtt: $MOCK_REPLY"
wait_until 10 grep -q \
    'w0: broker .*: request timed out (Metadata, socket.timeout.ms)' \
    "$TEST_TMP/chuted.log" || fail "no Metadata request timed out at 300 ms"
mock_cmd rtt 1 0 || fail "mock rtt: $MOCK_REPLY"
echo "reload: socket.timeout.ms 300 timed out a slow Metadata request"

# A restart-only property is named and left; a bad file changes nothing.
write_conf compression.codec=lz4 slots=32
kill -HUP $SUP
wait_until 10 grep -q 'reload: "slots" changed; it needs a restart' \
    "$TEST_TMP/chuted.log" || fail "no warning for slots"
write_conf compression.codec=none linger.ms=abc
kill -HUP $SUP
wait_until 10 grep -q 'reload: .*keeping the running configuration' \
    "$TEST_TMP/chuted.log" || fail "a bad file was not refused"
last=$(sent_bytes)
[ "$last" -lt $((plain / 10)) ] || fail "a refused reload changed the codec"

# chutectl reload does what SIGHUP does, and answers: the restart-only
# property, or the reason a bad file is refused (exit 1, nothing changed).
ctl() { "$BUILD/bin/chutectl" -n "$name" "$@"; }
write_conf compression.codec=none slots=32
before=$(applied)
ctl --json reload >"$TEST_TMP/reload.json" || fail "chutectl reload failed"
grep -q '"restart_needed":"slots"' "$TEST_TMP/reload.json" ||
    fail "chutectl reload did not name slots: $(cat "$TEST_TMP/reload.json")"
wait_until 10 sh -c "[ \$(grep -c 'w0: settings .* applied' \
    '$TEST_TMP/chuted.log') -gt $before ]" ||
    fail "the worker did not apply chutectl reload"
[ "$(sent_bytes)" -gt $((RECORDS * 512)) ] ||
    fail "chutectl reload did not apply compression.codec=none"
write_conf compression.codec=lz4 linger.ms=abc
ctl reload 2>"$TEST_TMP/reload.err" && fail "chutectl reload took a bad file"
grep -q 'linger.ms.*abc.*is not an integer' "$TEST_TMP/reload.err" ||
    fail "chutectl reload gave no reason: $(cat "$TEST_TMP/reload.err")"
[ "$(sent_bytes)" -gt $((RECORDS * 512)) ] ||
    fail "a refused chutectl reload changed the codec"
echo "reload: chutectl reload applied, named slots, refused a bad file"
chuted_stop
stop_mock
echo "reload: ok"
