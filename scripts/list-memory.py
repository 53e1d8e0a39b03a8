#!/usr/bin/env python3
"""Bytes per list element in a running Redis-compatible server, from INFO used_memory.

For each shape (lists of 10, 1000 and 1,000,000 elements of 10 and 100 bytes) it flushes
the server, reads used_memory, builds enough lists to hold 1,000,000 elements (100,000
lists of 10, 1,000 of 1000, one of 1,000,000), each element pushed by its own RPUSH from a
Lua loop, reads used_memory again and prints the difference per element. Keys are
`list:<8 digits>`; elements are `x`, filler `y`s and a 9-digit counter, so none is an
integer, except in the last shape: 10-digit integers from 1000000001 up, which listpacks
store in integer form.

  scripts/list-memory.py --port 7771

The store's own figures come from `cargo run --release -p redistill-store --example
list_memory`, which builds the same lists.
"""

import argparse
import socket

SHAPES = [
    (10, 10, "str"),
    (10, 100, "str"),
    (1000, 10, "str"),
    (1000, 100, "str"),
    (1_000_000, 10, "str"),
    (1_000_000, 100, "str"),
    (1_000_000, 10, "int"),
]
TOTAL = 1_000_000

FILL = """
local n, size = tonumber(ARGV[1]), tonumber(ARGV[2])
local pad = string.rep('y', size - 10)
for i = 1, n do
  if ARGV[3] == 'int' then
    redis.call('rpush', KEYS[1], string.format('%d', 1000000000 + i))
  else
    redis.call('rpush', KEYS[1], 'x' .. pad .. string.format('%09d', i))
  end
end
return n
"""


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
    args = p.parse_args()
    c = Conn(args.port)
    print("elements_per_list element_bytes kind bytes_per_element")
    for n, size, kind in SHAPES:
        c.call("FLUSHALL")
        before = c.used_memory()
        lists = TOTAL // n
        batch = 1000
        for start in range(0, lists, batch):
            for i in range(start, min(lists, start + batch)):
                c.send("EVAL", FILL, 1, "list:%08d" % i, n, size, kind)
            for _ in range(start, min(lists, start + batch)):
                c._reply()
        after = c.used_memory()
        print(f"{n} {size} {kind} {(after - before) / (lists * n):.2f}")


if __name__ == "__main__":
    main()
