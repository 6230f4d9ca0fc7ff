"""Loopback ports for test servers, safe when several test processes (pytest-xdist
workers, or another engineer's run) pick ports at the same time.

A port taken with ``bind(("127.0.0.1", 0))`` and closed again comes from the kernel's
ephemeral range, the one every outgoing connection also draws its local port from: in
the moment before the server binds it, a connection of another process may take it, and
the server then dies with "address already in use". Ports here come from below that
range, where no connection is ever given one, and at random (from the OS, never from
``random``, which Hypothesis seeds alike in every process), so that two processes
seldom try the same one; the one that loses sees a bind error, not a hang.

Each pytest-xdist worker draws from its own share of that range: a subprocess server
binds its port a second or so after it was picked, and a server of another worker that
took the same port meanwhile answered the first one's health checks (seen once in a
run with three workers).
"""

from __future__ import annotations

import errno
import os
import secrets
import socket

# Below Linux's default ephemeral range (32768-60999) and the registered ports most
# services listen on.
LOW, HIGH = 20_000, 32_000
_handed_out: set[int] = set()  # a restarted server's old port is not handed to another


def _share() -> tuple[int, int]:
    """The ports this process picks from: its xdist worker's slice of ``LOW``-``HIGH``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count <= 1:
        return LOW, HIGH
    width = (HIGH - LOW) // count
    start = LOW + int(worker.removeprefix("gw")) % count * width
    return start, start + width


def free_port() -> int:
    """A loopback port that nothing listens on now and this process has not handed out."""
    low, high = _share()
    while True:
        port = low + secrets.randbelow(high - low)
        if port in _handed_out:
            continue
        try:
            listening_socket(port).close()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                continue
            raise
        _handed_out.add(port)
        return port


def listening_socket(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:``port`` (``SO_REUSEADDR``, as uvicorn binds), for a
    server to be handed so that nothing can take the port before it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock
