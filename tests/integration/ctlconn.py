#!/usr/bin/python3
"""ctlconn.py: raw connections to chuted's control socket, for the tests of
its limits (test_control_limits.sh, test_control_access.sh).

  ctlconn.py hold NAME N UNTIL
      opens N connections, sends a Hello on each and reads the answer;
      prints "accepted=A refused=R closed=C timeout=T" and, for the first
      refusal, "reason=CODE MESSAGE"; then keeps the accepted ones open
      until UNTIL: a number of seconds, or a path that is to exist (at most
      120 s), and exits 0.
  ctlconn.py open NAME N UNTIL
      opens N connections and sends nothing; prints "opened=N" and keeps
      them until UNTIL, as hold (a connection may wait in the backlog).
  ctlconn.py partial NAME N CLAIM SEND SECONDS
      opens N connections and on each sends a 4-byte length CLAIM and SEND
      bytes of body (a message that never completes); prints "sent=N", then
      after SECONDS prints "closed=K open=M": how many the service closed.
  ctlconn.py idle NAME LIMIT
      sends a Hello, reads the answer, then sends nothing: prints
      "closed_after_ms=T" when the service closes it, or "open" after LIMIT
      seconds.
  ctlconn.py busy NAME SECONDS
      one connection that asks for status every 0.3 s for SECONDS: prints
      "ok requests=K", or "closed after K requests".
  ctlconn.py register NAME N UNTIL
      registers this process as a client N times (Hello with
      register_client, one connection each, closed again); prints
      "registered=A refused=R" and the first refusal's "reason=CODE
      MESSAGE", then keeps the process (and so its entries) alive until
      UNTIL, as hold.
  ctlconn.py trickle NAME LIMIT
      starts a 100-byte message and sends one more byte every 0.2 s: prints
      "closed_after_ms=T" when the service closes it (measured from the
      message's first byte), or "open" after LIMIT seconds.

The socket is DIR/chute-NAME.sock, DIR found as common/rundir.h says.  Messages are
encoded by hand (proto/control.proto): Request.hello is field 10, status 12.
"""
import os
import select
import socket
import struct
import sys
import time

HELLO = b"\x52\x00"   # Request{hello: {}}
STATUS = b"\x62\x00"  # Request{status: {}}
REGISTER = b"\x52\x02\x18\x01"  # Request{hello: {register_client: true}}


def run_dir():
    """The runtime directory, found as libchute finds it (common/rundir.h)."""
    if os.environ.get("CHUTE_RUN_DIR"):
        return os.environ["CHUTE_RUN_DIR"]
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if os.geteuid() == 0 or os.access("/run/chute", os.X_OK) or not xdg:
        return "/run/chute"
    return os.path.join(xdg, "chute")


def path(name):
    return os.path.join(run_dir(), "chute-%s.sock" % name)


def frame(body):
    return struct.pack(">I", len(body)) + body


def connect(name):
    """A connection; a full backlog (EAGAIN) is tried again for 10 s."""
    end = time.monotonic() + 10
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path(name))
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.01)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            return None
        buf += b
    return buf


def read_reply(s):
    """The reply's body, or None at end of stream (or a reset)."""
    try:
        head = recv_exact(s, 4)
        if head is None:
            return None
        return recv_exact(s, struct.unpack(">I", head)[0])
    except (ConnectionResetError, BrokenPipeError):
        return None


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def reply_error(body):
    """(error_code, error_message) of a Reply; (0, "") without an error."""
    code, msg, i = 0, "", 0
    while i < len(body):
        key, i = varint(body, i)
        field, kind = key >> 3, key & 7
        if kind == 0:
            v, i = varint(body, i)
            if field == 1:
                code = v - (1 << 64) if v >= 1 << 63 else v
        elif kind == 2:
            n, i = varint(body, i)
            if field == 2:
                msg = body[i:i + n].decode("utf-8", "replace")
            i += n
        else:
            break
    return code, msg


def closed_by_peer(s):
    """True once the service closed s (without blocking)."""
    s.setblocking(False)
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.setblocking(True)


def wait_until(until):
    """Sleeps UNTIL seconds, or until the path UNTIL exists (120 s at most)."""
    if not until.startswith("/"):
        time.sleep(float(until))
        return
    end = time.monotonic() + 120
    while not os.path.exists(until) and time.monotonic() < end:
        time.sleep(0.05)


def cmd_hold(name, n, until):
    kept, counts, reason = [], dict(accepted=0, refused=0, closed=0,
                                    timeout=0), None
    for _ in range(n):
        s = connect(name)
        try:
            s.sendall(frame(HELLO))
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the Hello: its answer waits to be read
        try:
            body = read_reply(s)
        except socket.timeout:
            counts["timeout"] += 1
            s.close()
            continue
        if body is None:
            counts["closed"] += 1
            s.close()
            continue
        code, msg = reply_error(body)
        if code:
            counts["refused"] += 1
            reason = reason or "%d %s" % (code, msg)
            s.close()
            continue
        counts["accepted"] += 1
        kept.append(s)
    print(" ".join("%s=%d" % kv for kv in counts.items()), flush=True)
    if reason:
        print("reason=" + reason, flush=True)
    wait_until(until)


def cmd_register(name, n, until):
    registered = refused = 0
    reason = None
    for _ in range(n):
        s = connect(name)
        s.sendall(frame(REGISTER))
        body = read_reply(s)
        s.close()
        code, msg = reply_error(body or b"")
        if body is not None and code == 0:
            registered += 1
            continue
        refused += 1
        reason = reason or "%d %s" % (code, msg)
    print("registered=%d refused=%d" % (registered, refused), flush=True)
    if reason:
        print("reason=" + reason, flush=True)
    wait_until(until)


def cmd_open(name, n, until):
    conns = [connect(name) for _ in range(n)]
    print("opened=%d" % len(conns), flush=True)
    wait_until(until)


def cmd_partial(name, n, claim, send, seconds):
    conns = []
    for _ in range(n):
        s = connect(name)
        try:
            s.sendall(struct.pack(">I", claim) + b"p" * send)
        except (BrokenPipeError, ConnectionResetError):
            pass
        conns.append(s)
    print("sent=%d" % n, flush=True)
    time.sleep(seconds)
    gone = sum(closed_by_peer(s) for s in conns)
    print("closed=%d open=%d" % (gone, n - gone), flush=True)


def wait_closed(s, start, limit):
    while time.monotonic() - start < limit:
        r, _, _ = select.select([s], [], [], 0.05)
        if r and closed_by_peer(s):
            return "closed_after_ms=%d" % ((time.monotonic() - start) * 1000)
    return "open"


def cmd_idle(name, limit):
    s = connect(name)
    s.sendall(frame(HELLO))
    assert read_reply(s) is not None, "no answer to hello"
    print(wait_closed(s, time.monotonic(), limit), flush=True)


def cmd_busy(name, seconds):
    s = connect(name)
    end, k = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        try:
            s.sendall(frame(STATUS))
            body = read_reply(s)
        except (BrokenPipeError, ConnectionResetError):
            body = None
        if body is None:
            print("closed after %d requests" % k, flush=True)
            return
        k += 1
        time.sleep(0.3)
    print("ok requests=%d" % k, flush=True)


def cmd_trickle(name, limit):
    s = connect(name)
    start = time.monotonic()
    s.sendall(struct.pack(">I", 100) + b"t")
    while time.monotonic() - start < limit:
        r, _, _ = select.select([s], [], [], 0.2)
        if r and closed_by_peer(s):
            print("closed_after_ms=%d" % ((time.monotonic() - start) * 1000))
            return
        try:
            s.send(b"t")
        except (BrokenPipeError, ConnectionResetError):
            print("closed_after_ms=%d" % ((time.monotonic() - start) * 1000))
            return
    print("open")


def main(argv):
    cmd, name, args = argv[1], argv[2], argv[3:]
    if cmd == "hold":
        cmd_hold(name, int(args[0]), args[1])
    elif cmd == "open":
        cmd_open(name, int(args[0]), args[1])
    elif cmd == "partial":
        cmd_partial(name, int(args[0]), int(args[1]), int(args[2]),
                    float(args[3]))
    elif cmd == "idle":
        cmd_idle(name, float(args[0]))
    elif cmd == "busy":
        cmd_busy(name, float(args[0]))
    elif cmd == "register":
        cmd_register(name, int(args[0]), args[1])
    elif cmd == "trickle":
        cmd_trickle(name, float(args[0]))
    else:
        sys.exit("ctlconn.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
