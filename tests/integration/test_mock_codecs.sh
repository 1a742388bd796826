#!/bin/bash
# Every codec through librdkafka 2.0.2's mock cluster, which stores batches
# as they come (it decompresses nothing): for each codec one chuted sends
# 2 clients' 2,000 keyed records; librdkafka's consumer (kverify, CRC
# checks, its own decompressors) reads them back and check_topic.py checks
# each once, in per-key order; the stored batches carry the codec
# (batchdump.py --batches).  A quick check that nothing on the mock path
# refuses a codec.
. "$(dirname "$0")/lib.sh" "$1"
CLIENTS=2
PER_CLIENT=2000
PARTS=4

start_mock 3
for codec in none gzip snappy lz4 zstd; do
    name="mc-$codec-$$"
    topic="mc-$codec"
    chuted_start "$name" -X workers=1 -X compression.codec="$codec"
    send_clients "$name" "$topic" $CLIENTS $PER_CLIENT ||
        fail "a client failed ($codec)"
    check_sent "$topic" $CLIENTS $PER_CLIENT $PARTS
    check_codecs "$topic" --want "$codec" || fail "batches not in $codec"
    chuted_stop
    echo "mock codecs: $codec: $((CLIENTS * PER_CLIENT)) records checked"
done
stop_mock
