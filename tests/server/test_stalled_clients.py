"""Clients that stop reading are let go: a WebSocket client cut off by the bus is sent
1013 at once and its connection is aborted if it never reads; the server counts it gone.

The stalled client is a raw socket with a small receive buffer that completes the
WebSocket handshake and then reads nothing, until the test says so.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from bench.resume import stalled_sse_client
from events import schema as ev
from harness.settings import Settings
from tests.support.events import TS, append
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until
from web.connections import DRAIN_TIMEOUT_S, WS_CLOSE_TIMEOUT_S

# Loopback buffers hold a few MB (the server's send buffer grows to tcp_wmem's 4 MB):
# records this big fill them in about a dozen appends, where 60 kB ones took fifty.
BIG_TEXT = "x" * 400_000
MAX_APPENDS = 90  # 36 MB at the most: far beyond what loopback buffers hold


class StalledWebSocket:
    """A WebSocket client that reads nothing after the handshake until asked to."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("the server closed the connection")
        return data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_until_close(self) -> int:
        """Read (and drop) frames until a close frame; return its code."""
        while True:
            first, second = self._take(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._take(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._take(8))
            payload = self._take(length)
            if first & 0x0F == 0x8:
                return struct.unpack("!H", payload[:2])[0]

    def close(self) -> None:
        self.sock.close()


def health(server: RunningServer) -> dict:
    return httpx.get(f"{server.url}/api/health", timeout=5).json()


def flood_until_cut_off(server: RunningServer, *,
                        cut_off: Callable[[dict], bool] = lambda h: h["subscribers"]["dropped"]
                        ) -> None:
    """Append big records one batch at a time until ``cut_off(health)`` (by default,
    until the bus drops a subscriber)."""
    append(server.log_path, ev.RunCreated(run_id="r", provider_name="p", model_name="m",
                                          dataset_name="d", total=MAX_APPENDS, ts=TS))
    for sequence in range(1, MAX_APPENDS + 1):
        # A big record for the WebSocket feed, and a big run_item message for SSE.
        append(server.log_path, ev.ItemStarted(run_id="r", sequence=sequence,
                                               prompt_text=BIG_TEXT, ts=TS))
        server.settle()
        if cut_off(health(server)):
            return
    raise AssertionError(f"no subscriber was cut off after {MAX_APPENDS} appends")


@pytest.fixture
def slow_server(server_factory, settings: Settings) -> RunningServer:
    # A short bus buffer, so that a stalled client is cut off after a few batches.
    return server_factory(replace(settings, stream_buffer=4))


def test_a_stalled_websocket_client_is_sent_1013_at_once(slow_server: RunningServer) -> None:
    client = StalledWebSocket(slow_server.settings.port, "/ws/runs")
    try:
        wait_until(lambda: health(slow_server)["subscribers"]["websocket"] == 1)
        flood_until_cut_off(slow_server)
        # The server lets go of it while it still reads nothing (before, it waited in
        # send until the client read again, and health kept counting it).
        wait_until(lambda: health(slow_server)["subscribers"]["websocket"] == 0,
                   timeout_s=10, message="the stalled client is no longer served")
        # Reading again within the close timeout, it finds 1013 after the data it had.
        assert client.read_until_close() == 1013
    finally:
        client.close()


@pytest.fixture
def aborting_server(server_factory, settings: Settings) -> RunningServer:
    # As slow_server, with short close and drain timeouts: what is waited for here is
    # that they end a connection whose peer never reads again, not how long they are.
    return server_factory(replace(settings, stream_buffer=4, ws_close_timeout_s=0.5,
                                  drain_timeout_s=0.5))


def test_a_websocket_client_that_never_reads_again_is_aborted(
        aborting_server: RunningServer) -> None:
    baseline = health(aborting_server)["connections"]["open"]
    client = StalledWebSocket(aborting_server.settings.port, "/ws/runs")
    try:
        flood_until_cut_off(aborting_server)
        wait_until(lambda: health(aborting_server)["connections"]["open"] <= baseline,
                   timeout_s=WS_CLOSE_TIMEOUT_S + DRAIN_TIMEOUT_S + 10,
                   interval_s=0.2, message="the stalled connection is closed")
        with pytest.raises((ConnectionResetError, EOFError)):
            client.read_until_close()  # the data it never read was dropped with it
    finally:
        client.close()


def test_an_sse_client_that_stops_reading_is_cut_off_and_aborted(
        aborting_server: RunningServer) -> None:
    baseline = health(aborting_server)["connections"]["open"]
    client = stalled_sse_client(aborting_server.url, "/api/events")
    try:
        wait_until(lambda: health(aborting_server)["subscribers"]["sse"] == 1)
        flood_until_cut_off(aborting_server)
        # Its kernel buffers are full; closing alone would wait for it to read forever.
        wait_until(lambda: health(aborting_server)["connections"]["open"] <= baseline,
                   timeout_s=DRAIN_TIMEOUT_S + 10, interval_s=0.2,
                   message="the stalled SSE connection is closed")
        assert health(aborting_server)["subscribers"]["sse"] == 0
    finally:
        client.close()


@pytest.fixture
def patient_bus_server(server_factory, settings: Settings) -> RunningServer:
    # The bus would wait for 4096 batches: the send timeout is what ends a stall here.
    return server_factory(replace(settings, stream_buffer=4096, send_timeout_s=1.0))


def test_a_websocket_client_that_takes_nothing_for_the_send_timeout_gets_1013(
        patient_bus_server: RunningServer) -> None:
    client = StalledWebSocket(patient_bus_server.settings.port, "/ws/runs")
    try:
        wait_until(lambda: health(patient_bus_server)["subscribers"]["websocket"] == 1)
        flood_until_cut_off(patient_bus_server,
                            cut_off=lambda h: h["subscribers"]["websocket"] == 0)
        assert health(patient_bus_server)["subscribers"]["dropped"] == 0  # not the bus
        assert client.read_until_close() == 1013
    finally:
        client.close()


def test_an_sse_client_that_takes_nothing_for_the_send_timeout_is_hung_up_quietly(
        patient_bus_server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    server_log = logging.getLogger("uvicorn.error")  # uvicorn's loggers do not propagate
    server_log.addHandler(caplog.handler)
    client = stalled_sse_client(patient_bus_server.url, "/api/events")
    try:
        wait_until(lambda: health(patient_bus_server)["subscribers"]["sse"] == 1)
        flood_until_cut_off(patient_bus_server, cut_off=lambda h: h["subscribers"]["sse"] == 0)
    finally:
        client.close()
        server_log.removeHandler(caplog.handler)
    # A stalled client is an ordinary event, not an "Exception in ASGI application".
    # (uvicorn still says that the response was left incomplete, which it was.)
    assert not [r for r in caplog.records if r.exc_info], caplog.text[-2000:]
