#!/usr/bin/python3
"""Reads a topic back batch by batch, independently of chute and librdkafka.

Built on kafka-python's protocol layer: KafkaClient for Metadata and Fetch
v4 (which returns RecordBatch v2), kafka.record's DefaultRecordBatch to
check each batch's CRC-32C and decode its records.  The batch header (base
offset, producer id, epoch, base sequence, record count) is unpacked with
DefaultRecordBatch.HEADER_STRUCT from the batch's own bytes.

    batchdump.py -b BOOTSTRAP -t TOPIC [-o FILE] [--timeout S] [--batches]

Prints one line per record, tab-separated, partitions in order, offsets
ascending:

    partition offset producer_id epoch base_sequence batch_base_offset
    batch_record_count timestamp key_hex value_hex headers batch_digest

key, value and headers are encoded as tests/tools/kverify does ("-" null,
'""' empty, headers "k=v,k=v" or "-").  batch_digest is a SHA-1 of the
batch's bytes from the magic byte on (everything the producer wrote except
the base offset and the partition leader epoch, which the broker sets), so
two lines with the same digest come from byte-identical copies of a batch.

With --batches, one line per batch instead, its records not decoded (so
any codec will do, snappy and zstd included, which kafka-python cannot
read without modules Debian does not ship):

    partition base_offset record_count codec producer_id epoch
    base_sequence first_timestamp max_timestamp wire_bytes

codec is the attributes' codec bits (0 none, 1 gzip, 2 snappy, 3 lz4,
4 zstd); wire_bytes the batch's size from the base offset on.

Exits 1 on a CRC mismatch, a Kafka error, a batch that does not parse, or
a fetch that makes no progress before --timeout; summary on stderr.
"""
import argparse
import hashlib
import struct
import sys
import time

from kafka.client_async import KafkaClient
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.record.default_records import DefaultRecordBatch

FETCH_PARTITION_BYTES = 4 << 20
HDR = DefaultRecordBatch.HEADER_STRUCT  # 61 bytes, see the Kafka protocol
LOG_OVERHEAD = 12  # base offset (8) + length (4)
MAGIC_OFFSET = 16


class DumpError(Exception):
    pass


def hexs(b):
    if b is None:
        return "-"
    if len(b) == 0:
        return '""'
    return b.hex()


def hex_headers(headers):
    if not headers:
        return "-"
    return ",".join("%s=%s" % (hexs(k.encode() if isinstance(k, str) else k),
                               hexs(v)) for k, v in headers)


def request(client, node, req, timeout_s):
    deadline = time.time() + timeout_s
    while not client.ready(node):
        client.poll(timeout_ms=100)
        if time.time() > deadline:
            raise DumpError("broker %s not ready" % node)
    fut = client.send(node, req)
    while not fut.is_done:
        client.poll(timeout_ms=100, future=fut)
        if time.time() > deadline:
            raise DumpError("no answer from broker %s to %s"
                            % (node, type(req).__name__))
    if fut.failed():
        raise DumpError("broker %s: %r" % (node, fut.exception))
    return fut.value


def leaders(client, topic, timeout_s):
    """Partition -> leader node id, from a Metadata v1 request."""
    node = client.least_loaded_node()
    resp = request(client, node, MetadataRequest[1](topics=[topic]), timeout_s)
    for err, name, _internal, parts in resp.topics:
        if name != topic:
            continue
        if err:
            raise DumpError("metadata for %r: error %d" % (topic, err))
        out = {}
        for perr, pid, leader, _replicas, _isr in parts:
            if perr or leader < 0:
                raise DumpError("partition %d: error %d, leader %d"
                                % (pid, perr, leader))
            out[pid] = leader
        return out
    raise DumpError("topic %r not in metadata" % topic)


def split_batches(blob):
    """Whole batches in a fetched message set; a truncated tail is left."""
    pos = 0
    while pos + LOG_OVERHEAD <= len(blob):
        (length,) = struct.unpack_from(">i", blob, pos + 8)
        end = pos + LOG_OVERHEAD + length
        if end > len(blob):
            break
        yield bytes(blob[pos:end])
        pos = end


def write_batch(out, part, raw):
    """--batches: one line for the batch, its records left encoded."""
    (base, _len, _ple, _magic, _crc, attr, _last, fts, mts, pid, epoch,
     base_seq, count) = HDR.unpack_from(raw)
    out.write("\t".join(str(x) for x in (
        part, base, count, attr & 0x07, pid, epoch, base_seq, fts, mts,
        len(raw))) + "\n")
    return count


def write_records(out, part, raw, offset, pid, epoch, base_seq, base, count):
    """One line per record at or past offset; returns how many."""
    batch = DefaultRecordBatch(raw)
    digest = hashlib.sha1(raw[MAGIC_OFFSET:]).hexdigest()
    n = written = 0
    for rec in batch:
        n += 1
        if rec.offset < offset:
            continue
        out.write("\t".join(str(x) for x in (
            part, rec.offset, pid, epoch, base_seq, base, count,
            rec.timestamp, hexs(rec.key), hexs(rec.value),
            hex_headers(rec.headers), digest)) + "\n")
        written += 1
    if n != count:
        raise DumpError("p%d@%d: header says %d records, %d read"
                        % (part, base, count, n))
    return written


def fetch_partition(client, topic, part, node, timeout_s, out, batches):
    """Fetches one partition from offset 0 to its high watermark."""
    offset, high, nrec, nbatch = 0, None, 0, 0
    deadline = time.time() + timeout_s
    while high is None or offset < high:
        req = FetchRequest[4](
            replica_id=-1, max_wait_time=100, min_bytes=1,
            max_bytes=FETCH_PARTITION_BYTES, isolation_level=0,
            topics=[(topic, [(part, offset, FETCH_PARTITION_BYTES)])])
        resp = request(client, node, req, timeout_s)
        ((_t, ((_p, err, high, _lso, _aborted, blob),)),) = resp.topics
        if err:
            raise DumpError("p%d fetch at %d: error %d" % (part, offset, err))
        progressed = False
        for raw in split_batches(blob):
            (base, _len, _ple, magic, _crc, _attr, last_delta, _fts, _mts,
             pid, epoch, base_seq, count) = HDR.unpack_from(raw)
            if magic != 2:
                raise DumpError("p%d@%d: magic %d" % (part, base, magic))
            if not DefaultRecordBatch(raw).validate_crc():
                raise DumpError("p%d@%d: CRC mismatch" % (part, base))
            if batches:
                if base + last_delta + 1 > offset:
                    nrec += write_batch(out, part, raw)
            else:
                nrec += write_records(out, part, raw, offset, pid, epoch,
                                      base_seq, base, count)
            nbatch += 1
            if base + last_delta + 1 > offset:
                offset = base + last_delta + 1
                progressed = True
        if not progressed and offset < high:
            if time.time() > deadline:
                raise DumpError("p%d: stuck at offset %d of %d"
                                % (part, offset, high))
            time.sleep(0.05)
    return nrec, nbatch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--bootstrap", required=True)
    ap.add_argument("-t", "--topic", required=True)
    ap.add_argument("-o", "--out")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--batches", action="store_true",
                    help="one line per batch, records not decoded")
    a = ap.parse_args()

    client = KafkaClient(bootstrap_servers=a.bootstrap.split(","),
                         api_version=(1, 0, 0), client_id="batchdump")
    out = open(a.out, "w") if a.out else sys.stdout
    total_r = total_b = 0
    try:
        lead = leaders(client, a.topic, a.timeout)
        for part in sorted(lead):
            r, b = fetch_partition(client, a.topic, part, lead[part],
                                   a.timeout, out, a.batches)
            total_r += r
            total_b += b
    except DumpError as e:
        print("batchdump: %s" % e, file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
        client.close()
    print("batchdump: %d records in %d batches, %d partitions"
          % (total_r, total_b, len(lead)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
