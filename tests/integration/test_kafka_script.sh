#!/bin/bash
# scripts/kafka.sh refuses what it cannot do with a clear message and a
# non-zero exit, and starts nothing: commands without a cluster, an unknown
# command, a broker that does not exist, a bad broker count.  Needs no JVM.
. "$(dirname "$0")/lib.sh" "$1"
script=$LIB_TOP/scripts/kafka.sh
export KAFKA_DIR=$TEST_TMP/none

# expect_error WANT ARGS...: kafka.sh ARGS fails and says WANT.
expect_error() {
    local want=$1 out rc=0
    shift
    out=$("$script" "$@" 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || fail "kafka.sh $* succeeded: $out"
    grep -q -- "$want" <<<"$out" || fail "kafka.sh $*: no '$want' in: $out"
}

expect_error "no cluster in" bootstrap
expect_error "no cluster in" topic t 3
expect_error "no cluster in" kill 1
expect_error "no cluster in" log 1
expect_error "usage" frobnicate
expect_error "usage" ""
expect_error "takes a number of brokers" start -b 0
expect_error "takes a number of brokers" start -b x
"$script" status >/dev/null 2>&1 && fail "status succeeded without a cluster"
"$script" stop || fail "stop without a cluster should do nothing and succeed"
[ ! -e "$KAFKA_DIR" ] || fail "a refused command left $KAFKA_DIR behind"

# A cluster's files with brokers 1..3: an unknown broker id is named.
mkdir -p "$KAFKA_DIR"
echo "9 1 2 3" >"$KAFKA_DIR/nodes"
echo "1 2 3" >"$KAFKA_DIR/broker-ids"
expect_error "no broker 7" kill 7
expect_error "no broker 9" stop-broker 9
expect_error "usage: kafka.sh topic" topic onlyname
echo "kafka.sh: every refusal clear"
