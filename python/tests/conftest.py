"""Fixtures of chute's Python client tests: the mock cluster or a real
Kafka cluster, chuted instances, and an independent reader (kcat, which is
librdkafka's consumer, with CRC checks).

Environment (tests/integration/test_python.sh sets it):
  CHUTE_TEST_TOP      the chute source tree (scripts/kafka.sh)
  CHUTE_TEST_BUILD    the chute build directory (chuted, chute-mock, ...)
  CHUTE_TEST_BACKEND  "mock" (each test session starts chute-mock) or
                      "kafka" (BOOTSTRAP and KAFKA_DIR name a running
                      cluster, scripts/kafka.sh makes the topics)
"""
import os
import signal
import subprocess
import time
import uuid

import pytest

TOP = os.environ.get("CHUTE_TEST_TOP") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("CHUTE_TEST_BUILD",
                                       os.path.join(TOP, "build")))
BACKEND = os.environ.get("CHUTE_TEST_BACKEND", "mock")
PARTITIONS = 6


def pytest_configure(config):
    config.addinivalue_line("markers",
                            "mock_only: needs the mock's fault injection")


def pytest_collection_modifyitems(config, items):
    if BACKEND != "mock":
        skip = pytest.mark.skip(reason="needs chute-mock's faults")
        for item in items:
            if "mock_only" in item.keywords:
                item.add_marker(skip)


def wait_for(what, secs, check, proc=None):
    """Polls check() every 50 ms for secs; a dead proc fails at once."""
    end = time.monotonic() + secs
    while True:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail("%s: the process died (status %s)"
                        % (what, proc.returncode))
        if time.monotonic() > end:
            pytest.fail("%s: not within %s s" % (what, secs))
        time.sleep(0.05)


class Mock:
    """chute-mock with its fault-injection commands."""

    def __init__(self, tmp, brokers=3, topics=()):
        self.err = open(os.path.join(tmp, "mock-%s.err" % uuid.uuid4().hex),
                        "w")
        args = [os.path.join(BUILD, "bin", "chute-mock"), "-B", str(brokers)]
        for t in topics:
            args += ["-T", t]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, bufsize=1)
        self.bootstrap = self.proc.stdout.readline().strip()
        if ":" not in self.bootstrap:
            self.stop()
            pytest.fail("chute-mock printed no bootstrap list")

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        assert reply == "ok", "mock %r: %r" % (line, reply)

    def make_topic(self, name, parts):
        return name  # the mock creates topics on first use (4 partitions)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.err.close()


class Kafka:
    """The run's real Apache Kafka cluster (scripts/kafka.sh)."""

    def __init__(self):
        self.bootstrap = os.environ["BOOTSTRAP"]

    def make_topic(self, name, parts):
        subprocess.run([os.path.join(TOP, "scripts", "kafka.sh"), "topic",
                        name, str(parts)], check=True, timeout=120)
        return name

    def stop(self):
        pass


class Chuted:
    """One chuted instance; stop() expects a clean exit."""

    def __init__(self, tmp, bootstrap, *args):
        self.name = "py-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.log = os.path.join(tmp, self.name + ".log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(BUILD, "bin", "chuted"),
                 "-X", "bootstrap.servers=" + bootstrap,
                 "-X", "name=" + self.name] + list(args), stderr=log)
        wait_for("chuted %s comes up" % self.name, 15, self.answers,
                 self.proc)

    def answers(self):
        return subprocess.run(
            [os.path.join(BUILD, "bin", "chutectl"), "-n", self.name,
             "status"], capture_output=True).returncode == 0

    def stop(self):
        if self.proc.poll() is not None:
            pytest.fail("chuted died: %s" % open(self.log).read()[-2000:])
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("chuted did not drain within 60 s")
        assert rc == 0, open(self.log).read()[-2000:]


@pytest.fixture(scope="session")
def tmpdir_session(tmp_path_factory):
    return str(tmp_path_factory.mktemp("chute"))


@pytest.fixture(scope="session")
def cluster(tmpdir_session):
    c = Mock(tmpdir_session) if BACKEND == "mock" else Kafka()
    yield c
    c.stop()


@pytest.fixture(scope="session")
def service(cluster, tmpdir_session):
    """A chuted on the session's cluster; its name."""
    s = Chuted(tmpdir_session, cluster.bootstrap)
    yield s.name
    s.stop()


@pytest.fixture(scope="session")
def topic(cluster):
    """The session's topic (6 partitions on Kafka, 4 on the mock)."""
    return cluster.make_topic("py-%d" % os.getpid(), PARTITIONS)


@pytest.fixture
def own_mock(tmpdir_session):
    """A mock of this test's own (for faults that would hurt others)."""
    m = Mock(tmpdir_session)
    yield m
    m.stop()


@pytest.fixture
def chuted_on(tmpdir_session):
    """Starts chuted instances of this test's own: chuted_on(bootstrap,
    *args) -> name; all stop (cleanly) at the end of the test."""
    started = []

    def start(bootstrap, *args):
        s = Chuted(tmpdir_session, bootstrap, *args)
        started.append(s)
        return s.name
    yield start
    for s in started:
        s.stop()


def read_topic(cluster, topic, want, prefix=b""):
    """Reads the topic with kcat (librdkafka, check.crcs) until it holds
    `want` records whose value starts with prefix; returns
    {(partition, offset): (timestamp, key, value)} of those."""
    end = time.monotonic() + 60
    while True:
        out = subprocess.run(
            ["kcat", "-C", "-b", cluster.bootstrap, "-t", topic, "-e", "-q",
             "-X", "check.crcs=true", "-f", "%p\\t%o\\t%T\\t%k\\t%s\\n"],
            capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
        got = {}
        for line in out.stdout.split(b"\n"):
            if not line:
                continue
            p, o, ts, k, v = line.split(b"\t")
            if v.startswith(prefix):
                assert (int(p), int(o)) not in got
                got[(int(p), int(o))] = (int(ts), k, v)
        if len(got) >= want or time.monotonic() > end:
            assert len(got) == want, "read %d records, want %d" % (len(got),
                                                                   want)
            return got
        time.sleep(0.5)
