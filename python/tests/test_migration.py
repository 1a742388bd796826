"""Migration is changing the import: a kafka-python program, run as it is
and with `kafka` replaced by `chute` in its imports, prints the same."""
import os
import subprocess
import sys

from conftest import read_topic

HERE = os.path.dirname(os.path.abspath(__file__))


def run(path, cluster, topic, env):
    out = subprocess.run([sys.executable, path, cluster.bootstrap, topic],
                         capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout, out.stderr


def test_changing_the_import_is_the_migration(cluster, service, topic,
                                               tmp_path):
    original = os.path.join(HERE, "programs", "kafka_python_app.py")
    text = open(original).read()
    migrated = tmp_path / "chute_app.py"
    migrated.write_text(text.replace("from kafka import", "from chute import")
                        .replace("from kafka.errors", "from chute.errors"))
    assert migrated.read_text() != text
    name = "%s-mig" % topic
    cluster.make_topic(name, 6)
    env = dict(os.environ, CHUTE_INSTANCE=service)
    theirs, _ = run(original, cluster, name, env)
    ours, warnings = run(str(migrated), cluster, name, env)
    assert ours == theirs
    assert "delivered 100" in ours and "too large" in ours
    assert "ChuteConfigWarning" in warnings  # bootstrap_servers etc.
    read_topic(cluster, name, 2 * 101, b"{")
