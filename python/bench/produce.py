#!/usr/bin/python3
"""produce.py: one producer of bench_python.py's workload, in a process of
its own.

    produce.py CLIENT --bootstrap B --topic T --instance I -N RECORDS
               [--size 100] [--keys 1000] [--warmup 5000]

CLIENT is chute (chute.KafkaProducer through chuted), kafka-python
(kafka.KafkaProducer 2.0.2), confluent (confluent_kafka.Producer, a
delivery callback per record, as an application that wants each record's
outcome) or confluent-nocb (no delivery callback).  All: acks=all,
linger 5 ms, no compression; confluent and chute are idempotent
(kafka-python 2.0.2 cannot be).  Record i has the key
"key-(i % KEYS)" and a value of SIZE bytes.  kafka-python and chute use the
same code: send(...).add_errback(count), then flush().

It sets up, sends WARMUP records and flushes them, prints "ready", and
waits for a line on stdin; then it sends RECORDS records, flushes, and
prints "result sent=N failed=N wall_ns=N cpu_ns=N" (cpu_ns: this process,
every thread, over the same span).
"""
import argparse
import sys
import time


class Count:
    def __init__(self):
        self.failed = 0

    def error(self, exc):
        self.failed += 1
        if self.failed == 1:
            print("produce: delivery failed: %r" % (exc,), file=sys.stderr)

    def report(self, err, msg):
        if err is not None:
            self.error(err)


def futures_client(producer, topic, keys, values, count):
    """kafka-python's API: the same loop for kafka-python and chute."""
    send = producer.send
    err = count.error
    nk, nv = len(keys), len(values)

    def run(first, n):
        for i in range(first, first + n):
            send(topic, values[i % nv], key=keys[i % nk]).add_errback(err)
        producer.flush()
    return run


def confluent_client(producer, topic, keys, values, count, callback):
    produce = producer.produce
    poll = producer.poll
    nk, nv = len(keys), len(values)
    cb = count.report if callback else None

    def run(first, n):
        for i in range(first, first + n):
            while True:
                try:
                    if cb:
                        produce(topic, values[i % nv], keys[i % nk],
                                on_delivery=cb)
                    else:
                        produce(topic, values[i % nv], keys[i % nk])
                    break
                except BufferError:
                    poll(0.01)
            if i % 1000 == 0:
                poll(0)
        producer.flush()
    return run


def make(opts, count):
    keys = [b"key-%d" % k for k in range(opts.keys)]
    values = [(b"%08d" % v + bytes(range(97, 123)) * 8)[:opts.size]
              for v in range(1000)]
    if opts.client == "chute":
        from chute import KafkaProducer
        p = KafkaProducer(opts.instance)
        return futures_client(p, opts.topic, keys, values, count)
    if opts.client == "kafka-python":
        from kafka import KafkaProducer
        p = KafkaProducer(bootstrap_servers=opts.bootstrap.split(","),
                          acks="all", linger_ms=5,
                          max_in_flight_requests_per_connection=5)
        return futures_client(p, opts.topic, keys, values, count)
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": opts.bootstrap, "acks": "all",
                  "linger.ms": 5, "enable.idempotence": True,
                  "compression.codec": "none"})
    return confluent_client(p, opts.topic, keys, values, count,
                            opts.client == "confluent")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("client", choices=["chute", "kafka-python", "confluent",
                                       "confluent-nocb"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--instance")
    ap.add_argument("-N", type=int, required=True)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=5000)
    opts = ap.parse_args()
    count = Count()
    run = make(opts, count)
    run(0, opts.warmup)
    count.failed = 0
    print("ready", flush=True)
    if not sys.stdin.readline():
        sys.exit(1)
    cpu0, t0 = time.process_time_ns(), time.perf_counter_ns()
    run(opts.warmup, opts.N)
    wall, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - cpu0
    print("result sent=%d failed=%d wall_ns=%d cpu_ns=%d"
          % (opts.N, count.failed, wall, cpu), flush=True)


if __name__ == "__main__":
    main()
