#!/usr/bin/python3
"""bench_python.py: chute's KafkaProducer against kafka-python's and
confluent-kafka-python's, the same workload in the same run (produce.py),
alternating RUNS times; prints each run and the medians.

    bench_python.py --bootstrap B --topic T --instance I --chuted-pid PID
                    [-N RECORDS] [--kafka-python-records N] [-r RUNS]
                    [--python PY] [--clients chute,kafka-python,...]

records/s is RECORDS over the time from the first send to the end of
flush(); CPU per record is the CPU of everything on the producing side
over that span: the producer's process (all its threads: librdkafka's and
kafka-python's I/O threads too) and, for chute, chuted and its worker
processes (from /proc/PID/stat).  The brokers' CPU is no one's.
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def proc_cpu_ns(pid):
    """utime + stime of pid in ns (0 if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return (int(fields[11]) + int(fields[12])) * TICK_NS


def service_pids(sup):
    """chuted's supervisor and its children (the workers)."""
    pids = [sup]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == sup:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def one_run(opts, client, n):
    cmd = [opts.python, os.path.join(HERE, "produce.py"), client,
           "--bootstrap", opts.bootstrap, "--topic", opts.topic,
           "--instance", opts.instance, "-N", str(n),
           "--size", str(opts.size), "--keys", str(opts.keys)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    if p.stdout.readline().strip() != "ready":
        sys.exit("%s did not get ready" % client)
    pids = service_pids(opts.chuted_pid) if client == "chute" else []
    svc0 = sum(proc_cpu_ns(pid) for pid in pids)
    p.stdin.write("go\n")
    p.stdin.flush()
    line = p.stdout.readline().split()
    svc = sum(proc_cpu_ns(pid) for pid in pids) - svc0
    p.stdin.close()
    if p.wait(120) != 0 or not line or line[0] != "result":
        sys.exit("%s failed" % client)
    r = dict(kv.split("=") for kv in line[1:])
    if int(r["failed"]):
        sys.exit("%s: %s records failed" % (client, r["failed"]))
    wall, cpu = int(r["wall_ns"]), int(r["cpu_ns"]) + svc
    return {"rec_per_s": n / (wall / 1e9), "cpu_ns_per_rec": cpu / n,
            "client_cpu_ns_per_rec": int(r["cpu_ns"]) / n,
            "service_cpu_ns_per_rec": svc / n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--instance", required=True)
    ap.add_argument("--chuted-pid", type=int, required=True)
    ap.add_argument("-N", type=int, default=300000)
    ap.add_argument("--kafka-python-records", type=int, default=100000)
    ap.add_argument("-r", "--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--clients",
                    default="chute,kafka-python,confluent,confluent-nocb")
    opts = ap.parse_args()
    clients = opts.clients.split(",")
    results = {c: [] for c in clients}
    for run in range(opts.runs):
        for c in clients:
            n = opts.kafka_python_records if c == "kafka-python" else opts.N
            r = one_run(opts, c, n)
            results[c].append(r)
            print("run %d %-15s rec_per_s=%.0f cpu_ns_per_rec=%.0f "
                  "(client %.0f + chuted %.0f)"
                  % (run + 1, c, r["rec_per_s"], r["cpu_ns_per_rec"],
                     r["client_cpu_ns_per_rec"],
                     r["service_cpu_ns_per_rec"]), flush=True)
    med = {c: {k: statistics.median(r[k] for r in results[c])
               for k in results[c][0]} for c in clients}
    for c in clients:
        m = med[c]
        line = ("median %-15s rec_per_s=%.0f cpu_ns_per_rec=%.0f "
                "(client %.0f + chuted %.0f)"
                % (c, m["rec_per_s"], m["cpu_ns_per_rec"],
                   m["client_cpu_ns_per_rec"], m["service_cpu_ns_per_rec"]))
        if c != "chute" and "chute" in med:
            line += " chute/this: rate x%.2f, cpu x%.2f" % (
                med["chute"]["rec_per_s"] / m["rec_per_s"],
                med["chute"]["cpu_ns_per_rec"] / m["cpu_ns_per_rec"])
        print(line)


if __name__ == "__main__":
    main()
