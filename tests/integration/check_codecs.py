#!/usr/bin/python3
"""Checks the codecs of a topic's batches, as batchdump.py --batches lists
them (partition, base offset, record count, codec, ..., size in bytes).

    check_codecs.py FILE --want CODEC [--min-batches N]
    check_codecs.py FILE --switch OLD NEW

CODEC is none, gzip, snappy, lz4 or zstd.  A batch that compression does not
make smaller goes uncompressed, so an uncompressed batch passes where
CODEC is wanted only if it is small (under SMALL bytes: a few records);
every other batch must carry CODEC, and at least --min-batches (1) must.

--switch: per partition, in offset order, the batches are OLD ones, then
NEW ones (small uncompressed ones anywhere): a reload changed the codec once
and no batch went back.  Both must appear, and each partition with batches
on both sides of the change must switch exactly once.

Prints a summary; exits 1 with the first offending batch.
"""
import argparse
import collections
import sys

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
NAMES = {v: k for k, v in CODECS.items()}
SMALL = 1024


def read(path):
    parts = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            p, base, count, codec, *_rest, size = line.rstrip("\n").split("\t")
            parts[int(p)].append((int(base), int(count), int(codec), int(size)))
    for batches in parts.values():
        batches.sort()
    return parts


def small_plain(codec, size):
    return codec == 0 and size < SMALL


def check_want(parts, want, min_batches):
    n = hits = 0
    for p, batches in sorted(parts.items()):
        for base, count, codec, size in batches:
            n += 1
            if codec == want:
                hits += 1
            elif not small_plain(codec, size):
                sys.exit("p%d@%d: %d records, %d bytes in %s, want %s"
                         % (p, base, count, size, NAMES.get(codec, codec),
                            NAMES[want]))
    if hits < min_batches:
        sys.exit("%d of %d batches in %s, want at least %d"
                 % (hits, n, NAMES[want], min_batches))
    print("check_codecs: %d batches, %d in %s, the rest small and "
          "uncompressed" % (n, hits, NAMES[want]))


def check_switch(parts, old, new):
    seen = collections.Counter()
    switched = 0
    for p, batches in sorted(parts.items()):
        now = old
        for base, count, codec, size in batches:
            if small_plain(codec, size):
                continue
            if codec not in (old, new):
                sys.exit("p%d@%d: %s, want %s or %s" % (
                    p, base, NAMES.get(codec, codec), NAMES[old], NAMES[new]))
            if codec == old and now == new:
                sys.exit("p%d@%d: %s again after %s" % (
                    p, base, NAMES[old], NAMES[new]))
            if codec == new and now == old:
                switched += 1
                now = new
            seen[codec] += 1
    if not seen[old] or not seen[new]:
        sys.exit("batches: %d %s, %d %s; want both" % (
            seen[old], NAMES[old], seen[new], NAMES[new]))
    print("check_codecs: %d %s batches, then %d %s; %d partitions switched "
          "once, none back" % (seen[old], NAMES[old], seen[new], NAMES[new],
                               switched))
    return switched


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--want", choices=CODECS)
    ap.add_argument("--min-batches", type=int, default=1)
    ap.add_argument("--switch", nargs=2, choices=CODECS)
    ap.add_argument("--partitions", type=int, default=0,
                    help="--switch: how many partitions must switch")
    a = ap.parse_args()
    parts = read(a.file)
    if a.want:
        check_want(parts, CODECS[a.want], a.min_batches)
    if a.switch:
        n = check_switch(parts, CODECS[a.switch[0]], CODECS[a.switch[1]])
        if n < a.partitions:
            sys.exit("%d partitions switched, want %d" % (n, a.partitions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
