#!/usr/bin/python3
"""Checks a topic written through faults against what sendload reported.

Reads batchdump.py's output (one record a line, with its batch's producer
id, epoch, base sequence, base offset, record count and digest) and the
clients' reports ("sendload C: sent N failed F" lines, other lines are
ignored), and asserts:

  - every record read is one that a client sent, intact (key, value,
    headers, timestamp, as check_topic.expected() regenerates it), on the
    partition Java's murmur2 picks;
  - a batch that holds any record already read earlier in its partition is
    a whole copy of an earlier batch: same producer id, epoch, base
    sequence and record count, same records, byte-identical (batchdump's
    digest); such a batch is a duplicate (the mock does not de-duplicate
    idempotent resends, a real broker would);
  - per key, records appear in send order, duplicate batches left out, and
    the batches kept follow the broker's sequence rules (check_sequences);
  - every client reported, and distinct records read == records sent -
    records reported failed (so nothing is lost beyond what was reported,
    and nothing reported failed was written, except as the same count);
  - with --failed none, no client reported a failure; with --failed some,
    at least one record was reported failed;
  - with --no-duplicates (a real broker), no duplicate batch at all: the
    broker answers an idempotent producer's resend of a batch it holds
    with the first copy's offset, so a copy in its log means the broker
    could not know it for one: a resend under another producer id or
    epoch (after a bump), or from beyond the last 5 batches it remembers.

Prints: records, distinct, duplicate batches, failed.
"""
import argparse
import collections
import re
import sys

from kafka.partitioner.default import murmur2

from check_topic import expected, parse_headers, unhex

REPORT = re.compile(r"^sendload (\d+): sent (\d+) failed (-?\d+)$")

Batch = collections.namedtuple(
    "Batch", "partition base pid epoch seq count digest records")
First = collections.namedtuple("First", "base count digest ids")


def read_batches(path):
    """Batches in (partition, base offset) order, records as rows."""
    batches = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            (p, off, pid, epoch, seq, base, count, ts, key, value, headers,
             digest) = line.rstrip("\n").split("\t")
            k = (int(p), int(base))
            b = batches.get(k)
            if b is None:
                b = batches[k] = Batch(int(p), int(base), int(pid), int(epoch),
                                       int(seq), int(count), digest, [])
            b.records.append((int(off), int(ts), unhex(key), unhex(value),
                              parse_headers(headers)))
    return [batches[k] for k in sorted(batches)]


def read_reports(path, clients):
    failed = {}
    with open(path) as f:
        for line in f:
            m = REPORT.match(line.strip())
            if m:
                failed[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    return failed


def identify(rec, a, errors, where):
    """(client, i) of a record after checking its content, or None."""
    off, ts, key, value, headers = rec
    try:
        c, k, s = value.split(b"|")[:3]
        client, i = int(c[1:]), int(s[1:])
    except Exception:
        errors.append("%s: unparsable value %r" % (where, (value or b"")[:40]))
        return None
    if not (0 <= client < a.clients and 0 <= i < a.count):
        errors.append("%s: c%d s%d was never sent" % (where, client, i))
        return None
    ekey, evalue, eheaders, ets = expected(client, i, a.keys, a.maxpad)
    if (key, value, headers, ts) != (ekey, evalue, eheaders, ets):
        errors.append("%s: c%d s%d: content differs: %r"
                      % (where, client, i, (key, value[:30], headers, ts)))
    return client, i


def check_sequences(firsts_in_order, any_failed):
    """What a real broker enforces and the mock does not: per partition,
    the batches it keeps (first copies, in offset order) continue their
    producer's sequence (base = previous base + count, wrapping at 2^31),
    and a new epoch or producer id starts at 0.  The one exception is a
    broker's own: with no state for a producer on a partition it takes any
    first sequence, so when records failed (their batches never written)
    a producer's first batch on a partition may start higher."""
    errors = []
    last = {}  # partition -> (pid, epoch, next sequence)
    for b in firsts_in_order:
        if b.pid < 0:
            continue
        prev = last.get(b.partition)
        if prev and prev[0] == b.pid and prev[1] == b.epoch:
            want = prev[2]
        elif prev and prev[0] == b.pid and b.epoch < prev[1]:
            errors.append("p%d batch@%d: epoch %d after epoch %d"
                          % (b.partition, b.base, b.epoch, prev[1]))
            want = b.seq
        elif any_failed and not (prev and prev[0] == b.pid):
            want = b.seq
        else:
            want = 0
        if b.seq != want:
            errors.append("p%d batch@%d: pid %d epoch %d sequence %d, a "
                          "broker expects %d" % (b.partition, b.base, b.pid,
                                                 b.epoch, b.seq, want))
        last[b.partition] = (b.pid, b.epoch, (b.seq + b.count) & 0x7fffffff)
    return errors


def missing_records(a, seen, killed):
    """Records that must be there and are not: every record of a client
    that finished, and a killed client's records up to its last accepted."""
    return [(c, i) for c in range(a.clients)
            for i in range(killed.get(c, a.count - 1) + 1)
            if (c, i) not in seen]


def check_delivery(a, seen, copies, failed, missing, killed):
    """Per record: delivered ones are where their report says; missing
    ones were reported failed.  A record reported failed may still be in the
    topic: a batch whose request timed out or whose connection dropped may
    have been written (Kafka's "possibly persisted")."""
    errors = []
    reported_failed = possibly = 0
    for name in a.delivery:
        if int(name.rsplit(".", 1)[1]) in killed:
            continue  # its report file ends wherever the kill cut it
        with open(name) as f:
            for line in f:
                c, i, p, off, err = line.split()
                x = (int(c), int(i))
                if err == "0":
                    if (int(p), int(off)) not in copies.get(x, ()):
                        errors.append("c%s s%s reported delivered at p%s@%s, "
                                      "found at %s" % (c, i, p, off,
                                                       sorted(copies.get(x, ()))))
                else:
                    reported_failed += 1
                    possibly += x in seen
    if reported_failed != failed:
        errors.append("%d failure reports, chute_flush counted %d"
                      % (reported_failed, failed))
    if len(missing) > reported_failed - possibly:
        errors.append("%d records missing, only %d reported failed and "
                      "absent, e.g. %s" % (len(missing), reported_failed - possibly,
                                           missing[:5]))
    print("check_faults: %d reported failed, %d of them written anyway "
          "(possibly persisted)" % (reported_failed, possibly))
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", help="batchdump.py output")
    ap.add_argument("reports", help="the clients' stdout")
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--maxpad", type=int, default=100)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--delivery", nargs="*", default=[],
                    help="sendload -R files: one delivery report per record")
    ap.add_argument("--killed", action="append", default=[],
                    metavar="C:LAST",
                    help="client C was killed after chute_send() accepted "
                         "its record LAST: records 0..LAST must be there, "
                         "later ones may be")
    ap.add_argument("--no-order", action="store_true",
                    help="skip the per-key order check (see test_fault_"
                         "retriable.sh: the mock accepts out-of-order "
                         "sequences that a real broker refuses)")
    ap.add_argument("--no-duplicates", action="store_true",
                    help="a real broker de-duplicates idempotent resends: "
                         "the log may hold no duplicate batch")
    ap.add_argument("--failed", choices=("none", "some", "any"),
                    default="any")
    a = ap.parse_args()

    errors = []
    seen = {}          # (client, i) -> (partition, offset)
    last_seq = {}      # (client, key index) -> i
    firsts = {}        # (partition, pid, epoch, seq) -> first Batch written
    copies = {}        # (client, i) -> every (partition, offset) it is at
    kept = []          # first copies, in (partition, offset) order
    records = dup_batches = dup_records = 0

    for b in read_batches(a.dump):
        records += len(b.records)
        ids = []
        for rec in b.records:
            where = "p%d@%d" % (b.partition, rec[0])
            ids.append(identify(rec, a, errors, where))
        ids_ok = [x for x in ids if x is not None]
        repeated = [x for x in ids_ok if x in seen]
        bkey = (b.partition, b.pid, b.epoch, b.seq)
        if repeated:
            orig = firsts.get(bkey)
            where = "p%d batch@%d (pid %d epoch %d seq %d, %d records)" % (
                b.partition, b.base, b.pid, b.epoch, b.seq, b.count)
            if orig is None:
                errors.append("%s repeats %d records (e.g. c%d s%d first at "
                              "p%d@%d) but copies no earlier batch"
                              % ((where, len(repeated)) + repeated[0]
                                 + seen[repeated[0]]))
            elif (orig.count != b.count or orig.ids != ids
                  or orig.digest != b.digest):
                errors.append("%s is not a whole byte-identical copy of "
                              "batch@%d (count %d/%d, same records %s, same "
                              "bytes %s)" % (where, orig.base, orig.count,
                                             b.count, orig.ids == ids,
                                             orig.digest == b.digest))
            if a.no_duplicates:
                errors.append("%s: a duplicate batch kept by the broker"
                              % where)
            dup_batches += 1
            dup_records += len(b.records)
            for rec, x in zip(b.records, ids):
                if x is not None:
                    copies.setdefault(x, set()).add((b.partition, rec[0]))
            continue
        if bkey in firsts:
            errors.append("p%d batch@%d reuses pid %d epoch %d seq %d of "
                          "batch@%d for other records"
                          % (b.partition, b.base, b.pid, b.epoch, b.seq,
                             firsts[bkey].base))
        else:
            firsts[bkey] = First(b.base, b.count, b.digest, ids)
            kept.append(b)
        for rec, x in zip(b.records, ids):
            if x is None:
                continue
            client, i = x
            seen[x] = (b.partition, rec[0])
            copies.setdefault(x, set()).add((b.partition, rec[0]))
            ekey = expected(client, i, a.keys, a.maxpad)[0]
            want_p = (murmur2(ekey) & 0x7fffffff) % a.partitions
            if b.partition != want_p:
                errors.append("c%d s%d: partition %d, Java picks %d"
                              % (client, i, b.partition, want_p))
            kidx = i % a.keys
            prev = last_seq.get((client, kidx))
            if prev is not None and prev > i and not a.no_order:
                errors.append("c%d key %d: s%d after s%d (p%d@%d)"
                              % (client, kidx, i, prev, b.partition, rec[0]))
            last_seq[(client, kidx)] = i

    reports = read_reports(a.reports, a.clients)
    killed = dict(tuple(int(x) for x in k.split(":")) for k in a.killed)
    failed = 0
    for c in range(a.clients):
        if c in killed:
            continue
        if c not in reports:
            errors.append("client %d did not report" % c)
            continue
        sent, f = reports[c]
        if sent != a.count:
            errors.append("client %d sent %d, not %d" % (c, sent, a.count))
        if f < 0:
            errors.append("client %d: chute_flush returned %d" % (c, f))
        failed += max(f, 0)
    sent = a.clients * a.count
    missing = missing_records(a, seen, killed)
    if not a.no_order:
        errors += check_sequences(kept, failed > 0)
    if a.delivery:
        errors += check_delivery(a, seen, copies, failed, missing, killed)
    elif killed and missing:
        errors.append("%d accepted records missing, e.g. %s"
                      % (len(missing), missing[:5]))
    elif not killed and len(seen) != sent - failed:
        errors.append("%d distinct records read, sent %d - failed %d = %d; "
                      "%d missing, e.g. %s" % (len(seen), sent, failed,
                                               sent - failed, len(missing),
                                               missing[:5]))
    if a.failed == "none" and failed:
        errors.append("%d records reported failed, expected none" % failed)
    if a.failed == "some" and not failed:
        errors.append("no record reported failed, expected some")

    print("check_faults: %d records, %d distinct, %d duplicate batches "
          "(%d records), %d failed, %d errors"
          % (records, len(seen), dup_batches, dup_records, failed,
             len(errors)))
    for e in errors[:20]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
