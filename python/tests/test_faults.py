"""Faults the mock makes on demand: a full ring with max_block_ms 0 (fail)
and > 0 (block, then time out or go on), flush and close while the brokers
are down, a broker error in a future, and a user's 32 report rings."""
import os
import threading
import time

import pytest

from chute import KafkaProducer, errors

pytestmark = pytest.mark.mock_only


@pytest.fixture(autouse=True)
def brokers_back(own_mock, chuted_on):
    """Whatever happens, the brokers are up again before chuted stops
    (it drains on SIGTERM)."""
    yield
    own_mock.cmd("up -1")

# A chuted whose intake fills fast: one 64 KiB ring and a 1 MiB pool.
SMALL = ["-X", "slots=1", "-X", "workers=1", "-X", "ring.size=64k",
         "-X", "buffer.memory=1m", "-X", "message.max.bytes=16384",
         "-X", "batch.size=16384", "-X", "reconnect.backoff.max.ms=200"]


def fill(p, topic, match):
    """Sends 1000-byte records until the ring is full; returns the futures
    of those that went in and how long the refused send took."""
    fs = []
    for i in range(100000):
        t0 = time.monotonic()
        try:
            fs.append(p.send(topic, b"%07d" % i + b"x" * 993))
        except errors.KafkaTimeoutError as e:
            assert match in str(e)
            return fs, time.monotonic() - t0
    pytest.fail("the ring never filled")


def test_queue_full_fail_and_block(own_mock, chuted_on):
    name = chuted_on(own_mock.bootstrap, *SMALL)
    fail = KafkaProducer(name, max_block_ms=0)
    fail.send("full", b"first").get(30)  # the topic is known, then
    own_mock.cmd("down -1")
    fs, took = fill(fail, "full", "max_block_ms is 0")
    assert len(fs) >= 30, len(fs)  # a 64 KiB ring's worth at least
    assert took < 0.1
    # block: waits max_block_ms, then gives up
    block = KafkaProducer(name, max_block_ms=300)
    more, took = fill(block, "full", "within max_block_ms (300 ms)")
    assert 0.3 <= took < 3
    fs += more
    # block: a send waiting when the brokers come back goes in
    patient = KafkaProducer(name, max_block_ms=30000)
    threading.Timer(0.5, own_mock.cmd, ["up -1"]).start()
    t0 = time.monotonic()
    f = patient.send("full", b"x" * 1000)
    assert time.monotonic() - t0 >= 0.4
    assert f.get(60).offset >= 0
    mds = [f.get(60) for f in fs]
    assert len({(md.partition, md.offset) for md in mds}) == len(fs)
    for p in (fail, block, patient):
        p.close()


def test_flush_timeout_and_close_with_records_pending(own_mock, chuted_on):
    name = chuted_on(own_mock.bootstrap, *SMALL)
    p = KafkaProducer(name)
    p.send("pend", b"first").get(30)
    own_mock.cmd("down -1")
    fs = [p.send("pend", b"r%d" % i) for i in range(10)]
    t0 = time.monotonic()
    with pytest.raises(errors.KafkaTimeoutError):
        p.flush(timeout=0.5)
    assert 0.5 <= time.monotonic() - t0 < 3
    with pytest.raises(errors.KafkaTimeoutError):
        fs[0].get(timeout=0.2)
    assert not any(f.is_done for f in fs)
    failed = []
    fs[1].add_errback(failed.append)
    t0 = time.monotonic()
    p.close(timeout=0.3)
    assert time.monotonic() - t0 < 3
    assert all(f.failed() for f in fs)
    assert isinstance(failed[0], errors.IllegalStateError)
    with pytest.raises(errors.IllegalStateError, match="before this record"):
        fs[2].get(1)
    own_mock.cmd("up -1")
    # The records were chuted's: they are delivered all the same.
    q = KafkaProducer(name)
    q.send("pend", b"last").get(60)
    q.close()


def test_broker_error_fails_the_future(own_mock, chuted_on):
    name = chuted_on(own_mock.bootstrap)
    p = KafkaProducer(name)
    p.send("brk", b"first").get(30)
    own_mock.cmd("err 0 1 10")  # the next Produce: MESSAGE_TOO_LARGE
    f = p.send("brk", b"refused")
    errs = []
    f.add_errback(errs.append)
    with pytest.raises(errors.MessageSizeTooLargeError,
                       match="MESSAGE_TOO_LARGE") as e:
        f.get(30)
    assert e.value.errno == 10 and not f.retriable()
    assert f.failed() and not f.succeeded() and f.value is None
    assert errs == [f.exception]
    assert p.metrics()["chute"]["failed"] == 1
    assert p.send("brk", b"after").get(30).offset >= 0
    p.close()


def test_report_rings_run_out_clearly(own_mock, chuted_on):
    """A user (uid) has 32 delivery-report rings per instance (libchute's
    REPORT_RINGS_PER_USER): the 33rd producer is refused, clearly."""
    name = chuted_on(own_mock.bootstrap)
    ps = [KafkaProducer(name) for _ in range(32)]
    with pytest.raises(errors.ServiceCapacityError,
                       match="all 32 delivery-report rings of uid %d are "
                             "taken.*at most that many producers of one "
                             "user" % os.getuid()) as e:
        KafkaProducer(name)
    assert e.value.chute_name == "CHUTE_ERR_TOO_MANY"
    ps.pop().close()
    ps.append(KafkaProducer(name))
    assert ps[-1].send("rings", b"v").get(30).offset >= 0
    for p in ps:
        p.close()
