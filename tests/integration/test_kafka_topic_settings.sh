#!/bin/bash
# Per-topic settings against real Apache Kafka (3 brokers): two topics,
# each batched by its own settings, checked in the batches the broker
# stored (batchdump.py --batches reads their headers) and in what
# `chutectl topics` shows.  The configuration exercises the precedence:
#   a glob for both topics        compression.codec=lz4
#   a longer glob for topic A     compression.codec=none, batch.num.messages=3
#   the exact name of topic B     linger.ms=300
# on top of linger.ms=0 and no compression.  So A's batches are
# uncompressed and hold at most 3 records; B's are lz4 and, at 2,000
# records/s, gather many records each over 300 ms where linger 0 would
# send them nearly one by one.  Every record is read back by librdkafka's
# consumer (CRC checks) and checked: once, in per-key order.  Small pool
# chunks (batch.size and message.max.bytes 20,000, batch.num.messages
# 1,000: 1,489 chunks) and a slower A keep the pool from running dry: a
# batch sealed while no chunk is free has nowhere to be compressed into
# and goes uncompressed.
. "$(dirname "$0")/lib.sh" "$1"
CLIENTS=2
PER_CLIENT=2000
PARTS=3
a="ts-a-$$"
b="ts-b-$$"
name="ts-$$"
conf=$TEST_TMP/chute.conf

use_kafka
kafka_topic "$a" $PARTS
kafka_topic "$b" $PARTS
cat >"$conf" <<EOF
bootstrap.servers=$BOOTSTRAP
name=$name
workers=2
message.max.bytes=20000
batch.size=20000
batch.num.messages=1000
linger.ms=0
compression.codec=none
topic.ts-*.compression.codec=lz4
topic.ts-a-*.compression.codec=none
topic.ts-a-*.batch.num.messages=3
topic.$b.linger.ms=300
EOF
chuted_start "$name" -c "$conf"

# CLIENTS clients per topic, both topics at once: A's at 200 records/s
# (as many batches of 3), B's at 1,000.
pids=""
for t in "$a" "$b"; do
    rate=1000
    [ "$t" = "$a" ] && rate=200
    for c in $(seq 0 $((CLIENTS - 1))); do
        timeout 120 "$BUILD/tests/sendload" -n "$name" -t "$t" -c "$c" \
            -N $PER_CLIENT -k 500 -s 64 -r $rate &
        pids="$pids $!"
    done
done
for p in $pids; do
    wait "$p" || fail "a client failed"
done

# What chutectl topics says the workers batch each topic with.
"$BUILD/bin/chutectl" -n "$name" --json topics >"$TEST_TMP/topics.json" ||
    fail "chutectl topics failed"
/usr/bin/python3 - "$TEST_TMP/topics.json" "$a" "$b" <<'EOF' ||
import json, sys
topics = {t["name"]: t["settings"] for t in json.load(open(sys.argv[1]))["topics"]}
want = {
    sys.argv[2]: {"linger.ms": 0, "batch.num.messages": 3, "compression.codec": "none"},
    sys.argv[3]: {"linger.ms": 300, "batch.num.messages": 1000, "compression.codec": "lz4"},
}
for name, w in want.items():
    have = topics[name]
    for k, v in w.items():
        if have[k] != v:
            sys.exit("chutectl topics: %s has %s=%r, want %r" % (name, k, have[k], v))
print("topic settings: chutectl topics shows both topics' own settings")
EOF
    fail "chutectl topics shows other settings"
"$BUILD/bin/chutectl" -n "$name" topics | grep -Eq "^$b +[0-9]+ +$PARTS +300 +20000 +1000 +lz4 +-1 " ||
    fail "the topics table has no settings for $b"

check_sent "$a" $CLIENTS $PER_CLIENT $PARTS
check_sent "$b" $CLIENTS $PER_CLIENT $PARTS
# A: uncompressed; B: lz4 wherever compressing pays (a batch that does not
# shrink goes uncompressed).
check_codecs "$a" --want none || fail "topic $a was compressed"
check_codecs "$b" --want lz4 || fail "topic $b was not lz4"
# batches: partition base count codec pid epoch seq first_ts max_ts bytes
awk -F'\t' '
    { n++; recs += $3; if ($3 > 3) big++ }
    END {
        printf "topic settings: A: %d batches, %.1f records each, %d over 3\n", n, recs / n, big
        exit (n == 0 || big)
    }' "$TEST_TMP/$a.batches" || fail "topic $a was not batched by its own settings"
awk -F'\t' '
    { n++; recs += $3 }
    END {
        printf "topic settings: B: %d batches, %.1f records each\n", n, recs / n
        exit (n == 0 || recs / n < 20)
    }' "$TEST_TMP/$b.batches" || fail "topic $b did not linger"

chuted_stop
echo "topic settings: ok"
