#!/usr/bin/python3
"""bench_kafka_python.py: chute-bench's workload through kafka-python's
KafkaProducer, driven by chute-bench over stdin and stdout.

    /usr/bin/python3 bench_kafka_python.py -b BOOTSTRAP -t TOPIC -N RECORDS
                                           -S SIZE -k KEYS [-w WARMUP]

It runs under Debian's /usr/bin/python3 (python3-kafka 2.0.2, python3-lz4).
The records are chute-bench's: record i has the key "key-(i % KEYS)" and a
value of SIZE bytes 'a'..'z' in turn whose first 8 bytes are i (little
endian).  The producer runs with lz4, linger_ms=5, acks='all' and 5 requests
in flight; keyed records go through the default partitioner (murmur2, as
Kafka's Java client).  kafka-python 2.0.2 has no idempotent producer.

The protocol is tools/java-bench's: set up, send WARMUP records and flush
them, print "ready"; a line on stdin starts the run (EOF: exit 1); after
the sends, flush() and close() it prints

    result sent=N failed=N bytes=N cpu_ns=N samples=K

and K lines, each the duration in ns of one send() call (every 16th).
cpu_ns is the process's CPU time (every thread, the sender thread too) from
the start line to the end of close(): interpreter start-up and warm-up are
not in it.
"""
import argparse
import struct
import sys
import time

from kafka import KafkaProducer

SAMPLE_EVERY = 16


class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.producer = KafkaProducer(
            bootstrap_servers=opts.b.split(","),
            compression_type=None if opts.z == "none" else opts.z,
            linger_ms=5, acks="all",
            max_in_flight_requests_per_connection=5)
        self.keys = [b"key-%d" % k for k in range(opts.k)]
        self.tail = bytes(ord("a") + i % 26 for i in range(opts.S))[8:]
        self.sent = self.failed = self.bytes = 0

    def on_error(self, exc):
        self.failed += 1
        if self.failed == 1:
            print("kafka-python-bench: delivery failed: %r" % exc,
                  file=sys.stderr)

    def value(self, i):
        """Record i's value: i in the first 8 bytes, then the pattern."""
        if self.opts.S < 8:
            return bytes(ord("a") + j % 26 for j in range(self.opts.S))
        return struct.pack("<q", i) + self.tail

    def send(self, i):
        key = self.keys[i % len(self.keys)]
        value = self.value(i)
        try:
            self.producer.send(self.opts.t, key=key,
                               value=value).add_errback(self.on_error)
        except Exception as exc:  # a refused send counts as failed
            self.on_error(exc)
            return
        self.sent += 1
        self.bytes += len(key) + len(value)

    def warm_up(self):
        for i in range(self.opts.w):
            self.send(i)
        self.producer.flush()
        self.sent = self.failed = self.bytes = 0

    def run(self):
        samples = []
        clock = time.perf_counter_ns
        for i in range(self.opts.N):
            t0 = clock()
            self.send(i)
            if i % SAMPLE_EVERY == 0:
                samples.append(clock() - t0)
        self.producer.flush()
        self.producer.close()
        return samples


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-b", required=True, help="bootstrap servers")
    p.add_argument("-t", required=True, help="topic")
    p.add_argument("-N", required=True, type=int, help="records")
    p.add_argument("-S", required=True, type=int, help="value size")
    p.add_argument("-k", required=True, type=int, help="distinct keys")
    p.add_argument("-w", default=0, type=int, help="warm-up records")
    p.add_argument("-z", default="lz4",
                   choices=["none", "gzip", "snappy", "lz4", "zstd"],
                   help="compression")
    return p.parse_args()


def main():
    bench = Bench(parse_args())
    bench.warm_up()
    print("ready", flush=True)
    if not sys.stdin.readline():
        sys.exit(1)
    cpu0 = time.process_time_ns()
    samples = bench.run()
    cpu = time.process_time_ns() - cpu0
    out = ["result sent=%d failed=%d bytes=%d cpu_ns=%d samples=%d"
           % (bench.sent, bench.failed, bench.bytes, cpu, len(samples))]
    out.extend(str(s) for s in samples)
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
