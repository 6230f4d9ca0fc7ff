"""Raw NATS message frames for the subscriptions that move messages in bulk.

nats-py turns every delivered message into a ``Msg``: a regular expression over the
control line, a header block parsed name by name, a dataclass. For a replay of a
million records that is most of the time (bench/RESULTS.md: 80 % of a replay, the
header parser alone half of it), and a record needs none of it: only its payload and
the stream sequence its reply subject carries.

``FrameParser`` stands in for nats-py's protocol parser on our connections. Frames of
a subscription registered as a ``RawInbox`` are cut out of the read buffer, one pattern
match per frame, and handed over as ``(subject, reply, headers, payload)`` bytes, many
per read of the socket; every other frame — PING, INFO, -ERR, messages of
ordinary subscriptions — is cut out whole and given to nats-py's parser as it is, so
nats-py sees exactly the protocol it would have seen without the raw frames.

The subscription itself is an ordinary nats-py one (its sid, its re-subscription after
a reconnect, its unsubscribe): only where its messages go changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.protocol.parser import AWAITING_CONTROL_LINE, Parser

Frame = tuple[bytes, bytes, bytes | None, bytes]  # subject, reply, headers, payload
_CRLF = b"\r\n"


class RawInbox:
    """Where the frames of one subscription go: a list taken whole by its reader."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.subscription: Subscription | None = None
        self._arrived = asyncio.Event()
        self.closed = False

    def deliver(self, frames: list[Frame]) -> None:
        if self.closed:
            return
        self.frames.extend(frames)
        self._arrived.set()

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
        if not self.inboxes:
            await super().parse()  # nothing of ours: nats-py as it is
            return
        # nats-py may be inside a message it began before an inbox was registered.
        inside = self.state != AWAITING_CONTROL_LINE
        if inside and (len(self.buf) < self.needed + 2
                       or not await self._to_nats_py(self.needed + 2)):
            return
        while self.buf:
            self._take_raw_frames()
            buf = self.buf
            end, fields = _frame_end(buf) if buf else (-1, None)
            if end < 0:
                return  # nothing left, or not all there: wait for more bytes
            if fields is not None and _sid(fields) in self.inboxes:
                # A raw inbox's message the quick pattern missed (other spacing).
                self._deliver_odd(buf, end, fields)
            elif not await self._to_nats_py(end):  # anything else is nats-py's own
                return

    async def _to_nats_py(self, end: int) -> bool:
        """Let nats-py's parser take ``buf[:end]`` (whole frames, or the rest of the one
        it is in); ``False`` if it reset meanwhile (a reconnect: the rest is void)."""
        buf = self.buf
        whole = buf[:end]
        del buf[:end]
        self.buf = whole
        await super().parse()
        if self.buf is not whole:
            return False
        self.buf = buf
        return True

    def _deliver_odd(self, buf: bytearray, end: int, fields: list[bytes]) -> None:
        headed = fields[0] == b"HMSG"
        header_size = int(fields[-2]) if headed else 0
        body = end - 2 - int(fields[-1])
        reply = fields[3] if len(fields) == (6 if headed else 5) else b""
        frame = (fields[1], reply, bytes(buf[body:body + header_size]) if header_size else None,
                 bytes(buf[body + header_size:end - 2]))
        del buf[:end]
        self.inboxes[_sid(fields)].deliver([frame])

    def _take_raw_frames(self) -> None:
        """Cut the frames of raw inboxes off the front of the buffer, as far as they go
        uninterrupted, and hand them to their inboxes."""
        first = _HMSG.match(self.buf) or _MSG.match(self.buf)
        if first is None or int(first.group(2)) not in self.inboxes:
            return  # not ours: no copy of the buffer
        data = bytes(self.buf)
        size = len(data)
        position = 0
        taken: dict[int, list[Frame]] = {}
        inboxes = self.inboxes
        match_headed, match_plain = _HMSG.match, _MSG.match
        sid_text = b""
        frames: list[Frame] = []
        # One loop turn a message, a million in a replay: what varies little (the
        # inbox) is looked up only when it changes.
        while True:
            match = match_headed(data, position) or match_plain(data, position)
            if match is None:
                break
            subject, this_sid, reply, header_text, size_text = match.groups()
            if this_sid != sid_text:
                sid = int(this_sid)
                if sid not in inboxes:
                    break
                sid_text, frames = this_sid, taken.setdefault(sid, [])
            body = match.end()
            end = body + int(size_text)
            if end + 2 > size:
                break  # the rest of it is still on its way
            if header_text:  # HMSG; a MSG has none
                payload = body + int(header_text)
                frames.append((subject, reply or b"", data[body:payload], data[payload:end]))
            else:
                frames.append((subject, reply or b"", None, data[body:end]))
            position = end + 2
        if position:
            del self.buf[:position]
        for sid, delivered in taken.items():
            if delivered:
                inboxes[sid].deliver(delivered)


# What nats-server sends: single spaces, two where a message has no reply subject.
# Anything else goes the slow way, to nats-py.
_HMSG = re.compile(rb"HMSG ([^ \r\n]+) ([0-9]+) (?:([^ \r\n]+) | )?([0-9]+) ([0-9]+)\r\n")
_MSG = re.compile(rb"MSG ([^ \r\n]+) ([0-9]+) (?:([^ \r\n]+) | )?()([0-9]+)\r\n")


def _frame_end(buf: bytearray) -> tuple[int, list[bytes] | None]:
    """Where the frame at the start of ``buf`` ends (-1 if it is not all there), and
    the fields of its control line if it is a message."""
    eol = buf.find(_CRLF)
    if eol < 0:
        return -1, None
    fields = bytes(buf[:eol]).split()
    if not fields or fields[0] not in (b"MSG", b"HMSG") or len(fields) < 4:
        return eol + 2, None  # a control line (PING, PONG, +OK, -ERR, INFO), or bad
    try:
        end = eol + 2 + int(fields[-1]) + 2
        if fields[0] == b"HMSG":
            int(fields[-2])
    except ValueError:
        return eol + 2, None  # malformed: nats-py reports it
    return (end if len(buf) >= end else -1), fields


def _sid(fields: list[bytes]) -> int:
    try:
        return int(fields[2])
    except ValueError:
        return -1
