#!/bin/bash
# TLS and SASL against real Apache Kafka: one node of its own (seclib.sh)
# with SSL, MTLS, EXPIRED, SASL_PLAINTEXT and SASL_SSL listeners and
# certificates made here with openssl; sessions last SEC_REAUTH_MS (6 s),
# so the broker demands re-authentication (KIP-368) during the loads.
#
# Delivery, every mode: 2 clients x 2,000 keyed records through chuted
# (2 workers), read back from the PLAINTEXT listener by librdkafka's
# consumer (kverify, CRC checks): each record once, in key order.
#   ssl              security.protocol=ssl, the test CA, name checked
#   mtls             client certificate, key encrypted (ssl.key.password)
#   sasl_plain       SASL_PLAINTEXT, PLAIN
#   scram512         SASL_SSL, SCRAM-SHA-512, paced over ~9 s: the
#                    connections re-authenticate under load (counted in
#                    /metrics), nothing is lost or doubled
#   oauth            SASL_SSL, OAUTHBEARER; the token file is replaced
#                    during the load and the connections re-authenticate
# Rotation: an mTLS load while the client certificate and key files are
# replaced and chuted gets SIGHUP, then the broker restarts (every
# connection is made again, with the new files): every record once.  Then
# a certificate from a CA the broker does not trust, SIGHUP: a new look-up
# fails naming TLS (the files were read again); the good one back, SIGHUP:
# delivered.
# Errors (message.timeout.ms 3000): wrong password, mechanism the listener
# does not enable, untrusted CA, expired broker certificate, name mismatch
# (localhost for a certificate of 127.0.0.1), plaintext client on a TLS
# port: each gives a log line naming the broker and the cause, the same
# cause in chutectl status, a failure counter in /metrics, and a client
# whose topic look-up fails with it; the failures back off (a bounded
# count), no spinning.  Secrets: the password never appears in the log,
# chuted -D or status; a key file others may read is warned about.
# SEC_PARTS picks sections (default all): deliver rotate errors named
# secrets.
. "$(dirname "$0")/lib.sh" "$1"
. "$(dirname "$0")/seclib.sh"
want() { [[ " ${SEC_PARTS:-deliver rotate errors named secrets} " == *" $1 "* ]]; }
N=2
PER=2000
sec_kafka_start "$TEST_TMP/certs"
C=$SEC_DIR
CA=(-X ssl.ca.location="$C/ca.pem")
SCRAM=(-X sasl.mechanism=SCRAM-SHA-512 -X sasl.username="$SEC_USER"
       -X sasl.password="$SEC_PASSWORD")

metric() { # metric NAME: its value from /metrics
    curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

start_sec() { # start_sec NAME BOOTSTRAP ARGS...: instance sec-NAME-PID
    local name=$1 bs=$2
    shift 2
    MPORT=$(free_port)
    chuted_start "$name" -X bootstrap.servers="$bs" -X workers=2 \
        -X metrics.listen=127.0.0.1:"$MPORT" "$@"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

deliver() { # deliver NAME BOOTSTRAP RATE ARGS...: send, stop, read back
    local name="s$1-$$" bs=$2 rate=$3 topic="sec-$1-$$"
    shift 3
    kafka_topic "$topic" 4 1
    start_sec "$name" "$bs" "$@"
    chuted_watch
    RATE=$rate send_rated "$name" "$topic" || fail "$name: sending failed"
    [ -n "${DURING:-}" ] && eval "$DURING"
    wait_sends || fail "$name: sending failed"
    AFTER_REAUTHS=$(metric chute_broker_reauthentications_total)
    chuted_stop
    check_sent "$topic" $N $PER 4
    echo "ok: $name delivered $((N * PER)) records (re-authentications: ${AFTER_REAUTHS:-?})"
}

send_rated() { # N clients in the background at RATE records/s each (0: no pacing)
    local c
    SEND_PIDS=""
    for c in $(seq 0 $((N - 1))); do
        timeout 150 "$BUILD/tests/sendload" -n "$1" -t "$2" -c "$c" -N $PER \
            -k 500 -s 64 -r "$RATE" &
        SEND_PIDS="$SEND_PIDS $!"
    done
}

wait_sends() {
    local p rc=0
    for p in $SEND_PIDS; do wait "$p" || rc=1; done
    return $rc
}

# ---- delivery in every mode ------------------------------------------------
if want deliver; then
deliver ssl "$SEC_SSL" 0 -X security.protocol=ssl "${CA[@]}"
deliver mtls "$SEC_MTLS" 0 -X security.protocol=SSL "${CA[@]}" \
    -X ssl.certificate.location="$C/client.crt" \
    -X ssl.key.location="$C/client.enc.key" \
    -X ssl.key.password="$SEC_KEY_PASSWORD"
deliver sasl_plain "$SEC_SASL" 0 -X security.protocol=sasl_plaintext \
    -X sasl.mechanism=PLAIN -X sasl.username="$SEC_USER" \
    -X sasl.password="$SEC_PASSWORD"
grep -q "$SEC_PASSWORD" "$TEST_TMP/chuted.log" && fail "the password is in the log"
deliver scram512 "$SEC_SASL_SSL" 220 -X security.protocol=sasl_ssl "${CA[@]}" "${SCRAM[@]}"
[ "${AFTER_REAUTHS:-0}" -ge 2 ] ||
    fail "scram512: ${AFTER_REAUTHS:-no} re-authentications over 9 s of 6 s sessions"
sec_token "$C" alice 3600
DURING='sleep 2; sec_token "$C" alice 7200' \
    deliver oauth "$SEC_SASL_SSL" 500 -X security.protocol=SASL_SSL "${CA[@]}" \
    -X sasl.mechanism=OAUTHBEARER -X sasl.oauthbearer.token.file="$C/token"
[ "${AFTER_REAUTHS:-0}" -ge 1 ] || fail "oauth: no re-authentication after the token changed"
fi

# ---- certificate rotation by SIGHUP under load -------------------------------
if want rotate; then
conf=$TEST_TMP/rot.conf
cp "$C/client.crt" "$TEST_TMP/rot.crt"
cp "$C/client.key" "$TEST_TMP/rot.key"
chmod 600 "$TEST_TMP/rot.key"
printf 'security.protocol=ssl\nssl.ca.location=%s\nssl.certificate.location=%s\nssl.key.location=%s\n' \
    "$C/ca.pem" "$TEST_TMP/rot.crt" "$TEST_TMP/rot.key" >"$conf"
reloads() { # reloads: how often chuted read the TLS files again
    grep -c 'TLS certificates and keys read again' "$TEST_TMP/chuted.log"
}
more_reloads() { [ "$(reloads)" -gt "$1" ]; }
rotate() { # rotate CERT: new files in place, then SIGHUP, wait until applied
    local before
    before=$(reloads)
    cp "$C/$1.crt" "$TEST_TMP/rot.crt.new" && mv "$TEST_TMP/rot.crt.new" "$TEST_TMP/rot.crt"
    cp "$C/$1.key" "$TEST_TMP/rot.key.new" && mv "$TEST_TMP/rot.key.new" "$TEST_TMP/rot.key"
    kill -HUP "$SUP"
    wait_until 10 more_reloads "$before" ||
        fail "rotate $1: chuted did not read the files again"
}
topic="sec-rot-$$"
kafka_topic "$topic" 4 1
rot="srot-$$"
start_sec "$rot" "$SEC_MTLS" -c "$conf"
chuted_watch
RATE=150 send_rated "$rot" "$topic"
sleep 3
rotate client2
# Every connection is made again, with the files read at the reload.
kafka stop-broker 1 || fail "could not stop the broker"
kafka start-broker 1 || fail "could not restart the broker"
wait_sends || fail "rotation: sending failed"
# A certificate the broker does not trust: a new look-up fails in TLS.
rotate rogue
"$BUILD/tests/sendload" -n "$rot" -t "sec-rot2-$$" -c 0 -N 1 >"$TEST_TMP/rogue.out" 2>&1 &&
    fail "rotation: a certificate of an untrusted CA was accepted"
grep -q "TLS" "$TEST_TMP/rogue.out" || fail "rotation: the look-up failed without naming TLS: $(cat "$TEST_TMP/rogue.out")"
rotate client2
"$BUILD/tests/sendload" -n "$rot" -t "sec-rot2-$$" -c 0 -N 100 -k 10 >/dev/null ||
    fail "rotation: the good certificate back did not deliver"
chuted_stop
check_sent "$topic" $N $PER 4
echo "ok: rotation under load delivered $((N * PER)) records; an untrusted one was refused after SIGHUP"
fi

# ---- errors a user can act on -------------------------------------------------
# expect_error NAME BOOTSTRAP TEXT COUNTER ARGS...: chuted with those
# settings; a client's look-up makes the supervisor connect: the log,
# chutectl status and the client's error name TEXT, and the counter moves.
expect_error() {
    local name="se$1-$$" bs=$2 text=$3 counter=$4 n
    shift 4
    : >"$TEST_TMP/chuted.log"
    start_sec "$name" "$bs" -X message.timeout.ms=3000 "$@"
    chuted_watch
    timeout 30 "$BUILD/tests/sendload" -n "$name" -t "sec-err-$$" -c 0 -N 10 \
        >"$TEST_TMP/$name.client" 2>&1 && fail "$name: the client's records went through"
    grep -q -- "$text" "$TEST_TMP/$name.client" ||
        fail "$name: the client's error does not say '$text': $(cat "$TEST_TMP/$name.client")"
    grep -q "WARN .*broker -1 (${bs%:*}:${bs##*:}): .*$text" "$TEST_TMP/chuted.log" ||
        fail "$name: no log line naming the broker and '$text'"
    "$BUILD/bin/chutectl" -n "$name" status >"$TEST_TMP/$name.status"
    grep -q "last security failure .*$text" "$TEST_TMP/$name.status" ||
        fail "$name: chutectl status does not say '$text'"
    n=$(metric "$counter")
    [ "${n:-0}" -ge 1 ] || fail "$name: $counter is ${n:-missing}"
    # Backoff, not a spin: the look-up lasted ~10 s; librdkafka's
    # schedule (100 ms doubling to 10 s) allows a few dozen attempts.
    [ "$n" -le 60 ] || fail "$name: $n failures in ~10 s: spinning"
    grep -q -- "$SEC_PASSWORD\|wrong-pw" "$TEST_TMP/chuted.log" "$TEST_TMP/$name.status" &&
        fail "$name: a password is in the log or the status"
    chuted_stop
    echo "ok: $name: $(grep -m1 "WARN .*$text" "$TEST_TMP/chuted.log" | cut -d' ' -f3-)"
}
want errors && {
expect_error wrongpw "$SEC_SASL_SSL" "authentication failed" chute_broker_sasl_failures_total \
    -X security.protocol=sasl_ssl "${CA[@]}" -X sasl.mechanism=SCRAM-SHA-512 \
    -X sasl.username="$SEC_USER" -X sasl.password=wrong-pw
expect_error mech "$SEC_SASL_SSL" "does not enable this mechanism" chute_broker_sasl_failures_total \
    -X security.protocol=sasl_ssl "${CA[@]}" -X sasl.mechanism=SCRAM-SHA-256 \
    -X sasl.username="$SEC_USER" -X sasl.password="$SEC_PASSWORD"
expect_error untrusted "$SEC_SSL" "unable to get local issuer certificate" chute_broker_tls_failures_total \
    -X security.protocol=ssl -X ssl.ca.location="$C/otherca.pem"
expect_error expired "$SEC_EXPIRED" "certificate has expired" chute_broker_tls_failures_total \
    -X security.protocol=ssl "${CA[@]}"
expect_error mismatch "localhost:${SEC_SSL##*:}" "mismatch" chute_broker_tls_failures_total \
    -X security.protocol=ssl "${CA[@]}"
expect_error plaintext "$SEC_SSL" "TLS listener" chute_broker_tls_failures_total
}

# ---- records fail with a named error -------------------------------------------
# bob's password changes on the broker while chuted runs: his connections
# fail at their next re-authentication, and records sent then fail after
# message.timeout.ms with SASL_AUTHENTICATION_FAILED in their delivery
# reports (not a bare time-out), counted in status.
if want named; then
bobname="sbob-$$"
topic="sec-bob-$$"
kafka_topic "$topic" 1 1
start_sec "$bobname" "$SEC_SASL" -X message.timeout.ms=4000 -X workers=1 \
    -X security.protocol=sasl_plaintext -X sasl.mechanism=SCRAM-SHA-512 \
    -X sasl.username=bob -X sasl.password=bob-secret
chuted_watch
"$BUILD/tests/sendload" -n "$bobname" -t "$topic" -c 0 -N 10 -R "$TEST_TMP/bob1.rep" >/dev/null ||
    fail "bob: the first records failed"
[ "$(awk '$5 == "0"' "$TEST_TMP/bob1.rep" | wc -l)" -eq 10 ] || fail "bob: not all first records acked"
kafka java kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter \
    --add-config 'SCRAM-SHA-512=[iterations=4096,password=changed-pw]' \
    --entity-type users --entity-name bob >/dev/null 2>&1 || fail "ConfigCommand failed"
sasl_failed() { [ "$(metric chute_broker_sasl_failures_total)" -ge 1 ]; }
wait_until 30 sasl_failed || fail "bob: no SASL failure after the password changed"
"$BUILD/tests/sendload" -n "$bobname" -t "$topic" -c 0 -N 20 -R "$TEST_TMP/bob2.rep" \
    >"$TEST_TMP/bob2.out" 2>&1
n=$(awk '$5 == "SASL_AUTHENTICATION_FAILED"' "$TEST_TMP/bob2.rep" | wc -l)
[ "$n" -eq 20 ] || fail "bob: $n of 20 records failed with SASL_AUTHENTICATION_FAILED: $(sort "$TEST_TMP/bob2.rep" | awk '{print $5}' | uniq -c)"
"$BUILD/bin/chutectl" -n "$bobname" status | grep -q "failed with SASL_AUTHENTICATION_FAILED (58): 20" ||
    fail "bob: status does not count the records failed with SASL_AUTHENTICATION_FAILED"
chuted_stop
echo "ok: records failed with SASL_AUTHENTICATION_FAILED after message.timeout.ms"
fi

# ---- secrets -----------------------------------------------------------------
if want secrets; then
dump=$("$BUILD/bin/chuted" -X bootstrap.servers="$SEC_SASL" -X security.protocol=sasl_plaintext \
    -X sasl.username=u -X sasl.password=hunter2 -X ssl.key.password=hunter3 -D) ||
    fail "chuted -D failed"
echo "$dump" | grep -q 'hunter[23]' && fail "chuted -D shows a secret"
echo "$dump" | grep -qx 'sasl.password=\[redacted\]' || fail "chuted -D: no redacted sasl.password"
cp "$C/client.key" "$TEST_TMP/open.key"
chmod 644 "$TEST_TMP/open.key"
: >"$TEST_TMP/chuted.log"
start_sec "sperms-$$" "$SEC_MTLS" -X security.protocol=ssl "${CA[@]}" \
    -X ssl.certificate.location="$C/client.crt" -X ssl.key.location="$TEST_TMP/open.key"
chuted_stop
grep -q "\"$TEST_TMP/open.key\" holds a private key and may be read by every user" "$TEST_TMP/chuted.log" ||
    fail "no warning about a private key others may read"
echo "ok: secrets redacted, open key file warned about"
fi
