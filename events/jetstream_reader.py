"""Reading a JetStream log in whole batches from any position.

A reader owns an ephemeral pull consumer that starts after its position and a private
inbox the messages are delivered to. Each ``read`` first asks the stream where its
history stands (``JetStreamLog.history``): a history other than the reader's is a
``Rotation``; otherwise it hands out, in stream order, the records up to the last
sequence that answer named — never a record published after it, which could belong to
a history that began in between (a purge, then a publish).

Messages are asked for in pull requests with ``no_wait`` (the server sends what it has
at once), several on their way at a time: up to ``PREFETCH`` messages are asked for or
waiting ahead of what was handed out, so that nats-server goes on sending while the
last batch is folded. (With one request at a time it sat idle through every fold and
the reader then waited for it: most of what a JetStream replay took beyond a file's.)
They arrive in a raw inbox (``events.nats_frames``): bytes cut out of the socket's
buffer, never parsed into nats-py messages, whose header parsing was most of a replay.
Only the payload and the reply subject (the stream sequence) are used.
The consumer's own delivery counter must go up by one each message; a jump (a message
lost on the way, a consumer that vanished after a server restart or an idle spell) makes
the reader drop the consumer and make a new one after the last record it received.
"""

from __future__ import annotations

import bisect
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from events.log import LogUnavailable, RecordBatch, Rotation
from events.nats_frames import RawInbox, subscribe_raw
from events.position import Position

if TYPE_CHECKING:
    from events.jetstream import JetStreamLog

PULL_TIMEOUT_S = 5.0
PULL_BATCH = 8192  # messages asked for in one pull request
PREFETCH = 32768  # messages asked for or received ahead of the reader: bounds its memory
CONSUMER_IDLE_S = 300.0  # the server removes a consumer idle this long; we make another
_END_OF_BATCH = (b"404", b"408")  # no messages (now) / the request expired


class JetStreamReader:
    """``events.log.LogReader`` over a ``JetStreamLog``, from ``after`` on."""

    def __init__(self, log: JetStreamLog, *, after: Position | None = None) -> None:
        self._log = log
        self._generation = after.generation if after is not None and after.offset else None
        self._created: str | None = None
        self._offset = after.offset if after is not None else 0
        self._consumer: str | None = None
        self._inbox: RawInbox | None = None
        self._next_delivery = 1
        self._received_to = self._offset  # the last sequence taken off the inbox
        # Received, not yet handed out: _sequences[_handed:] and _payloads[_handed:].
        self._sequences: list[int] = []
        self._payloads: list[bytes] = []
        self._handed = 0
        self._requests: deque[int] = deque()  # pull requests on their way: messages each still owes
        self._stale: list[tuple[str | None, RawInbox | None]] = []

    @property
    def position(self) -> Position:
        generation = self._generation
        if generation is None:
            known = self._log.known_history
            generation = known.generation if known is not None else "0"
        return Position(generation, self._offset)

    async def read(self, *, max_records: int = 10_000, max_bytes: int = 4 << 20
                   ) -> RecordBatch | Rotation | None:
        history = await self._log.history()
        if self._generation != history.generation:
            if self._generation is not None and self._offset:
                reason = "purged" if history.created == self._created else "re-created"
                self._forget(resume_after=0)
                self._offset = 0
                self._generation, self._created = history.generation, history.created
                return Rotation(reason, history.generation)
            self._generation = history.generation
        self._created = history.created
        if history.last_seq <= self._offset:
            return None
        raws: list[bytes] = []
        ends: list[int] = []
        size = 0
        try:
            while len(raws) < max_records and size < max_bytes:
                if self._handed == len(self._sequences):
                    self._sequences, self._payloads, self._handed = [], [], 0
                    if not await self._fill(history.last_seq,
                                            ends[-1] if ends else self._offset):
                        break
                first = self._handed
                # Not beyond the history looked at: a later record is the next read's.
                stop = bisect.bisect_right(self._sequences, history.last_seq, first,
                                           min(len(self._sequences),
                                               first + max_records - len(raws)))
                run_size = sum(map(len, self._payloads[first:stop]))
                if size + run_size < max_bytes:
                    size += run_size
                else:  # the record that reaches max_bytes is the batch's last
                    for index in range(first, stop):
                        size += len(self._payloads[index])
                        if size >= max_bytes:
                            stop = index + 1
                            break
                raws += self._payloads[first:stop]
                ends += self._sequences[first:stop]
                self._handed = stop
                if stop < len(self._sequences) and self._sequences[stop] > history.last_seq:
                    break
            # The next records come in while this batch is folded.
            await self._ask_ahead(history.last_seq)
        except BaseException:
            # What was taken off the buffer is not handed out: read it again next time.
            self._forget(resume_after=self._offset)
            raise
        if not raws:
            return None
        start, self._offset = self._offset, ends[-1]
        return RecordBatch(self._generation, start, raws, ends, self._offset,
                           _as_lines(raws))

    async def _fill(self, last_seq: int, handed_to: int) -> bool:
        """Receive more messages, asking for them unless they are on their way; whether
        any arrived. ``handed_to`` is the last sequence handed out, where a new consumer
        starts after."""
        for attempt in range(2):
            if self._consumer is None:
                await self._make_consumer()
            await self._ask_ahead(last_seq)
            received = await self._receive()
            if received is not None:
                return received > 0
            self._forget(resume_after=handed_to)  # lost its way: start after what we have
            if attempt:
                raise LogUnavailable(f"cannot read {self._log.name}: its consumer keeps failing")
        return False

    async def _ask_ahead(self, last_seq: int) -> None:
        """Keep up to ``PREFETCH`` messages asked for or received and not handed out, in
        requests of ``PULL_BATCH``, none past ``last_seq`` (a later one may be of another
        history). So nats-server sends while the reader's last batch is folded, and a
        replay never waits a round trip for a pull."""
        if self._consumer is None:
            return
        asked = sum(self._requests)
        room = min(PREFETCH - asked - (len(self._sequences) - self._handed),
                   last_seq - self._received_to - asked)
        while room > 0:
            wanted = min(room, PULL_BATCH)
            await self._ask(wanted)
            self._requests.append(wanted)
            room -= wanted

    async def _ask(self, wanted: int) -> None:
        assert self._consumer is not None and self._inbox is not None
        assert self._inbox.subscription is not None
        client = await self._log.connection.client()
        request = b'{"batch":%d,"no_wait":true}' % wanted
        await client.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self._log.stream}.{self._consumer}",
                             request, reply=self._inbox.subscription.subject)

    async def _receive(self) -> int | None:
        """Take what arrived for the requests on their way, waiting until some messages
        did (or every request is over); how many, or ``None`` if the consumer must be
        made again."""
        inbox = self._inbox
        assert inbox is not None
        while self._requests:
            if not await inbox.wait(PULL_TIMEOUT_S):
                if inbox.connection_closed:
                    raise LogUnavailable(f"cannot read {self._log.name}: connection closed")
                return None
            # Columns, not a loop over messages: a replay takes a million of them.
            _subjects, replies, headers, payloads = zip(*inbox.take(), strict=True)
            received = start = 0
            while start < len(replies):
                try:  # a status: NATS/1.0 404 No Messages, 408, 409 ...
                    status = replies.index(b"", start)
                except ValueError:
                    status = len(replies)
                if status > start:
                    if not self._keep(replies[start:status], payloads[start:status]):
                        return None  # a message lost on the way, or another consumer's
                    self._answered(status - start)
                    received += status - start
                if status < len(replies):
                    header = headers[status]
                    if header is None or header[9:12] not in _END_OF_BATCH:
                        return None  # 409 (consumer deleted…), 503 (no consumer any more)
                    if self._requests:  # the oldest request ends with fewer than it asked
                        self._requests.popleft()
                start = status + 1
            if received:
                return received
        return 0

    def _answered(self, count: int) -> None:
        """``count`` messages arrived: the requests they answer, oldest first."""
        requests = self._requests
        while count and requests:
            taken = min(count, requests[0])
            count -= taken
            if taken == requests[0]:
                requests.popleft()
            else:
                requests[0] -= taken

    def _keep(self, replies: Sequence[bytes], payloads: Sequence[bytes]) -> bool:
        """Keep delivered messages, unless one is missing among them or before them.

        The consumer numbers its deliveries one by one, in the order it sends them, and
        sends the stream's messages in sequence order (no redeliveries: nothing is
        acked): so the first and the last message tell whether every one in between is
        there, and the stream sequences are a plain range unless messages were deleted
        from the stream in between — only then is every reply subject read."""
        try:
            first_sequence, first_delivery = _numbers(replies[0])
            last_sequence, last_delivery = _numbers(replies[-1])
            count = len(replies)
            if first_delivery != self._next_delivery or last_delivery - first_delivery + 1 != count:
                return False
            if last_sequence - first_sequence + 1 == count:
                self._sequences += range(first_sequence, last_sequence + 1)
            else:
                self._sequences += [_numbers(reply)[0] for reply in replies]
        except (ValueError, IndexError):
            return False  # not a JetStream delivery's reply subject
        self._next_delivery = last_delivery + 1
        self._payloads += payloads
        self._received_to = self._sequences[-1]
        return True

    async def _make_consumer(self) -> None:
        await self._tidy()
        client = await self._log.connection.client()
        if self._inbox is None:
            self._inbox = await subscribe_raw(client, client.new_inbox(), RawInbox())
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self._received_to + 1,
            ack_policy=AckPolicy.NONE, inactive_threshold=CONSUMER_IDLE_S,
            mem_storage=True, num_replicas=1)
        js = await self._log.jetstream()
        info = await self._log.call(js.add_consumer(self._log.stream, config), "read the stream")
        self._consumer = info.name
        self._next_delivery = 1

    def _forget(self, *, resume_after: int) -> None:
        """Drop the consumer and what it delivered but was not handed out; the next pull
        makes a new one after ``resume_after``. Messages of the old consumer still on
        their way must not be taken for the new one's, so the inbox goes too."""
        if self._consumer is not None or self._inbox is not None:
            self._stale.append((self._consumer, self._inbox))
        if self._inbox is not None:
            self._inbox.closed = True  # what still arrives for it is dropped
        self._consumer, self._inbox = None, None
        self._sequences, self._payloads, self._handed = [], [], 0
        self._requests.clear()
        self._received_to = resume_after

    async def _tidy(self) -> None:
        """Remove forgotten consumers and inboxes (quietly: they may be gone already)."""
        while self._stale:
            consumer, inbox = self._stale.pop()
            if inbox is not None:
                await inbox.aclose()
            if consumer is not None:
                js = await self._log.jetstream()
                await quietly(js.delete_consumer(self._log.stream, consumer))

    async def aclose(self) -> None:
        self._forget(resume_after=self._offset)
        await quietly(self._tidy())


def _as_lines(raws: list[bytes]) -> bytes | None:
    """The records as newline-ended lines, which a replay decodes in one call — unless a
    record would not be exactly one line (empty, blank, or holding a newline: another
    publisher's pretty-printed JSON), which must stay one record, as the live path
    reads it."""
    if not all(raws) or any(map(bytes.isspace, raws)):
        return None
    lines = b"\n".join([*raws, b""])
    return lines if lines.count(b"\n") == len(raws) else None


def _numbers(reply: bytes) -> tuple[int, int]:
    """The stream sequence and the delivery number in a delivery's reply subject:
    $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>, or the newer
    form with a domain and an account hash (two tokens more)."""
    tokens = reply.split(b".")
    first = 5 if len(tokens) == 9 else 7
    return int(tokens[first]), int(tokens[first + 1])


async def quietly(awaitable: object) -> None:
    """Tidy-up that may fail when the connection or the consumer is already gone."""
    with contextlib.suppress(OSError, TimeoutError, nats.errors.Error):
        await awaitable  # type: ignore[misc]
