#!/bin/bash
# test_metrics.sh: the Prometheus endpoint (metrics.listen).
#   1. chuted serves GET /metrics on 127.0.0.1:PORT; the output parses as
#      the text format 0.0.4 and keeps its rules (HELP/TYPE before the
#      samples, no duplicate series, histograms cumulative, +Inf == _count);
#   2. records sent with sendload move the counters by exactly that many
#      (sent, acked by topic), batches and histograms move;
#   3. an oversized record is counted refused (too_large);
#   4. another path gets 404, another method 405;
#   5. garbage, an endless request line and a silent connection neither
#      stop nor block chuted: it answers while they are open, closes the
#      silent one after its timeout and still answers afterwards;
#   6. the workers do not hold the listening socket (it is closed in them
#      at fork); chuted exits 0 on SIGTERM and logs no error.
set -u
. "$(dirname "$0")/lib.sh" "${1:-}"

CHUTED=$BUILD/bin/chuted
CHUTECTL=$BUILD/bin/chutectl
SENDLOAD=$BUILD/tests/sendload
PROBE=$BUILD/tests/chute-probe
PY=/usr/bin/python3
for b in "$CHUTED" "$CHUTECTL" "$SENDLOAD" "$PROBE"; do
    [ -x "$b" ] || fail "no $b (run make build)"
done
command -v curl >/dev/null || fail "no curl"
export CHUTE_RUN_DIR=$TEST_TMP/run
mkdir -p "$CHUTE_RUN_DIR"
NAME=metrics-$$
TOPIC=mtopic-$$
N=3000
on_cleanup "rm -f /dev/shm/chute.$NAME.*"

# ---- a checker of the text exposition format --------------------------------
cat >"$TEST_TMP/promcheck.py" <<'EOF'
"""promcheck.py FILE: checks a Prometheus text exposition (format 0.0.4)
and prints every sample as 'name{sorted labels} value', one a line."""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"((?:[^"\\\n]|\\["\\n])*)"'
SAMPLE = re.compile(r'^(?P<name>%s)(?:\{(?P<labels>(?:%s=%s(?:,%s=%s)*)?,?)\})?'
                    r' (?P<value>\S+)(?: -?\d+)?$'
                    % (NAME, LABEL, VALUE, LABEL, VALUE))
PAIR = re.compile(r'(%s)=%s' % (LABEL, VALUE))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}
errors = []


def err(no, msg):
    errors.append('line %d: %s' % (no, msg))


def value(s):
    if s in ('+Inf', '-Inf', 'NaN'):
        return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))
    return float(s)


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == 'histogram':
            return base
    return name


text = open(sys.argv[1], 'rb').read().decode('utf-8')
if not text.endswith('\n'):
    errors.append('no newline at the end')
types, helps, seen, done, out = {}, {}, set(), set(), []
hists = {}  # (family, labels without le) -> {'buckets': [(le, v)], ...}
current = None
for no, line in enumerate(text.split('\n')[:-1], 1):
    if line.startswith('#'):
        m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % NAME, line)
        if not m:
            if line.startswith('# HELP') or line.startswith('# TYPE'):
                err(no, 'malformed: %r' % line)
            continue
        kind, name, rest = m.groups()
        if name != current:
            if name in done or name in types or name in helps:
                err(no, '%s: its lines are not together' % name)
            if current:
                done.add(current)
            current = name
        if kind == 'HELP':
            if name in helps:
                err(no, 'second HELP for %s' % name)
            helps[name] = rest
        else:
            if rest not in TYPES:
                err(no, 'bad type %r' % rest)
            if name in types:
                err(no, 'second TYPE for %s' % name)
            if any(s[0] == name for s in seen):
                err(no, 'TYPE of %s after its samples' % name)
            types[name] = rest
        continue
    if not line.strip():
        err(no, 'empty line')
        continue
    m = SAMPLE.match(line)
    if not m:
        err(no, 'not a sample: %r' % line)
        continue
    name, labels, val = m['name'], m['labels'] or '', m['value']
    try:
        v = value(val)
    except ValueError:
        err(no, 'bad value %r' % val)
        continue
    pairs = PAIR.findall(labels)
    names = [p[0] for p in pairs]
    if len(set(names)) != len(names):
        err(no, 'a label twice: %r' % line)
    fam = family_of(name, types)
    if fam not in types:
        err(no, 'sample of %s before (or without) its TYPE' % name)
    if fam != current:
        err(no, 'sample of %s outside its family\'s lines' % name)
    key = (name, tuple(sorted(pairs)))
    if key in seen:
        err(no, 'duplicate series %r' % line)
    seen.add(key)
    t = types.get(fam)
    if t == 'counter' and not name.endswith('_total'):
        err(no, 'counter %s does not end in _total' % name)
    if t != 'counter' and name.endswith('_total'):
        err(no, 'a %s named %s: _total is for counters' % (t, name))
    if t in ('counter', 'histogram') and (math.isnan(v) or v < 0):
        err(no, 'negative %s' % line)
    if t == 'histogram':
        rest = tuple(sorted(p for p in pairs if p[0] != 'le'))
        h = hists.setdefault((fam, rest), {'buckets': []})
        if name.endswith('_bucket'):
            le = dict(pairs).get('le')
            if le is None:
                err(no, 'bucket without le')
            else:
                h['buckets'].append((value(le), v, no))
        else:
            h[name[len(fam) + 1:]] = v
    out.append('%s{%s} %s' % (name, ','.join('%s="%s"' % p for p in
                                             sorted(pairs)), val))
for (fam, rest), h in hists.items():
    b = h['buckets']
    what = '%s%s' % (fam, dict(rest))
    if not b or b[-1][0] != math.inf:
        errors.append('%s: no +Inf bucket last' % what)
        continue
    for (le0, v0, _), (le1, v1, no) in zip(b, b[1:]):
        if le1 <= le0:
            err(no, '%s: le not increasing' % what)
        if v1 < v0:
            err(no, '%s: buckets not cumulative' % what)
    if 'count' not in h or 'sum' not in h:
        errors.append('%s: no _sum or _count' % what)
    elif h['count'] != b[-1][1]:
        errors.append('%s: +Inf %s != _count %s' % (what, b[-1][1],
                                                    h['count']))
for name in types:
    if name not in helps:
        errors.append('%s: no HELP' % name)
if errors:
    sys.stderr.write('\n'.join(errors[:20]) + '\n')
    sys.exit(1)
sys.stdout.write(''.join(s + '\n' for s in out))
EOF

# A self-test of the checker: it must refuse what breaks the rules.
checker_refuses() {
    printf '%b' "$2" >"$TEST_TMP/bad.prom"
    ! $PY "$TEST_TMP/promcheck.py" "$TEST_TMP/bad.prom" >/dev/null 2>&1 ||
        fail "the format checker accepted $1"
}
checker_refuses "a duplicate series" \
    '# HELP a_total x\n# TYPE a_total counter\na_total{l="1"} 1\na_total{l="1"} 2\n'
checker_refuses "a sample before its TYPE" 'a_total 1\n# HELP a_total x\n# TYPE a_total counter\n'
checker_refuses "a bad escape" '# HELP a x\n# TYPE a gauge\na{l="\\q"} 1\n'
checker_refuses "buckets that fall" \
    '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'
checker_refuses "+Inf != _count" \
    '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'

# ---- helpers ---------------------------------------------------------------
URL=""
# scrape OUT: GET /metrics into OUT.raw, checked and normalized into OUT.
scrape() {
    curl -sS --max-time 5 -D "$1.hdr" -o "$1.raw" "$URL/metrics" ||
        fail "GET /metrics failed"
    grep -q '^HTTP/1\.[01] 200' "$1.hdr" || fail "GET /metrics: $(head -1 "$1.hdr")"
    grep -qi '^Content-Type: text/plain; version=0\.0\.4' "$1.hdr" ||
        fail "GET /metrics: content type: $(grep -i content-type "$1.hdr")"
    $PY "$TEST_TMP/promcheck.py" "$1.raw" >"$1" 2>"$1.err" ||
        fail "the exposition does not parse: $(cat "$1.err")"
}

# value FILE SERIES: the value of SERIES (name{labels sorted}), or "none".
value() {
    awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "none" }' "$1"
}

expect() { # FILE SERIES WANT
    local v
    v=$(value "$1" "$2")
    [ "$v" = "$3" ] || fail "$2 is $v, want $3"
}

# Histogram checks beyond the format: _count > 0.
expect_observed() { # FILE NAME [LABELS]
    local v
    v=$(value "$1" "$2_count{${3:-}}")
    [ "$v" != none ] && [ "$v" -gt 0 ] || fail "$2_count{${3:-}} is $v"
}

acked_all() {
    scrape "$TEST_TMP/m.wait"
    [ "$(value "$TEST_TMP/m.wait" "chute_records_acked_total{topic=\"$TOPIC\"}")" = "$1" ]
}

http_code() { # METHOD PATH
    curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X "$1" "$URL$2"
}

# ---- start -------------------------------------------------------------------
use_kafka
kafka_topic "$TOPIC" 6

# A free port: ask the kernel, and retry if another process takes it first.
SUP_PID=""
for attempt in 1 2 3 4 5; do
    PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$CHUTED" -X bootstrap.servers="$BOOTSTRAP" -X name="$NAME" -X workers=2 \
        -X message.max.bytes=100000 -X metrics.listen="127.0.0.1:$PORT" \
        >"$TEST_TMP/chuted.log" 2>&1 &
    SUP_PID=$!
    track_pid "$SUP_PID"
    if wait_until 10 "$CHUTECTL" -n "$NAME" status >/dev/null 2>&1; then
        break
    fi
    grep -q "metrics.listen" "$TEST_TMP/chuted.log" ||
        fail "chuted did not come up: $(cat "$TEST_TMP/chuted.log")"
    wait "$SUP_PID" 2>/dev/null
    SUP_PID=""
done
[ -n "$SUP_PID" ] || fail "no free port for metrics.listen after 5 attempts"
URL=http://127.0.0.1:$PORT
on_cleanup "[ \$? -eq 0 ] || { echo '--- chuted log:' >&2; tail -n 30 '$TEST_TMP/chuted.log' >&2; }"

# A bad metrics.listen is refused with a message naming it.
for bad in "127.0.0.1" "127.0.0.1:0" "127.0.0.1:99999" "::1:80" \
    "127.0.0.1:$PORT"; do
    rc=0
    "$CHUTED" -X bootstrap.servers="$BOOTSTRAP" -X name="$NAME-bad" \
        -X metrics.listen="$bad" >"$TEST_TMP/bad.log" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || fail "chuted accepted metrics.listen=$bad"
    grep -qF "metrics.listen \"$bad\"" "$TEST_TMP/bad.log" ||
        fail "metrics.listen=$bad: no clear message: $(cat "$TEST_TMP/bad.log")"
done
rm -f /dev/shm/chute."$NAME"-bad.*
echo "bad metrics.listen values refused"

# ---- 1. before any record --------------------------------------------------
M0=$TEST_TMP/m0
scrape "$M0"
expect "$M0" "chute_records_sent_total{}" 0
expect "$M0" "chute_batches_sent_total{}" 0
expect "$M0" "chute_records_refused_total{reason=\"too_large\"}" 0
expect "$M0" "chute_pool_chunks{state=\"in_flight\"}" 0
expect "$M0" "chute_worker_up{worker=\"0\"}" 1
expect "$M0" "chute_worker_up{worker=\"1\"}" 1
expect "$M0" "chute_batch_size_bytes_count{}" 0
for reason in too_large queue_full closed invalid; do
    [ "$(value "$M0" "chute_records_refused_total{reason=\"$reason\"}")" != none ] ||
        fail "no refusal counter for $reason"
done
for name in chute_records_sent_total chute_records_acked_total \
    chute_records_failed_total chute_bytes_sent_total chute_batches_sent_total \
    chute_requests_sent_total chute_retries_total chute_batch_size_bytes \
    chute_batch_records chute_batch_compression_ratio \
    chute_request_latency_seconds chute_request_errors_total \
    chute_ring_fill_bytes chute_ring_size_bytes chute_ring_dead_writers_total \
    chute_ring_corrupt_bytes_total chute_ring_blocked chute_pool_chunks \
    chute_pool_capacity_chunks chute_worker_restarts_total chute_worker_up \
    chute_records_invalid_total chute_records_refused_total; do
    grep -q "^# TYPE $name " "$M0.raw" || fail "no metric $name"
done
echo "1: the exposition parses; every metric is there"

# ---- 2. records move the counters -----------------------------------------
"$SENDLOAD" -n "$NAME" -t "$TOPIC" -c 0 -N $N -k 50 -s 200 \
    >"$TEST_TMP/sendload.out" 2>&1 || fail "sendload: $(cat "$TEST_TMP/sendload.out")"
wait_until 20 acked_all $N ||
    fail "acked: $(value "$TEST_TMP/m.wait" "chute_records_acked_total{topic=\"$TOPIC\"}"), want $N"
M1=$TEST_TMP/m1
scrape "$M1"
expect "$M1" "chute_records_sent_total{}" $N
expect "$M1" "chute_records_acked_total{topic=\"$TOPIC\"}" $N
expect "$M1" "chute_records_invalid_total{}" 0
grep -q '^chute_records_failed_total' "$M1" && fail "records failed: $(grep failed "$M1")"
batches=$(value "$M1" "chute_batches_sent_total{}")
[ "$batches" -gt 0 ] || fail "chute_batches_sent_total is $batches"
[ "$(value "$M1" "chute_bytes_sent_total{}")" -gt $((N * 20)) ] ||
    fail "chute_bytes_sent_total is $(value "$M1" "chute_bytes_sent_total{}")"
[ "$(value "$M1" "chute_requests_sent_total{}")" -gt 0 ] || fail "no requests counted"
# Every batch sent once (nothing retried here) is observed once.
expect "$M1" "chute_batch_size_bytes_count{}" "$batches"
expect "$M1" "chute_batch_records_count{}" "$batches"
expect "$M1" "chute_batch_compression_ratio_count{}" "$batches"
expect "$M1" "chute_batch_records_sum{}" $N
expect "$M1" "chute_batch_size_bytes_sum{}" "$(value "$M1" "chute_bytes_sent_total{}")"
brokers=$(grep -c '^chute_request_latency_seconds_count' "$M1")
[ "$brokers" -ge 1 ] || fail "no broker latency histogram"
lat=$(awk '/^chute_request_latency_seconds_count/ { n += $2 } END { print n + 0 }' "$M1")
[ "$lat" -gt 0 ] || fail "no Produce latency observed"
expect "$M1" "chute_pool_chunks{state=\"in_flight\"}" 0
expect "$M1" "chute_ring_fill_bytes{slot=\"0\"}" 0
echo "2: $N records: sent and acked $N, $batches batches, $lat requests timed on $brokers brokers"

# ---- 3. a refusal ----------------------------------------------------------
"$PROBE" oversize "$NAME" "$TOPIC" 100001 after-oversize >"$TEST_TMP/big.out" ||
    fail "oversize probe: $(cat "$TEST_TMP/big.out")"
wait_until 10 acked_all $((N + 1)) || fail "the record after the oversized one was not acked"
M2=$TEST_TMP/m2
scrape "$M2"
expect "$M2" "chute_records_refused_total{reason=\"too_large\"}" 1
expect "$M2" "chute_records_refused_total{reason=\"queue_full\"}" 0
expect "$M2" "chute_records_sent_total{}" $((N + 1))
echo "3: the oversized record is counted refused (too_large)"

# ---- 4. other paths and methods --------------------------------------------
[ "$(http_code GET /)" = 404 ] || fail "GET / is not 404"
[ "$(http_code GET /metricsx)" = 404 ] || fail "GET /metricsx is not 404"
[ "$(http_code GET '/metrics?x=1')" = 200 ] || fail "GET /metrics?x=1 is not 200"
[ "$(http_code POST /metrics)" = 405 ] || fail "POST /metrics is not 405"
[ "$(http_code DELETE /)" = 405 ] || fail "DELETE / is not 405"
curl -sS --max-time 5 -I "$URL/metrics" | grep -q '^HTTP/1\.[01] 200' ||
    fail "HEAD /metrics is not 200"
echo "4: 404 for other paths, 405 for other methods"

# ---- 5. misbehaving connections ---------------------------------------------
cat >"$TEST_TMP/abuse.py" <<'EOF'
import socket
import sys
import time

port = int(sys.argv[1])


def conn():
    return socket.create_connection(('127.0.0.1', port), timeout=10)


def answer(s):
    data = b''
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status(data):
    return data.split(b'\r\n', 1)[0].decode('ascii', 'replace')


# A silent connection and a half-sent request stay open while the rest
# goes on: the loop must not wait for them.
silent = conn()
half = conn()
half.sendall(b'GET /metr')
for what, payload in [
        ('garbage', b'\x00\xff\x13garbage \x01\x02\r\n\r\n'),
        ('no method', b' /metrics HTTP/1.0\r\n\r\n'),
        ('no version', b'GET /metrics\r\n\r\n'),
        ('bad version', b'GET /metrics SPDY/9\r\n\r\n'),
        ('too long', b'GET /' + b'a' * 20000),
        ('many headers', b'GET /metrics HTTP/1.0\r\n' + b'X: y\r\n' * 3000)]:
    s = conn()
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed on us while we were still sending: fine
    st = status(answer(s))
    s.close()
    if not (st.startswith('HTTP/1.0 4') or st == ''):
        sys.exit('%s: answered %r' % (what, st))
    print('%s: %s' % (what, st or 'closed'))
# A proper request while the silent ones are open.
s = conn()
s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
data = answer(s)
if status(data) != 'HTTP/1.0 200 OK' or b'chute_records_sent_total' not in data:
    sys.exit('scrape beside idle connections: %r' % data[:200])
# A request sent a byte at a time is still answered.
s = conn()
for b in b'GET /metrics HTTP/1.0\n\n':
    s.send(bytes([b]))
    time.sleep(0.005)
if status(answer(s)) != 'HTTP/1.0 200 OK':
    sys.exit('a request sent byte by byte was not answered')
# The server closes the silent connections by itself, within its timeout.
start = time.time()
for s in (silent, half):
    s.settimeout(15)
    if answer(s) != b'':
        sys.exit('an idle connection got an answer')
took = time.time() - start
if took > 12:
    sys.exit('idle connections closed only after %.1f s' % took)
print('idle connections closed after %.1f s' % took)
EOF
$PY "$TEST_TMP/abuse.py" "$PORT" >"$TEST_TMP/abuse.out" 2>&1 ||
    fail "misbehaving connections: $(cat "$TEST_TMP/abuse.out")"
kill -0 "$SUP_PID" || fail "chuted died"
M3=$TEST_TMP/m3
scrape "$M3"
expect "$M3" "chute_records_sent_total{}" $((N + 1))
echo "5: garbage, endless and idle connections: $(tail -1 "$TEST_TMP/abuse.out"); chuted still answers"

# ---- 6. the workers do not hold the port; a clean stop --------------------
# The listening socket's inode, from /proc/net/tcp (local port, state 0A).
hexport=$(printf '%04X' "$PORT")
inode=$(awk -v p=":$hexport" '$2 ~ p "$" && $4 == "0A" { print $10 }' \
    /proc/net/tcp | head -1)
[ -n "$inode" ] || fail "no listening socket on port $PORT in /proc/net/tcp"
holds() { # PID: it has the listening socket open
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$inode\]"
}
holds "$SUP_PID" || fail "chuted does not hold the listening socket"
workers=$(ps -o pid= --ppid "$SUP_PID")
[ -n "$workers" ] || fail "no workers under chuted"
for w in $workers; do
    ! holds "$w" || fail "worker $w holds the metrics socket"
done
kill -TERM "$SUP_PID"
rc=0
wait "$SUP_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "chuted exited $rc after SIGTERM"
! grep -q ERROR "$TEST_TMP/chuted.log" ||
    fail "chuted logged errors: $(grep ERROR "$TEST_TMP/chuted.log")"
curl -s --max-time 2 "$URL/metrics" >/dev/null && fail "the endpoint outlived chuted"
echo "6: workers hold no metrics socket; chuted stopped cleanly"

echo "ok: $TEST_NAME"
