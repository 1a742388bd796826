#!/bin/bash
# bench-security.sh BUILD [RECORDS] [RUNS]: chute-bench, chute against
# librdkafka in the same run, over plaintext and over SASL_SSL (TLS with
# SASL PLAIN: Debian 12's librdkafka 2.0.2 cannot do SCRAM with Kafka 4.x,
# it sends a wrong client-final nonce, fixed in librdkafka 2.6.1,
# confluentinc/librdkafka#4895), on one Apache Kafka node with both listeners and
# certificates made by openssl (tests/integration/seclib.sh).  Prints
# chute-bench's median lines for each mode.  Figures from a shared
# machine: read the ratios, not the absolute rates.
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: bench-security.sh BUILD [RECORDS] [RUNS]}" && pwd)
records=${2:-200000}
runs=${3:-3}
SEC_REAUTH_MS=3600000 # steady state: no re-authentication in a run
. "$top/tests/integration/lib.sh" "$build"
. "$top/tests/integration/seclib.sh"
sec_kafka_start "$TEST_TMP/certs"
name="bench-sec-$$"
scram=(security.protocol=sasl_ssl ssl.ca.location="$SEC_DIR/ca.pem"
       sasl.mechanism=PLAIN sasl.username="$SEC_USER"
       sasl.password="$SEC_PASSWORD")

bench() { # bench MODE BOOTSTRAP [KEY=VALUE...]: chuted and librdkafka alike
    local mode=$1 bs=$2 topic="bench-$1" x=() kv
    shift 2
    for kv in "$@"; do x+=(-X "$kv"); done
    kafka_topic "$topic" 12 1
    chuted_start "$name" -X bootstrap.servers="$bs" -X compression.codec=lz4 "${x[@]}"
    echo "== $mode"
    "$build/bin/chute-bench" -b "$bs" -n "$name" -t "$topic" -N "$records" \
        -r "$runs" --codec lz4 "${x[@]}" | grep '^median' ||
        fail "chute-bench failed ($mode)"
    chuted_stop
}
bench plaintext "$BOOTSTRAP"
bench sasl_ssl "$SEC_SASL_SSL" "${scram[@]}"
lib_unwatch "a Kafka node"
