# seclib.sh: certificates and a one-node Apache Kafka with TLS and SASL
# listeners, for the security tests (sourced after lib.sh).
#
#   sec_certs DIR          a CA, the broker's certificate (for 127.0.0.1
#                          only), an expired one, client certificates (one
#                          with an encrypted key), and a second CA nobody
#                          trusts; all made here with the openssl CLI
#   sec_kafka_start DIR    a one-node cluster (scripts/kafka.sh -b 1) in
#                          $TEST_TMP/seckafka with the listeners
#                          PLAINTEXT (the tests' reader), SSL, MTLS (client
#                          certificate required), EXPIRED (an expired
#                          broker certificate), SASL_PLAINTEXT (PLAIN,
#                          SCRAM-SHA-256/512, OAUTHBEARER) and SASL_SSL
#                          (PLAIN, SCRAM-SHA-512, OAUTHBEARER); SCRAM users
#                          alice (SEC_PASSWORD) and bob (bob-secret); sessions of SEC_REAUTH_MS (KIP-368).
#                          Sets SEC_DIR, BOOTSTRAP (plaintext) and
#                          SEC_SSL, SEC_MTLS, SEC_EXPIRED, SEC_SASL,
#                          SEC_SASL_SSL (host:port each); stopped at
#                          cleanup.
#   sec_token DIR SUB SECS an unsecured OAUTHBEARER token (alg none) for
#                          SUB, valid SECS seconds, in DIR/token

SEC_USER=alice
SEC_PASSWORD=alice-secret
SEC_KEY_PASSWORD=client-key-pw
SEC_REAUTH_MS=${SEC_REAUTH_MS:-6000}

sec_ssl() {
    openssl "$@" >>"$SEC_DIR/openssl.log" 2>&1 || fail "openssl $1 failed (log: $(tail -n 3 "$SEC_DIR/openssl.log"))"
}

# sec_ca NAME: a self-signed CA, NAME.pem and NAME.key.
sec_ca() {
    sec_ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout "$SEC_DIR/$1.key" -out "$SEC_DIR/$1.pem" -days 30 \
        -subj "/CN=chute test $1"
}

# sec_cert NAME CA SAN [DAYS]: NAME.key (PKCS#8) and NAME.crt signed by CA.
sec_cert() {
    sec_ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$SEC_DIR/$1.key" -out "$SEC_DIR/$1.csr" -subj "/CN=$1"
    printf 'subjectAltName=%s\n' "$3" >"$SEC_DIR/$1.ext"
    sec_ssl x509 -req -in "$SEC_DIR/$1.csr" -CA "$SEC_DIR/$2.pem" \
        -CAkey "$SEC_DIR/$2.key" -CAcreateserial -out "$SEC_DIR/$1.crt" \
        -days "${4:-30}" -extfile "$SEC_DIR/$1.ext"
}

# sec_expired NAME CA SAN: a certificate that expired in 2021 (openssl ca
# takes explicit dates).
sec_expired() {
    local d=$SEC_DIR/ca-db
    mkdir -p "$d"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
dir = $d
database = $d/index.txt
serial = $d/serial
new_certs_dir = $d
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
[ext]
subjectAltName = $3
CNF
    sec_ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$SEC_DIR/$1.key" -out "$SEC_DIR/$1.csr" -subj "/CN=$1"
    sec_ssl ca -batch -config "$d/ca.cnf" -cert "$SEC_DIR/$2.pem" \
        -keyfile "$SEC_DIR/$2.key" -in "$SEC_DIR/$1.csr" \
        -out "$SEC_DIR/$1.crt" -extensions ext \
        -startdate 20200101000000Z -enddate 20210101000000Z
}

sec_certs() {
    SEC_DIR=$1
    mkdir -p "$SEC_DIR"
    sec_ca ca
    sec_ca otherca
    sec_cert broker ca "IP:127.0.0.1"
    sec_expired expired ca "IP:127.0.0.1"
    sec_cert client ca "DNS:chute-client"
    sec_cert client2 ca "DNS:chute-client-2"
    sec_cert rogue otherca "DNS:chute-client"
    # The broker's PEM key stores: the key and the chain in one file.
    cat "$SEC_DIR/broker.key" "$SEC_DIR/broker.crt" >"$SEC_DIR/broker.pem"
    cat "$SEC_DIR/expired.key" "$SEC_DIR/expired.crt" >"$SEC_DIR/expired.pem"
    # The first client key encrypted: ssl.key.password opens it.
    sec_ssl pkcs8 -topk8 -in "$SEC_DIR/client.key" \
        -out "$SEC_DIR/client.enc.key" -passout "pass:$SEC_KEY_PASSWORD"
    chmod 600 "$SEC_DIR"/*.key
}

sec_props() {
    local jaas_plain="org.apache.kafka.common.security.plain.PlainLoginModule required user_$SEC_USER=\"$SEC_PASSWORD\";"
    local jaas_scram="org.apache.kafka.common.security.scram.ScramLoginModule required;"
    local jaas_oauth="org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"admin\";"
    local l
    cat <<PROPS
ssl.keystore.type=PEM
ssl.keystore.location=$SEC_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SEC_DIR/ca.pem
listener.name.mtls.ssl.client.auth=required
listener.name.expired.ssl.keystore.type=PEM
listener.name.expired.ssl.keystore.location=$SEC_DIR/expired.pem
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512,OAUTHBEARER
connections.max.reauth.ms=$SEC_REAUTH_MS
PROPS
    for l in sasl_plaintext sasl_ssl; do
        echo "listener.name.$l.plain.sasl.jaas.config=$jaas_plain"
        echo "listener.name.$l.scram-sha-256.sasl.jaas.config=$jaas_scram"
        echo "listener.name.$l.scram-sha-512.sasl.jaas.config=$jaas_scram"
        echo "listener.name.$l.oauthbearer.sasl.jaas.config=$jaas_oauth"
    done
}

sec_kafka_start() {
    sec_certs "$1"
    sec_props >"$SEC_DIR/server.properties"
    KAFKA_DIR=$TEST_TMP/seckafka
    export KAFKA_DIR
    # The watchdog goes first: a node it sees stopping would end the test
    # shell in the middle of its clean-up, before chuted is stopped.
    on_cleanup "lib_unwatch 'a Kafka node'; '$LIB_TOP/scripts/kafka.sh' stop >/dev/null 2>&1"
    kafka start -b 1 -l SSL:SSL -l MTLS:SSL -l EXPIRED:SSL \
        -l SASL_PLAINTEXT:SASL_PLAINTEXT -l SASL_SSL:SASL_SSL \
        -p "$SEC_DIR/server.properties" \
        -u "SCRAM-SHA-512=[name=$SEC_USER,password=$SEC_PASSWORD]" \
        -u "SCRAM-SHA-256=[name=$SEC_USER,password=$SEC_PASSWORD]" \
        -u "SCRAM-SHA-512=[name=bob,password=bob-secret]" \
        >"$TEST_TMP/seckafka.start" || fail "could not start the security cluster"
    BOOTSTRAP=$(cat "$KAFKA_DIR/bootstrap")
    SEC_SSL=$(cat "$KAFKA_DIR/listener.SSL")
    SEC_MTLS=$(cat "$KAFKA_DIR/listener.MTLS")
    SEC_EXPIRED=$(cat "$KAFKA_DIR/listener.EXPIRED")
    SEC_SASL=$(cat "$KAFKA_DIR/listener.SASL_PLAINTEXT")
    SEC_SASL_SSL=$(cat "$KAFKA_DIR/listener.SASL_SSL")
    export BOOTSTRAP
    lib_watch "a Kafka node" '$KAFKA_DIR/node-$LIB_DEAD_NODE/log' kafka_nodes_ok
}

b64url() {
    base64 -w0 | tr '+/' '-_' | tr -d '='
}

sec_token() {
    local now exp
    now=$(date +%s)
    exp=$((now + $3))
    printf '%s.%s.' "$(printf '{"alg":"none"}' | b64url)" \
        "$(printf '{"sub":"%s","iat":%d,"exp":%d}' "$2" "$now" "$exp" | b64url)" \
        >"$1/token.new"
    chmod 600 "$1/token.new"
    mv "$1/token.new" "$1/token"
}
