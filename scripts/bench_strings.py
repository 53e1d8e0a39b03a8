#!/usr/bin/env python3
"""Time per call of string edits on big values, redistill against redis-server.

Run through scripts/bench-strings.sh, which builds redistill, starts both servers pinned to
one core and passes them here as NAME:PORT:PID. For each value size and command, every
round sets the key afresh on each server in turn, warms up, then sends the calls in
pipelined batches and reports the server's CPU time per call (the sum of its threads'
on-CPU time from /proc/PID/task/*/schedstat, nanosecond resolution) and the wall time per
call as the client saw it. Last, the time to build a string from many 1 KB APPENDs, sent one
at a time.
"""

import argparse
import glob
import os
import socket
import statistics
import time


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            value, self.buf = self.buf[:n], self.buf[n + 2 :]
            return value
        raise RuntimeError("unexpected reply %r" % line)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()

    def pipeline(self, requests, batch):
        """Sends pre-encoded requests in batches, reading each batch's replies."""
        for i in range(0, len(requests), batch):
            part = requests[i : i + batch]
            self.sock.sendall(b"".join(part))
            for _ in part:
                self.reply()


def cpu_ns(pid):
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


SIZES = {"1KB": 1 << 10, "1MB": 1 << 20, "100MB": 100 << 20}


def workload(op):
    """The requests of one measured run: (setup keys, request list builder)."""
    if op == "APPEND":
        return lambda n: [encode("APPEND", "k", "z")] * n
    if op == "SETRANGE":
        return lambda n: [encode("SETRANGE", "k", 5, "q")] * n
    if op == "GETRANGE":
        return lambda n: [encode("GETRANGE", "k", 0, 10)] * n
    if op == "RENAME":
        pair = [encode("RENAME", "k", "k2"), encode("RENAME", "k2", "k")]
        return lambda n: pair * (n // 2)
    raise ValueError(op)


def measure(server, value, op, calls, batch):
    name, conn, pid = server
    conn.call("FLUSHALL")
    conn.call("SET", "k", value)
    requests = workload(op)(calls)
    conn.pipeline(requests[:16], batch)  # warm-up: the first edit may regrow the value
    cpu0, t0 = cpu_ns(pid), time.perf_counter()
    conn.pipeline(requests, batch)
    t1, cpu1 = time.perf_counter(), cpu_ns(pid)
    return (cpu1 - cpu0) / 1e3 / len(requests), (t1 - t0) * 1e6 / len(requests)


def build_by_appends(server, appends, chunk):
    name, conn, pid = server
    conn.call("FLUSHALL")
    data = encode("APPEND", "built", b"a" * chunk)
    cpu0, t0 = cpu_ns(pid), time.perf_counter()
    for _ in range(appends):
        conn.sock.sendall(data)
        conn.reply()
    t1, cpu1 = time.perf_counter(), cpu_ns(pid)
    assert int(conn.call("STRLEN", "built")) == appends * chunk
    conn.call("FLUSHALL")
    return (cpu1 - cpu0) / 1e6, (t1 - t0) * 1e3  # both in ms


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("servers", nargs=2, help="NAME:PORT:PID, redis first")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    p.add_argument("--sizes", default=os.environ.get("SIZES", "1KB,1MB,100MB"))
    p.add_argument("--ops", default=os.environ.get("OPS", "APPEND,SETRANGE,GETRANGE,RENAME"))
    p.add_argument("--calls", type=int, default=int(os.environ.get("CALLS", 20000)))
    p.add_argument("--batch", type=int, default=int(os.environ.get("BATCH", 64)))
    p.add_argument("--appends", type=int, default=int(os.environ.get("APPENDS", 20000)))
    a = p.parse_args()
    servers = []
    for spec in a.servers:
        name, port, pid = spec.split(":")
        servers.append((name, Conn(int(port)), int(pid)))
    (rname, _, _), (oname, _, _) = servers

    print("server CPU time per call (us, median of %d rounds); wall us per call as the "
          "client saw it, pipelined %d deep; %d calls per run" % (a.rounds, a.batch, a.calls))
    print()
    print("| value | command | %s cpu us | %s cpu us | cpu x | %s wall us | %s wall us |"
          % (rname, oname, rname, oname))
    print("|---|---|---:|---:|---:|---:|---:|")
    for size in a.sizes.split(","):
        value = b"v" * SIZES[size]
        for op in a.ops.split(","):
            cpu = {s[0]: [] for s in servers}
            wall = {s[0]: [] for s in servers}
            for r in range(a.rounds):
                order = servers if r % 2 == 0 else servers[::-1]
                for server in order:
                    c, w = measure(server, value, op, a.calls, a.batch)
                    cpu[server[0]].append(c)
                    wall[server[0]].append(w)
            rc, oc = statistics.median(cpu[rname]), statistics.median(cpu[oname])
            rw, ow = statistics.median(wall[rname]), statistics.median(wall[oname])
            print("| %s | %s | %.3f | %.3f | %.2f | %.2f | %.2f |"
                  % (size, op, rc, oc, rc / oc if oc > 0 else 0, rw, ow), flush=True)
    print()
    print("Building a %.1f MB string from %d APPENDs of 1 KB, one round trip each:"
          % (a.appends * 1024 / 1e6, a.appends))
    for server in servers:
        cpu_ms, wall_ms = build_by_appends(server, a.appends, 1024)
        print("- %s: %.0f ms wall, %.1f ms server CPU" % (server[0], wall_ms, cpu_ms), flush=True)


if __name__ == "__main__":
    main()
