"""chute's KafkaProducer against chuted: every future resolves to the
partition and offset where an independent consumer (kcat) finds its record;
callbacks; settings and serializers; errors raised by send()."""
import json
import logging
import threading
import time
import uuid

import pytest
from kafka.partitioner import DefaultPartitioner

from chute import KafkaProducer, ChuteConfigWarning, RecordMetadata
from chute import errors
from conftest import read_topic


def tag():
    return uuid.uuid4().hex[:8].encode()


def test_every_future_is_where_kcat_finds_the_record(cluster, service, topic):
    t = tag()
    p = KafkaProducer(service)
    n = 20000
    sent = []
    for i in range(n):
        key = b"key-%d" % (i % 300)
        value = b"%s-%07d" % (t, i)
        headers = [("n", b"%d" % i)] if i % 10 == 0 else None
        sent.append((key, value, headers, p.send(topic, value, key=key,
                                                  headers=headers)))
    p.flush(60)
    found = read_topic(cluster, topic, n, t)
    parts = sorted(p.partitions_for(topic))
    kp = DefaultPartitioner()
    for key, value, headers, f in sent:
        assert f.is_done and f.succeeded() and not f.failed()
        md = f.get(0)
        assert isinstance(md, RecordMetadata)
        assert found[(md.partition, md.offset)] == (md.timestamp, key, value)
        assert md.topic == topic and md.topic_partition == (topic,
                                                            md.partition)
        # The partition kafka-python's default partitioner picks (murmur2).
        assert md.partition == kp(key, parts, parts)
        assert md.serialized_key_size == len(key)
        assert md.serialized_value_size == len(value)
        assert md.serialized_header_size == (1 + len(headers[0][1])
                                             if headers else -1)
        assert md.log_start_offset == -1 and md.checksum is None
    m = p.metrics()
    assert m["chute"]["acked"] == n and m["chute"]["pending"] == 0
    p.close()


def test_send_get_and_timestamp(cluster, service, topic):
    t = tag()
    p = KafkaProducer(service)
    start = time.time()
    mds = [p.send(topic, b"%s-%d" % (t, i), timestamp_ms=1700000000000 + i)
           .get(timeout=30) for i in range(20)]
    assert time.time() - start < 20
    found = read_topic(cluster, topic, 20, t)
    for i, md in enumerate(mds):
        assert md.timestamp == 1700000000000 + i
        assert found[(md.partition, md.offset)][0] == md.timestamp
        assert md.serialized_key_size == -1
    p.close()


def test_callbacks_run_on_one_background_thread(service, topic, caplog):
    p = KafkaProducer(service)
    seen, threads, bound, wrong, failed = [], set(), [], [], []
    adding = [False]

    def ok(md):
        # The main thread may run a callback only inside add_callback (for
        # a future that was done already); any other runs on the callback
        # thread.
        if threading.current_thread() is threading.main_thread():
            if not adding[0]:
                wrong.append(md)
        else:
            threads.add(threading.current_thread().name)
        seen.append(md)
        if len(seen) == 5:
            raise RuntimeError("a callback that fails")

    for i in range(3000):
        f = p.send(topic, b"cb-%d" % i)
        adding[0] = True
        f.add_callback(ok)
        adding[0] = False
        f.add_errback(failed.append)
    f.add_callback(lambda a, md, b=None: bound.append((a, md, b)), 1, b=2)
    with caplog.at_level(logging.ERROR, logger="chute.future"):
        p.flush(60)
    # flush() returns once the callbacks of earlier records ran
    assert len(seen) == 3000 and len(bound) == 1 and not failed
    assert not wrong, "%d callbacks ran on the main thread" % len(wrong)
    assert bound[0][0] == 1 and bound[0][2] == 2
    assert bound[0][1] == f.value
    assert threads == {"chute-callbacks-" + service}
    assert "Error processing callback" in caplog.text
    # On a done future, add_callback runs at once, in the caller's thread.
    here = []
    f.add_callback(lambda md: here.append(threading.current_thread()))
    assert here == [threading.current_thread()]
    p.close()


def test_settings_serializers_partitioner(cluster, service, topic):
    with pytest.raises(errors.KafkaConfigurationError, match="no_such"):
        KafkaProducer(service, no_such=1)
    with pytest.warns(ChuteConfigWarning) as w:
        p = KafkaProducer(service, bootstrap_servers="kafka:9092",
                          acks="all", linger_ms=5,
                          value_serializer=lambda v: json.dumps(v).encode(),
                          key_serializer=str.encode,
                          partitioner=lambda key, all_, avail: all_[-1])
    assert len(w) == 1
    assert "acks, bootstrap_servers, linger_ms" in str(w[0].message)
    t = tag().decode()
    fs = [p.send(topic, {"t": t, "i": i}, key="k%d" % i) for i in range(50)]
    p.flush(30)
    last = max(p.partitions_for(topic))
    assert {f.get(0).partition for f in fs} == {last}
    found = read_topic(cluster, topic, 50, b'{"t": "%s"' % t.encode())
    for i, f in enumerate(fs):
        md = f.get(0)
        _, k, v = found[(md.partition, md.offset)]
        assert (k, json.loads(v)) == (b"k%d" % i, {"t": t, "i": i})
    # An explicit partition wins; one out of range is refused.
    assert p.send(topic, {"x": 1}, key="x", partition=0).get(30).partition == 0
    with pytest.raises(errors.IllegalArgumentError):
        p.send(topic, {"x": 1}, key="x", partition=99)
    p.close()


def test_argument_errors(service, topic):
    p = KafkaProducer(service)
    with pytest.raises(TypeError, match="value_serializer"):
        p.send(topic, "a str")
    with pytest.raises(ValueError, match="key or value"):
        p.send(topic)
    with pytest.raises(TypeError, match="headers"):
        p.send(topic, b"v", headers=[("k", b"v", 3)])
    with pytest.raises(TypeError, match="unexpected keyword"):
        p.send(topic, b"v", kee=b"k")
    # bytearray and memoryview are bytes too; a tombstone has no value.
    assert p.send(topic, bytearray(b"ba")).get(30).serialized_value_size == 2
    assert p.send(topic, memoryview(b"mv!")).get(30).serialized_value_size == 3
    assert p.send(topic, None, key=b"gone").get(30).serialized_value_size == -1
    p.close()


def test_oversized_record(service, topic):
    p = KafkaProducer(service)
    # As kafka-python: a broker's kind of error comes as a failed future.
    f = p.send(topic, b"x" * 2000000)
    assert f.is_done and f.failed() and not f.succeeded()
    with pytest.raises(errors.MessageSizeTooLargeError,
                       match="message.max.bytes") as e:
        f.get()
    assert e.value.chute_name == "CHUTE_ERR_TOO_LARGE"
    assert p.metrics()["producer-metrics"]["record-error-total"] == 1
    p.close()


def test_no_service():
    with pytest.raises(errors.NoBrokersAvailable, match="nosuch-py"):
        KafkaProducer("nosuch-py-%d" % time.time_ns())


def test_unknown_topic(cluster, service):
    p = KafkaProducer(service)
    if hasattr(cluster, "cmd"):
        cluster.cmd("topic-error refused-topic 17")
        name = "refused-topic"
    else:
        name = "no/such topic"  # a name Kafka refuses
    start = time.monotonic()
    with pytest.raises(errors.UnknownTopicOrPartitionError, match="topic"):
        p.send(name, b"v").get(0)
    assert time.monotonic() - start < 30
    with pytest.raises(errors.UnknownTopicOrPartitionError):
        p.partitions_for(name)
    p.close()


def test_close(service, topic):
    p = KafkaProducer(service)
    done = []
    for i in range(2000):
        p.send(topic, b"close-%d" % i).add_callback(done.append)
    p.close()  # waits for every outcome, callbacks included
    assert len(done) == 2000
    with pytest.raises(errors.IllegalStateError, match="closed"):
        p.send(topic, b"late")
    p.close()  # twice is fine
    with KafkaProducer(service) as q:
        f = q.send(topic, b"with")
    assert f.succeeded()
