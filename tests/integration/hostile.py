#!/usr/bin/python3
"""hostile.py: a hostile client of a chute instance, for test_hostile.sh.

  hostile.py NAME VICTIM_UID SECONDS

Registers with the service as a client (its uid's user space comes as a
descriptor over the control socket), then for SECONDS attacks what it can
reach, and prints one line per attack with what happened:
  - opens every user object and the status object by name for writing
    (another user's rings must stay out of reach);
  - writes records into its own rings that name the victim's client
    entries (index and pid read from the status object), commit words of
    every kind, tails far past the head, random bytes everywhere (rings,
    its own report rings);
  - cuts its object short with ftruncate (the service must not die of
    SIGBUS) and keeps writing.
Exits 0 when every attack that must fail did fail; the service's own
survival and the victim's records are checked by the test.
"""
import mmap
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctlconn  # noqa: E402

name, victim_uid, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
status_path = "/dev/shm/chute.%s.status" % name
failures = []


def attack(what, ok):
    print("%s: %s" % (what, "refused" if ok else "GOT THROUGH"), flush=True)
    if not ok:
        failures.append(what)


def register():
    s = ctlconn.connect(name)
    s.sendall(ctlconn.frame(ctlconn.REGISTER))
    body = ctlconn.read_reply(s)
    code, msg = ctlconn.reply_error(body or b"")
    if code:
        sys.exit("hostile: registration refused: %d %s" % (code, msg))
    _, fds, _, _ = socket.recv_fds(s, 1, 1)
    s.close()
    return fds[0]


def open_by_name():
    names = [f for f in os.listdir("/dev/shm") if f.startswith("chute.%s." % name)]
    for f in names:
        path = "/dev/shm/" + f
        try:
            os.close(os.open(path, os.O_RDWR))
            attack("open %s read-write" % f, False)
        except PermissionError:
            attack("open %s read-write" % f, True)


def victim_clients(status):
    """(index, pid) of the victim's registered client entries."""
    h = struct.unpack_from("<QIIQIIIiQQQQ", status, 0)
    clients_off = h[9]
    out = []
    for i in range(1024):
        pid, uid = struct.unpack_from("<iI", status, clients_off + 64 * i)
        if pid and uid == victim_uid:
            out.append((i, pid))
    return out


def forged_record(client, pid, topic, partition):
    """A committed ring record with a valid-looking tail."""
    tail = bytes([0, 0, 0, 0, 1, 0x02, ord("x"), 0])  # attrs, ts/off deltas...
    body = struct.pack("<iiHHIiIqQq", 0, pid, client, 0, topic, partition,
                       len(tail), int(time.time() * 1000), 7, 0) + tail
    length = (len(body) + 7) & ~7
    body += b"\0" * (length - len(body))
    return struct.pack("<i", length) + body[4:]


def scribble(m, status, deadline):
    hdr = struct.unpack_from("<QIIQIIQQQQ", m, 0)
    slots, ring_size = hdr[4], hdr[5]
    slots_off, stride, reports_off = hdr[7], hdr[8], hdr[9]
    victims = victim_clients(status)
    rnd = random.Random(1)
    rounds = 0
    while time.monotonic() < deadline:
        for s in range(slots):
            base = slots_off + s * stride
            data = base + 64
            pos = rnd.randrange(0, ring_size - 256) & ~7
            if victims and rounds % 3 == 0:  # records in the victim's name
                idx, pid = rnd.choice(victims)
                rec = forged_record(idx, pid, rnd.randrange(0, 4), 0)
                m[data + pos:data + pos + len(rec)] = rec
                tail, = struct.unpack_from("<Q", m, base)
                struct.pack_into("<Q", m, base, tail + len(rec))
            elif rounds % 3 == 1:  # a tail no claim makes
                struct.pack_into("<Q", m, base, rnd.getrandbits(64) & ~7)
            else:  # random bytes
                n = rnd.randrange(8, 256)
                m[data + pos:data + pos + n] = os.urandom(n)
        n = rnd.randrange(8, 4096)
        off = rnd.randrange(reports_off, len(m) - n)
        m[off:off + n] = os.urandom(n)  # its own report rings
        rounds += 1
    return rounds


def main():
    open_by_name()
    fd = register()
    size = os.fstat(fd).st_size
    m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    sfd = os.open(status_path, os.O_RDONLY)
    status = mmap.mmap(sfd, os.fstat(sfd).st_size, mmap.MAP_SHARED,
                       mmap.PROT_READ)
    try:
        status.write_byte  # noqa: B018
        mmap.mmap(sfd, 4096, mmap.MAP_SHARED, mmap.PROT_WRITE)
        attack("map the status object writable", False)
    except PermissionError:
        attack("map the status object writable", True)
    rounds = scribble(m, status, time.monotonic() + seconds / 2)
    print("scribbled %d rounds over its rings" % rounds, flush=True)
    m.close()
    os.ftruncate(fd, 4096)  # cut it short: SIGBUS for whoever touches it
    print("cut its user object to 4096 bytes", flush=True)
    time.sleep(seconds / 2)
    sys.exit(1 if failures else 0)


main()
