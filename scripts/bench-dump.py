#!/usr/bin/env python3
"""Helpers for `scripts/bench.sh dump`.

fill PORT KIND SIZE      makes the key dump:KIND (STRING, HASH, LIST or ZSET) on the server
restores PORT KIND N     writes N `RESTORE restored:KIND 0 <payload> REPLACE` commands in RESP
                         to stdout, with the payload DUMP returns for dump:KIND on that server
"""
import socket
import sys


def resp(*args):
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def reply(sock, buf=b""):
    """Reads one reply; returns (bulk payload or line, rest of the buffer)."""
    while b"\r\n" not in buf:
        buf += sock.recv(65536)
    line, rest = buf.split(b"\r\n", 1)
    if not line.startswith(b"$"):
        return line, rest
    n = int(line[1:])
    while len(rest) < n + 2:
        rest += sock.recv(65536)
    return rest[:n], rest[n + 2:]


def call(port, *commands):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"".join(commands))
    out, buf = [], b""
    for _ in commands:
        value, buf = reply(sock, buf)
        out.append(value)
    sock.close()
    return out


def fill(port, kind, size):
    key = b"dump:" + kind.encode()
    value = b"".join(b"%d" % (i * 7919 % 1000) for i in range(size))[:size]
    if kind == "STRING":
        cmd = resp(b"SET", key, value)
    elif kind == "HASH":
        cmd = resp(b"HSET", key, *[x for i in range(16) for x in (b"field:%d" % i, value)])
    elif kind == "LIST":
        cmd = resp(b"RPUSH", key, *[value + b"%d" % i for i in range(600)])
    else:
        cmd = resp(b"ZADD", key, *[x for i in range(100) for x in (i * 1.5, b"member:%d" % i)])
    call(port, resp(b"DEL", key), cmd)


def restores(port, kind, n):
    (payload,) = call(port, resp(b"DUMP", b"dump:" + kind.encode()))
    cmd = resp(b"RESTORE", b"restored:" + kind.encode(), 0, payload, b"REPLACE")
    out = sys.stdout.buffer
    for _ in range(n):
        out.write(cmd)


if __name__ == "__main__":
    what, port, kind, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    fill(port, kind, arg) if what == "fill" else restores(port, kind, arg)
