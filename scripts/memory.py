#!/usr/bin/env python3
"""Resident memory of a Redis-compatible server as data comes and goes.

Starts the server command given after `--` (which must listen on 127.0.0.1:PORT), pinned to
SERVER_CPU, and measures from /proc/PID/status (VmRSS):

  load   RSS empty; RSS after KEYS SETs of 16-byte keys (key:<12 digits>) and 100-byte
         values, pipelined; RSS and INFO used_memory per key; RSS after FLUSHALL, once it
         has stopped falling.
  qbuf   RSS with CLIENTS connections each holding CLIENT_MB of an unfinished SET, then
         after they disconnect, once it has stopped falling; WAVES times over, as clients
         come and go.

A fresh server runs each scenario. The client runs pinned to CLIENT_CPU.

  scripts/memory.py [--keys 1000000] [--clients 100] [--client-mb 9] [--waves 3] [--port 7401] \
      [--scenario load,qbuf] -- target/release/redistill --port 7401

Prints one line per scenario: `name=value` pairs, byte counts in MiB.
"""

import argparse
import os
import socket
import subprocess
import time

MIB = 1 << 20
SETTLE_S = 5.0  # RSS has "settled" when it made no new low (or high) for this long
DEADLINE_S = 90.0


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def settle(pid, falling):
    """Polls RSS until it made no new low (falling) or high for SETTLE_S; returns it and the
    seconds it took to reach it."""
    start = time.monotonic()
    best, best_at = rss(pid), start
    while time.monotonic() - best_at < SETTLE_S and time.monotonic() - start < DEADLINE_S:
        time.sleep(0.1)
        now = rss(pid)
        if (now < best) if falling else (now > best):
            best, best_at = now, time.monotonic()
    return best, best_at - start


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_reply(s):
    """One bulk or simple reply's bytes (enough for INFO and +OK)."""
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n", 1)
    if head[:1] in (b"$", b"="):
        n = int(head[1:])
        while len(rest) < n + 2:
            rest += s.recv(65536)
        return rest[:n]
    return head


def info_field(port, name):
    with connect(port) as s:
        s.sendall(command("INFO", "memory"))
        text = read_reply(s).decode()
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"no {name} in INFO")


def simple(port, *args):
    with connect(port) as s:
        s.sendall(command(*args))
        return read_reply(s)


def load(port, keys):
    value = b"x" * 100
    batch = 10000
    with connect(port) as s:
        for start in range(0, keys, batch):
            n = min(batch, keys - start)
            s.sendall(b"".join(command("SET", b"key:%012d" % i, value) for i in range(start, start + n)))
            want, got = 5 * n, 0
            while got < want:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("server closed")
                got += len(chunk)


def start(server, port, cpu):
    proc = subprocess.Popen(["taskset", "-c", str(cpu)] + server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            if simple(port, "PING") == b"+PONG":
                break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    time.sleep(0.5)
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def mib(n):
    return f"{n / MIB:.1f}"


def scenario_load(args):
    proc = start(args.server, args.port, args.server_cpu)
    try:
        pid = proc.pid
        empty, used_empty = rss(pid), info_field(args.port, "used_memory")
        load(args.port, args.keys)
        loaded, _ = settle(pid, falling=True)
        used_loaded = info_field(args.port, "used_memory")
        simple(args.port, "FLUSHALL")
        flushed, took = settle(pid, falling=True)
        print(
            f"load keys={args.keys} rss_empty={mib(empty)} rss_loaded={mib(loaded)} "
            f"rss_per_key={(loaded - empty) / args.keys:.0f} "
            f"used_memory_per_key={(used_loaded - used_empty) / args.keys:.0f} "
            f"rss_flushed={mib(flushed)} settled_after_s={took:.1f}",
            flush=True,
        )
    finally:
        stop(proc)


def scenario_qbuf(args):
    proc = start(args.server, args.port, args.server_cpu)
    try:
        pid = proc.pid
        empty = rss(pid)
        held = args.client_mb * MIB
        head = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % (held + MIB)
        chunk = b"x" * MIB
        for wave in range(1, args.waves + 1):
            clients = []
            for _ in range(args.clients):
                s = connect(args.port)
                s.sendall(head)
                for _ in range(args.client_mb):
                    s.sendall(chunk)
                clients.append(s)
            peak, _ = settle(pid, falling=False)
            for s in clients:
                s.close()
            after, took = settle(pid, falling=True)
            print(
                f"qbuf wave={wave} clients={args.clients} client_mb={args.client_mb} "
                f"rss_empty={mib(empty)} rss_holding={mib(peak)} rss_after={mib(after)} "
                f"settled_after_s={took:.1f}",
                flush=True,
            )
    finally:
        stop(proc)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--client-mb", type=int, default=9)
    p.add_argument("--waves", type=int, default=3)
    p.add_argument("--port", type=int, default=7401)
    p.add_argument("--server-cpu", type=int, default=int(os.environ.get("SERVER_CPU", 1)))
    p.add_argument("--client-cpu", type=int, default=int(os.environ.get("CLIENT_CPU", 0)))
    p.add_argument("--scenario", default="load,qbuf")
    p.add_argument("server", nargs="+", help="server command line, after --")
    args = p.parse_args()
    os.sched_setaffinity(0, {args.client_cpu})
    for name in args.scenario.split(","):
        {"load": scenario_load, "qbuf": scenario_qbuf}[name](args)


if __name__ == "__main__":
    main()
