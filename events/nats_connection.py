"""One connection to NATS for a process's JetStream log: opened with a clear one-line
error when it cannot be, kept open by nats-py's reconnects, and watched so that health
can show an outage while it lasts.

nats-py retries forever once connected (``max_reconnect_attempts=-1``), buffering
publishes meanwhile; the first connection is bounded by ``connect_timeout_s`` so that a
wrong address fails at start-up instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client

from events.log import LogUnavailable
from events.nats_address import NatsAddress
from events.nats_frames import new_client

logger = logging.getLogger("harness.nats")


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """What health shows of the connection. Times are ``time.time()`` seconds."""

    connected: bool
    outages: int                 # disconnections since start-up
    down_since: float | None     # when the current outage began, if one is going on
    last_outage_s: float | None  # how long the last finished outage lasted
    last_error: str | None


class NatsConnection:
    """The connection to the servers of ``address``, opened on first use."""

    def __init__(self, address: NatsAddress, *, connect_timeout_s: float = 5.0,
                 reconnect_wait_s: float = 0.25) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_wait_s = reconnect_wait_s
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._outages = 0
        self._down_since: float | None = None
        self._last_outage_s: float | None = None
        self._last_error: str | None = None
        self._refused: str | None = None
        self._refusal = asyncio.Event()  # set when the server refuses the credentials
        # A permission refusal arrives asynchronously (-ERR), while the request it
        # refused just times out: keep it so that the timeout can say why.
        self.permission_error: str | None = None
        self._closing = False

    async def client(self) -> Client:
        """The open client; connects (once, under a lock) on first use.

        A client belongs to the event loop it was made in: a caller in another loop (a
        CLI that runs ``anyio.run`` twice) gets a connection of its own loop.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._lock, self._client = loop, asyncio.Lock(), None
        if self._client is not None and not self._client.is_closed:
            return self._client
        assert self._lock is not None
        async with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = await self._connect()
            return self._client

    def report(self) -> ConnectionReport:
        """The connection as of now, its outage counted from the first sign of it.

        nats-py marks the client reconnecting at once, but calls back only after it
        has closed the socket, and calls back a reconnection only after a round trip
        on the new one: in between, a report from the client's state alone said
        "disconnected" with no outage begun, or "connected" with one still going on."""
        client = self._client
        if client is not None and client.is_reconnecting:
            self._outage_began()
        connected = client is not None and client.is_connected and self._down_since is None
        return ConnectionReport(connected, self._outages, self._down_since,
                                self._last_outage_s, self._last_error)

    async def close(self) -> None:
        """Close the client (dropping what it buffered to resend); the next ``client``
        call connects again."""
        self._closing = True
        try:
            if self._client is not None and not self._client.is_closed:
                await self._client.close()
        finally:
            self._client = None
            self._closing = False

    async def settled(self, timeout_s: float) -> None:
        """Wait, ``timeout_s`` at most, until the server has answered all this client
        sent: an error it sent about a request (a permission refusal) has come in by then."""
        if self._client is not None and self._client.is_connected:
            with contextlib.suppress(TimeoutError, nats.errors.Error):
                await self._client.flush(timeout=timeout_s)  # type: ignore[arg-type]

    async def _connect(self) -> Client:
        # Refused credentials stay refused: trying again until the timeout only delays
        # the one-line error (a server not listening yet is worth the wait).
        refused = asyncio.Event()
        self._refusal = refused
        client = new_client()  # raw inboxes for bulk reads (events.nats_frames)
        options: dict[str, Any] = dict(
            self.address.connect_options(),
            name="harness",
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=self.reconnect_wait_s,
            connect_timeout=min(2.0, self.connect_timeout_s),
            ping_interval=5,
            max_outstanding_pings=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected)
        connecting = asyncio.ensure_future(client.connect(**options))
        refusal = asyncio.ensure_future(refused.wait())
        try:
            await asyncio.wait((connecting, refusal), timeout=self.connect_timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            refusal.cancel()
            if not connecting.done():
                connecting.cancel()
                await asyncio.gather(connecting, return_exceptions=True)
        try:
            if connecting.cancelled():
                raise TimeoutError
            connecting.result()
            return client
        except (TimeoutError, OSError, nats.errors.Error) as error:
            reason = self._refused or self._last_error or type(error).__name__
            raise LogUnavailable(f"cannot connect to NATS at {self.address}: {reason}") from None

    async def _on_error(self, error: Exception) -> None:
        text = (str(error) or type(error).__name__).removeprefix("nats: ")
        if "permissions violation" in text.lower():
            # Not logged: the request it refused fails with it (``JetStreamLog.call``).
            self.permission_error = text
            return
        if "authorization violation" in text.lower():
            text = "authorization violation (check the user, password, token or creds)"
            self._refused = text  # what later reconnect errors must not hide
            self._refusal.set()
        if text != self._last_error and self._client is not None:
            # Once per distinct error, and not while first connecting: the error
            # ``client`` raises then says it in one line.
            logger.warning("NATS %s: %s", self.address, text)
        self._last_error = text

    async def _on_disconnected(self) -> None:
        self._outage_began()

    def _outage_began(self) -> None:
        if self._down_since is None and not self._closing:
            self._down_since = time.time()
            self._outages += 1
            logger.warning("NATS %s: disconnected; reconnecting", self.address)

    async def _on_reconnected(self) -> None:
        if self._down_since is not None:
            self._last_outage_s = time.time() - self._down_since
            self._down_since = None
        logger.warning("NATS %s: reconnected", self.address)
