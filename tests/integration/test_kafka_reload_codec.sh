#!/bin/bash
# A SIGHUP that changes one topic's codec under load, against real Apache
# Kafka (3 brokers).  chuted starts with compression.codec=gzip; while 4
# clients send 15,000 keyed records each to topic R at 2,500 records/s and
# 2 clients send to topic O, the file gains topic.R.compression.codec=zstd
# and chuted gets SIGHUP.  Then:
#  - both workers logged the new topic settings, and chutectl topics shows
#    zstd for R and gzip for O;
#  - in each of R's partitions the stored batches are gzip, then zstd, and
#    never gzip again (batchdump.py --batches, check_codecs.py --switch);
#    every partition switched;
#  - O's batches are all gzip: the reload touched only R;
#  - every record of both topics is read back (librdkafka's consumer, CRC
#    checks) once, in per-key order: nothing lost or reordered across the
#    change.
. "$(dirname "$0")/lib.sh" "$1"
PER_CLIENT=15000
PARTS=6
r="rc-$$"
o="rc-other-$$"
name="rc-$$"
conf=$TEST_TMP/chute.conf

write_conf() { # write_conf LINES...
    printf 'bootstrap.servers=%s\nname=%s\nworkers=2\ncompression.codec=gzip\n' \
        "$BOOTSTRAP" "$name" >"$conf"
    printf '%s\n' "$@" >>"$conf"
}

applied() { # how often the workers logged new topic settings
    grep -c 'w[01]: topic settings .* applied' "$TEST_TMP/chuted.log"
}

settings() { # settings TOPIC: its codec as chutectl topics shows it
    "$BUILD/bin/chutectl" -n "$name" --json topics | /usr/bin/python3 -c '
import json, sys
print([t for t in json.load(sys.stdin)["topics"] if t["name"] == sys.argv[1]][0]
      ["settings"]["compression.codec"])' "$1"
}

use_kafka
kafka_topic "$r" $PARTS
kafka_topic "$o" $PARTS
write_conf
chuted_start "$name" -c "$conf"

pids=""
for c in 0 1 2 3; do
    timeout 120 "$BUILD/tests/sendload" -n "$name" -t "$r" -c "$c" \
        -N $PER_CLIENT -k 500 -s 64 -r 2500 &
    pids="$pids $!"
done
for c in 0 1; do
    timeout 120 "$BUILD/tests/sendload" -n "$name" -t "$o" -c "$c" \
        -N $PER_CLIENT -k 500 -s 64 -r 2500 &
    pids="$pids $!"
done
sleep 2.5
before=$(applied)
write_conf "topic.$r.compression.codec=zstd"
kill -HUP $SUP
wait_until 10 sh -c "[ \$(grep -c 'w[01]: topic settings .* applied' \
    '$TEST_TMP/chuted.log') -ge $((before + 2)) ]" ||
    fail "the workers did not apply the reload"
echo "reload codec: SIGHUP applied by both workers under load"
for p in $pids; do
    wait "$p" || fail "a client failed"
done
[ "$(settings "$r")" = zstd ] || fail "chutectl topics: $r is $(settings "$r")"
[ "$(settings "$o")" = gzip ] || fail "chutectl topics: $o is $(settings "$o")"

check_sent "$r" 4 $PER_CLIENT $PARTS
check_sent "$o" 2 $PER_CLIENT $PARTS
check_codecs "$r" --switch gzip zstd --partitions $PARTS ||
    fail "$r did not go from gzip to zstd once in every partition"
check_codecs "$o" --want gzip --min-batches $PARTS || fail "$o left gzip"
chuted_stop
grep -E "ERROR|WARN" "$TEST_TMP/chuted.log" |
    grep -v "InitProducerId: COORDINATOR_LOAD_IN_PROGRESS" &&
    { cat "$TEST_TMP/chuted.log" >&2; fail "errors logged"; }
echo "reload codec: ok"
