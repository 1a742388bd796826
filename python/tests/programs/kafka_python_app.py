"""A small program written for kafka-python.  test_migration.py runs it as
it is (kafka-python, straight to the brokers) and with its imports changed
from kafka to chute (through chuted), and wants the same output.

    kafka_python_app.py BOOTSTRAP TOPIC
"""
import json
import sys

from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = KafkaProducer(
    bootstrap_servers=bootstrap, acks="all", linger_ms=5,
    value_serializer=lambda v: json.dumps(v).encode(),
    key_serializer=lambda k: k.encode() if k is not None else None)
delivered = []


def on_ok(md):
    delivered.append((md.topic, md.partition))


def on_error(exc):
    print("error", exc)


for i in range(100):
    producer.send(topic, {"i": i}, key="user-%d" % (i % 7)) \
        .add_callback(on_ok).add_errback(on_error)
md = producer.send(topic, {"sync": True}, key="user-0",
                   headers=[("h", b"1")]).get(timeout=30)
print("sync", md.topic, md.partition, md.serialized_key_size,
      md.serialized_value_size, md.serialized_header_size)
producer.flush(timeout=30)
print("delivered", len(delivered), sorted(set(delivered)))
print("partitions", sorted(producer.partitions_for(topic)))
# kafka-python returns a failed future for an error a broker would give
big = producer.send(topic, {"big": "x" * 2000000}, key="k")
try:
    big.get(timeout=10)
except MessageSizeTooLargeError:
    print("too large", big.failed(), big.retriable())
producer.close()
print("closed")
