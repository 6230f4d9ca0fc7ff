"""Raw NATS message frames for the subscriptions that move messages in bulk.

nats-py turns every delivered message into a ``Msg``: a regular expression over the
control line, a header block parsed name by name, a dataclass. For a replay of a
million records that is most of the time (bench/RESULTS.md: 80 % of a replay, the
header parser alone half of it), and a record needs none of it: only its payload and
the stream sequence its reply subject carries.

``FrameParser`` stands in for nats-py's protocol parser on our connections. Frames of
a subscription registered as a ``RawInbox`` are cut out of the read buffer by a plain
walk (``find``, ``split``, slices) and handed over as ``(subject, reply, headers,
payload)`` bytes, many per read; every other frame — PING, INFO, -ERR, messages of
ordinary subscriptions — is cut out whole and given to nats-py's parser as it is, so
nats-py sees exactly the protocol it would have seen without the raw frames.

The subscription itself is an ordinary nats-py one (its sid, its re-subscription after
a reconnect, its unsubscribe): only where its messages go changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.protocol.parser import AWAITING_CONTROL_LINE, Parser

Frame = tuple[bytes, bytes, bytes | None, bytes]  # subject, reply, headers, payload
_CRLF = b"\r\n"


class RawInbox:
    """Where the frames of one subscription go: a list taken whole by its reader.

    ``on_frames`` (optional) is called once per read of the socket that brought frames
    to this inbox, after they were added; it must not block (it runs in nats-py's read
    loop)."""

    def __init__(self, *, on_frames: Callable[[RawInbox], None] | None = None) -> None:
        self.frames: list[Frame] = []
        self.subscription: Subscription | None = None
        self._arrived = asyncio.Event()
        self._on_frames = on_frames
        self.closed = False

    def deliver(self, frames: list[Frame]) -> None:
        if self.closed:
            return
        self.frames.extend(frames)
        self._arrived.set()
        if self._on_frames is not None:
            self._on_frames(self)

    def take(self) -> list[Frame]:
        """Every frame received so far, oldest first; the inbox is empty after."""
        frames, self.frames = self.frames, []
        self._arrived.clear()
        return frames

    async def wait(self, timeout_s: float) -> bool:
        """Wait until frames are there; whether they are (``False`` on timeout)."""
        if self.frames:
            return True
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout_s)
        except TimeoutError:
            return False
        return bool(self.frames)

    @property
    def connection_closed(self) -> bool:
        return self.subscription is None or self.subscription._conn.is_closed

    async def aclose(self) -> None:
        """Stop taking frames and unsubscribe (quietly: the connection may be gone)."""
        self.closed = True
        self.frames = []
        subscription, self.subscription = self.subscription, None
        if subscription is None:
            return
        parser = subscription._conn._ps
        if isinstance(parser, FrameParser):
            parser.inboxes.pop(subscription._id, None)
        with contextlib.suppress(Exception):  # tidy-up: the connection may be gone
            await subscription.unsubscribe()


async def subscribe_raw(client: Client, subject: str, inbox: RawInbox) -> RawInbox:
    """Subscribe ``inbox`` to ``subject`` on ``client`` (made by ``new_client``)."""
    parser = client._ps
    if not isinstance(parser, FrameParser):
        raise TypeError("the client was not made by events.nats_frames.new_client")
    subscription = await client.subscribe(subject, pending_msgs_limit=0,
                                          pending_bytes_limit=0)
    inbox.subscription = subscription
    parser.inboxes[subscription._id] = inbox
    return inbox


def new_client() -> Client:
    """A nats-py client whose raw inboxes get their frames unparsed."""
    client = Client()
    client._ps = FrameParser(client)
    return client


class FrameParser(Parser):
    """nats-py's parser with the frames of ``inboxes`` (by sid) taken out raw."""

    def __init__(self, nc: Any = None) -> None:
        self.inboxes: dict[int, RawInbox] = {}  # kept across reset(): sids survive reconnects
        super().__init__(nc)

    async def parse(self, data: bytes = b"") -> None:
        self.buf.extend(data)
        if not self.inboxes or self.state != AWAITING_CONTROL_LINE:
            await super().parse()
            return
        buf = self.buf
        start = 0
        taken: dict[int, list[Frame]] = {}
        try:
            while start < len(buf):
                end, frame, sid = self._frame_at(buf, start)
                if end < 0:
                    break  # incomplete: wait for more bytes
                if frame is not None:
                    taken.setdefault(sid, []).append(frame)
                    start = end
                    continue
                # Anything else is nats-py's own, one whole frame at a time.
                whole = buf[start:end]
                del buf[:end]
                start = 0
                self.buf = whole
                await super().parse()
                if self.buf is not whole:  # reset meanwhile (a reconnect): bytes void
                    buf.clear()
                    return
                self.buf = buf
        finally:
            del buf[:start]
            for sid, frames in taken.items():
                inbox = self.inboxes.get(sid)
                if inbox is not None:
                    inbox.deliver(frames)

    def _frame_at(self, buf: bytearray, start: int) -> tuple[int, Frame | None, int]:
        """Where the frame at ``start`` ends (-1: not all there), and the frame itself
        if it is a message for a raw inbox."""
        eol = buf.find(_CRLF, start)
        if eol < 0:
            return -1, None, 0
        head = buf[start:start + 5]
        if head == b"HMSG " or head[:4] == b"MSG ":
            headed = head == b"HMSG "
            fields = bytes(buf[start + (5 if headed else 4):eol]).split()
            try:
                size = int(fields[-1])
                header_size = int(fields[-2]) if headed else 0
                sid = int(fields[1])
            except (ValueError, IndexError):
                return eol + 2, None, 0  # malformed: nats-py reports it
            body = eol + 2
            end = body + size + 2
            if len(buf) < end:
                return -1, None, 0
            inbox = self.inboxes.get(sid)
            if inbox is None:
                return end, None, 0
            reply = fields[2] if len(fields) == (5 if headed else 4) else b""
            headers = bytes(buf[body:body + header_size]) if header_size else None
            payload = bytes(buf[body + header_size:body + size])
            return end, (fields[0], reply, headers, payload), sid
        return eol + 2, None, 0
