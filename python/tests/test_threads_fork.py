"""One producer used by many threads at once, and by the children of a
fork (a prefork server's workers) that keep using a producer made before
it; every record is checked against what kcat reads."""
import os
import threading
import time
import traceback
import uuid

import pytest

from chute import KafkaProducer, errors
from conftest import read_topic

THREADS = 8
PER_THREAD = 3000
CHILDREN = 3
PER_CHILD = 2000


def test_many_threads_one_producer(cluster, service, topic):
    t = uuid.uuid4().hex[:8].encode()
    p = KafkaProducer(service)
    results = [None] * THREADS
    start = threading.Barrier(THREADS)

    def worker(n):
        start.wait()
        fs = []
        for i in range(PER_THREAD):
            v = b"%s-t%d-%d" % (t, n, i)
            f = p.send(topic, v, key=b"k%d" % (i % 50))
            if i % 500 == 0:
                f.get(30)  # some wait, while the others send
            fs.append((v, f))
        results[n] = fs

    threads = [threading.Thread(target=worker, args=(n,))
               for n in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
        assert not th.is_alive()
    p.flush(60)
    found = read_topic(cluster, topic, THREADS * PER_THREAD, t)
    for fs in results:
        assert len(fs) == PER_THREAD
        for v, f in fs:
            md = f.get(0)
            assert found[(md.partition, md.offset)][2] == v
    p.close()


def child(p, topic, t, n, pre, out):
    """A forked child: the parent's pending futures are not its own; its
    sends resolve through its own client and callback thread."""
    pending = [f for f in pre if not f.is_done]
    for f in pending[:3]:
        t0 = time.monotonic()
        try:
            f.get(5)
            raise AssertionError("a parent's future resolved in the child")
        except errors.IllegalStateError:
            assert time.monotonic() - t0 < 1
    names = set()
    fs = []
    for i in range(PER_CHILD):
        v = b"%s-c%d-%d" % (t, n, i)
        f = p.send(topic, v, key=b"k%d" % i)
        f.add_callback(lambda md: names.add(threading.current_thread().name))
        fs.append((v, f))
    p.flush(60)
    # The child's own callback thread ran them (or the main thread, inside
    # add_callback, for a future already done then).
    bg = "chute-callbacks-" + p.config["instance"]
    assert names <= {bg, "MainThread"} and bg in names, names
    with open(out, "w") as fh:
        for v, f in fs:
            md = f.get(0)
            fh.write("%s %d %d\n" % (v.decode(), md.partition, md.offset))
        fh.write("pending-at-fork %d\n" % len(pending))
    p.close()


def test_fork_children_keep_using_the_producer(cluster, service, topic,
                                               tmp_path):
    t = uuid.uuid4().hex[:8].encode()
    p = KafkaProducer(service)
    p.send(topic, b"%s-warm" % t).get(30)
    pre = [p.send(topic, b"%s-pre-%d" % (t, i)) for i in range(3000)]
    pids = []
    for n in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                child(p, topic, t, n, pre, str(tmp_path / ("c%d" % n)))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        pids.append(pid)
    # The parent goes on with its own futures while the children run.
    post = [p.send(topic, b"%s-post-%d" % (t, i)) for i in range(1000)]
    end = time.monotonic() + 120
    for pid in pids:
        while True:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                assert os.waitstatus_to_exitcode(status) == 0
                break
            if time.monotonic() > end:
                os.kill(pid, 9)
                pytest.fail("child %d hung" % pid)
            time.sleep(0.05)
    p.flush(60)
    want = 1 + len(pre) + len(post) + CHILDREN * PER_CHILD
    found = read_topic(cluster, topic, want, t)
    for f in pre + post:
        md = f.get(0)
        assert found[(md.partition, md.offset)][2].startswith(t)
    for n in range(CHILDREN):
        lines = (tmp_path / ("c%d" % n)).read_text().split("\n")
        assert lines[-2].startswith("pending-at-fork")
        rows = [line.split() for line in lines[:-2]]
        assert len(rows) == PER_CHILD
        for v, part, off in rows:
            assert found[(int(part), int(off))][2] == v.encode()
    p.close()
