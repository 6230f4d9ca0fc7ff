"""Publishing many messages to a JetStream stream, each acknowledged, at wire speed.

nats-py's ``publish_async`` costs per message a future, a fresh inbox, header checks by
regular expression and a JSON ack decoded into a dataclass: about 45k messages/s for a
process alone on a core, too slow for three shippers to reach 30,000/s together
(bench/RESULTS.md). ``PublishWindow`` does what JetStream needs and no more:

- plain core publishes (``HPUB``), built as bytes, many written at once, each with its
  own reply subject ``<inbox>.<n>`` under one wildcard subscription of a raw inbox
  (``events.nats_frames``): the stream's ack comes back there and is matched to its
  message by ``n``;
- at most ``window`` messages are unacknowledged at a time (bounding what the server
  and this process hold);
- messages not acknowledged within ``ack_timeout_s`` are sent once more, in order, with
  the same ``Nats-Msg-Id`` (the stream stores a repeat once); if they still are not,
  ``LogUnavailable``: the caller decides (the shipper asks the stream where it stopped).

Messages of one connection reach the stream in the order they were written, so a
stream holds a prefix of what was sent, as with nats-py's own publishes.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import nats
from nats.aio.client import Client

from events.log import LogUnavailable
from events.nats_frames import RawInbox, subscribe_raw

MSG_ID = "Nats-Msg-Id"


class _Error(msgspec.Struct):
    code: int = 0
    description: str = ""


class _Ack(msgspec.Struct):
    seq: int = 0
    duplicate: bool = False
    error: _Error | None = None


_ack_decoder = msgspec.json.Decoder(_Ack)


@dataclass(frozen=True, slots=True)
class Stored:
    """The stream's answer to one message: its sequence, and whether it was a repeat
    of a message already stored (then the sequence is the original's)."""

    seq: int
    duplicate: bool


class NoStream(LogUnavailable):
    """No stream takes the subject (deleted, or not made yet): nothing was stored."""


def header_value(value: str) -> str:
    """``value`` as a header may carry it: itself when it is printable ASCII without
    edge spaces, else a digest of it (stable, so a repeat still finds its original)."""
    if value.isascii() and value.isprintable() and value == value.strip() and value:
        return value
    return "h:" + hashlib.blake2b(value.encode("utf-8", "surrogatepass"),
                                  digest_size=16).hexdigest()


def headers_block(msg_id: str, extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """The header block of one message: its ``Nats-Msg-Id`` and ``extra`` headers
    (names are ours; values go through ``header_value``)."""
    lines = [f"NATS/1.0\r\n{MSG_ID}: {header_value(msg_id)}\r\n"]
    lines.extend(f"{name}: {header_value(value)}\r\n" for name, value in extra)
    lines.append("\r\n")
    return "".join(lines).encode()


class PublishWindow:
    """Publishes for one client; ``window`` messages at most in flight."""

    def __init__(self, client: Client, *, window: int = 2048, ack_timeout_s: float = 10.0,
                 write_bytes: int = 256 << 10) -> None:
        self.client = client
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self.write_bytes = write_bytes  # bytes written to the connection in one go
        self._inbox: RawInbox | None = None
        self._prefix = b""
        self._next = 0
        self._lock = asyncio.Lock()

    async def publish(self, subject: str, messages: Sequence[tuple[bytes, bytes]]
                      ) -> list[Stored]:
        """Publish ``messages`` (each a ``headers_block`` and a payload) to ``subject``
        in order; the stream's answer to each, in the same order.

        ``NoStream`` when no stream takes the subject; ``LogUnavailable`` when acks
        do not come after one resend, or the stream refuses a message."""
        async with self._lock:
            if self._inbox is None or self._inbox.connection_closed:
                self._inbox = await subscribe_raw(self.client, self.client.new_inbox() + ".*",
                                                  RawInbox())
                assert self._inbox.subscription is not None
                self._prefix = self._inbox.subscription.subject[:-1].encode()
            self._inbox.take()  # late acks of an earlier, abandoned publish
            base = self._next
            self._next += len(messages)
            return await self._publish(subject.encode(), messages, base)

    async def _publish(self, subject: bytes, messages: Sequence[tuple[bytes, bytes]],
                       base: int) -> list[Stored]:
        results: list[Stored | None] = [None] * len(messages)
        max_payload = self.client.max_payload
        for headers, payload in messages:
            if len(headers) + len(payload) > max_payload:
                raise nats.errors.MaxPayloadError
        sent = 0
        acked = 0  # results[:acked] are all in
        resent = False
        deadline = time.monotonic() + self.ack_timeout_s
        while acked < len(messages):
            limit = min(len(messages), acked + self.window)
            if sent < limit:
                await self._write(subject, messages, base, range(sent, limit))
                sent = limit
            progress = await self._take_acks(results, base)
            while acked < len(messages) and results[acked] is not None:
                acked += 1
            if progress:
                deadline = time.monotonic() + self.ack_timeout_s
            elif time.monotonic() >= deadline:
                if resent:
                    raise LogUnavailable(f"no ack for {len(messages) - acked} of "
                                         f"{len(messages)} messages in "
                                         f"{self.ack_timeout_s:g} s")
                resent = True
                missing = [index for index in range(acked, sent) if results[index] is None]
                await self._write(subject, messages, base, missing)
                deadline = time.monotonic() + self.ack_timeout_s
            if not progress and acked < len(messages):
                assert self._inbox is not None
                await self._inbox.wait(max(0.0, deadline - time.monotonic()))
                if self._inbox.connection_closed:
                    raise LogUnavailable("the connection closed while publishing")
        return results  # type: ignore[return-value] # all filled in

    async def _write(self, subject: bytes, messages: Sequence[tuple[bytes, bytes]],
                          base: int, indexes: Sequence[int]) -> None:
        parts: list[bytes] = []
        size = 0
        prefix = self._prefix
        for index in indexes:
            headers, payload = messages[index]
            frame = b"HPUB %s %s%d %d %d\r\n%s%s\r\n" % (
                subject, prefix, base + index, len(headers), len(headers) + len(payload),
                headers, payload)
            parts.append(frame)
            size += len(frame)
            if size >= self.write_bytes:
                await self._send(b"".join(parts))
                parts, size = [], 0
        if parts:
            await self._send(b"".join(parts))

    async def _send(self, data: bytes) -> None:
        client = self.client
        if client.is_closed:
            raise LogUnavailable("the connection closed while publishing")
        # nats-py's own write path (buffered across reconnects, flushed by its flusher
        # task), given whole protocol frames instead of one message at a time.
        await client._send_command(data)
        await client._flush_pending()

    async def _take_acks(self, results: list[Stored | None], base: int) -> bool:
        """File the acks that arrived; whether any answered a message still open."""
        assert self._inbox is not None
        progress = False
        skip = len(self._prefix)
        for reply_subject, _reply, headers, payload in self._inbox.take():
            try:
                index = int(reply_subject[skip:]) - base
            except ValueError:
                continue
            if not 0 <= index < len(results) or results[index] is not None:
                continue  # an earlier publish's, or a repeat's second ack
            if headers is not None and headers.startswith(b"NATS/1.0 503"):
                raise NoStream("no stream takes the subject")
            try:
                ack = _ack_decoder.decode(payload)
            except msgspec.MsgspecError:
                raise LogUnavailable(f"unreadable ack: {payload[:200]!r}") from None
            if ack.error is not None:
                raise LogUnavailable(f"the stream refused a message: "
                                     f"{ack.error.description} ({ack.error.code})")
            results[index] = Stored(ack.seq, ack.duplicate)
            progress = True
        return progress
