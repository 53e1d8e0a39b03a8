#!/usr/bin/env python3
"""Bytes per element of lists, hashes, sets or sorted sets in a running Redis-compatible
server, from INFO used_memory.

For each shape of the chosen type it flushes the server, reads used_memory, builds enough
collections to hold 1,000,000 elements (e.g. 100,000 of 10, 1,000 of 1000, one of
1,000,000), each element added by its own pipelined command, reads used_memory again and
prints the difference per element. Run it against redis-server and redistill alike.

  list   RPUSH: 10, 1000 and 1,000,000 elements of 10 and 100 bytes; and 10-digit integers,
         which listpacks store in integer form
  hash   HSET: 10, 100 and 10,000 fields of 10 bytes with 10-byte values
  set    SADD: 10, 1000 and 1,000,000 members: 16-byte strings, and integers
  zset   ZADD: 10, 1000 and 1,000,000 16-byte members, each with its own integer score

Keys are `<type>:<8 digits>`; string elements are `x`, filler `y`s and a 9-digit counter.

  scripts/collection-memory.py --type set --port 7771   (redis-server --port 7771 --save '')
  scripts/collection-memory.py --type set --port 7772   (target/release/redistill --port 7772)

The store's own list figures come from `cargo run --release -p redistill-store --example
list_memory`, which builds the same lists.
"""

import argparse
import socket

SHAPES = {
    "list": [
        (10, 10, "str"),
        (10, 100, "str"),
        (1000, 10, "str"),
        (1000, 100, "str"),
        (1_000_000, 10, "str"),
        (1_000_000, 100, "str"),
        (1_000_000, 10, "int"),
    ],
    "hash": [(10, 10, "str"), (100, 10, "str"), (10_000, 10, "str")],
    "set": [
        (10, 16, "str"),
        (1000, 16, "str"),
        (1_000_000, 16, "str"),
        (10, 10, "int"),
        (1000, 10, "int"),
        (1_000_000, 10, "int"),
    ],
    "zset": [(10, 16, "str"), (1000, 16, "str"), (1_000_000, 16, "str")],
}
TOTAL = 1_000_000


def element(i, size, kind):
    """Element `i` (from 1) of a collection: a 10-digit integer, or `x`, filler and a
    counter."""
    if kind == "int":
        return b"%d" % (1000000000 + i)
    return b"x" + b"y" * (size - 10) + b"%09d" % i


def command(kind, key, j, e):
    """The command that adds element `e` (the `j`th) to `key`."""
    if kind == "list":
        return [b"RPUSH", key, e]
    if kind == "hash":
        return [b"HSET", key, e, b"v" * 10]
    if kind == "set":
        return [b"SADD", key, e]
    return [b"ZADD", key, b"%d" % j, e]


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        return rest

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def call(self, *args):
        self.send(*args)
        return self._reply()

    def used_memory(self):
        info = self.call("INFO", "memory").decode()
        for line in info.splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        raise RuntimeError("no used_memory")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=7771)
    p.add_argument("--type", choices=sorted(SHAPES), default="list")
    args = p.parse_args()
    c = Conn(args.port)
    print("elements_per_collection element_bytes kind bytes_per_element")
    for n, size, kind in SHAPES[args.type]:
        c.call("FLUSHALL")
        before = c.used_memory()
        collections = TOTAL // n
        pending = 0
        out = []
        for i in range(collections):
            key = b"%s:%08d" % (args.type.encode(), i)
            for j in range(1, n + 1):
                out.append(encode(command(args.type, key, j, element(j, size, kind))))
                pending += 1
                if pending == 10000:
                    c.sock.sendall(b"".join(out))
                    out = []
                    for _ in range(pending):
                        c._reply()
                    pending = 0
        c.sock.sendall(b"".join(out))
        for _ in range(pending):
            c._reply()
        after = c.used_memory()
        print(f"{n} {size} {kind} {(after - before) / (collections * n):.2f}")


if __name__ == "__main__":
    main()
