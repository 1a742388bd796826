#!/usr/bin/python3
"""Checks what a topic holds against what tests/tools/sendload sent.

Reads kverify's output (one record a line: partition, offset, timestamp,
key, value, headers; strings hex-encoded) and asserts that every record of
every client arrived exactly once, on the partition the Java client picks
(murmur2 from kafka-python, an implementation independent of ours), in
per-key send order, with key, value, headers and timestamp intact.
"""
import argparse
import collections
import sys

from kafka.partitioner.default import murmur2

BASE_TS = 1700000000000


def unhex(s):
    if s == "-":
        return None
    if s == '""':
        return b""
    return bytes.fromhex(s)


def parse_headers(field):
    if field == "-":
        return []
    out = []
    for item in field.split(","):
        k, v = item.split("=", 1)
        out.append((unhex(k), unhex(v)))
    return out


def expected(client, i, keys, maxpad):
    k = i % keys
    key = b"c%dk%d" % (client, k)
    value = b"c%d|k%d|s%d|" % (client, k, i) + b"x" * ((i * 7919) % (maxpad + 1))
    headers = [(b"client", b"%d" % client), (b"seq", b"%d" % i), (b"nul", None)]
    return key, value, headers, BASE_TS + client * 10000000 + i


def check_reports(files, seen):
    """Each report "C I PARTITION OFFSET ERROR" of a delivered record must
    point where the record is; a failed one at a record that is absent."""
    errors = []
    for name in files:
        with open(name) as f:
            for line in f:
                c, i, p, off, err = line.split()
                where = seen.get((int(c), int(i)))
                if err != "0":
                    if where is not None:
                        errors.append("c%s s%s reported %s but is at p%d@%d"
                                      % ((c, i, err) + where))
                elif where != (int(p), int(off)):
                    errors.append("c%s s%s reported at p%s@%s, found at %s"
                                  % (c, i, p, off, where))
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--maxpad", type=int, default=100)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--reports", nargs="*", default=[],
                    help="sendload -R files: each delivered record's report "
                         "must name the partition and offset it has")
    a = ap.parse_args()

    errors = []
    seen = {}
    last_seq = {}  # (client, key index) -> (partition, offset, seq)
    rows = []
    with open(a.dump) as f:
        for line in f:
            p, off, ts, key, value, headers = line.rstrip("\n").split("\t")
            rows.append((int(p), int(off), int(ts), unhex(key), unhex(value),
                         parse_headers(headers)))
    rows.sort(key=lambda r: (r[0], r[1]))
    for p, off, ts, key, value, headers in rows:
        try:
            c, k, s = value.split(b"|")[:3]
            client, kidx, i = int(c[1:]), int(k[1:]), int(s[1:])
        except Exception:
            errors.append("p%d@%d: unparsable value %r" % (p, off, value[:40]))
            continue
        if (client, i) in seen:
            errors.append("duplicate c%d s%d at p%d@%d and p%d@%d"
                          % ((client, i) + seen[(client, i)] + (p, off)))
            continue
        seen[(client, i)] = (p, off)
        ekey, evalue, eheaders, ets = expected(client, i, a.keys, a.maxpad)
        if (key, value, headers, ts) != (ekey, evalue, eheaders, ets):
            errors.append("c%d s%d: content differs: %r" %
                          (client, i, (key, value[:30], headers, ts)))
        want_p = (murmur2(ekey) & 0x7fffffff) % a.partitions
        if p != want_p:
            errors.append("c%d s%d: partition %d, Java picks %d"
                          % (client, i, p, want_p))
        prev = last_seq.get((client, kidx))
        if prev is not None and prev[2] > i:
            errors.append("c%d key %d: seq %d after %d" % (client, kidx, i, prev[2]))
        last_seq[(client, kidx)] = (p, off, i)
    errors += check_reports(a.reports, seen)
    missing = a.clients * a.count - len(seen)
    if missing:
        gone = [(c, i) for c in range(a.clients) for i in range(a.count)
                if (c, i) not in seen][:5]
        errors.append("%d records missing, e.g. %s" % (missing, gone))
    print("check_topic: %d records read, %d distinct, %d errors"
          % (len(rows), len(seen), len(errors)))
    for e in errors[:20]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
