"""Reading a JetStream log in whole batches from any position.

A reader owns an ephemeral pull consumer that starts after its position and a private
inbox the messages are delivered to. Each ``read`` first asks the stream where its
history stands (``JetStreamLog.history``): a history other than the reader's is a
``Rotation``; otherwise it hands out, in stream order, the records up to the last
sequence that answer named — never a record published after it, which could belong to
a history that began in between (a purge, then a publish).

Messages are asked for a batch at a time with ``no_wait`` (the server sends what it
has at once) and arrive in a raw inbox (``events.nats_frames``): bytes cut out of the
socket's buffer, never parsed into nats-py messages, whose header parsing was most of a
replay. Only the payload and the reply subject (the stream sequence) are used.
The consumer's own delivery counter must go up by one each message; a jump (a message
lost on the way, a consumer that vanished after a server restart or an idle spell) makes
the reader drop the consumer and make a new one after the last record it received.
"""

from __future__ import annotations

import bisect
import contextlib
from typing import TYPE_CHECKING

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from events.log import LogUnavailable, RecordBatch, Rotation
from events.nats_frames import RawInbox, subscribe_raw
from events.position import Position

if TYPE_CHECKING:
    from events.jetstream import JetStreamLog

PULL_TIMEOUT_S = 5.0
PULL_BATCH = 4096  # messages asked for at once: bounds what waits in the inbox
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
        self._asked = 0  # messages of a pull request on its way (prefetched), if any
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
                    wanted = min(max_records - len(raws), history.last_seq - self._received_to,
                                 PULL_BATCH)
                    if wanted <= 0 or not await self._pull(wanted, ends[-1] if ends else
                                                           self._offset):
                        break
                    await self._prefetch(history.last_seq)
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
        except BaseException:
            # What was taken off the buffer is not handed out: read it again next time.
            self._forget(resume_after=self._offset)
            raise
        if not raws:
            return None
        start, self._offset = self._offset, ends[-1]
        return RecordBatch(self._generation, start, raws, ends, self._offset,
                           _as_lines(raws))

    async def _pull(self, wanted: int, handed_to: int) -> bool:
        """Receive up to ``wanted`` messages, asking the consumer for them unless a
        request is on its way already; whether any arrived. ``handed_to`` is the last
        sequence handed out, where a new consumer starts after."""
        for attempt in range(2):
            if self._consumer is None:
                await self._make_consumer()
            if self._asked:
                wanted = self._asked
            else:
                await self._ask(wanted)
            self._asked = 0
            received = await self._receive(wanted)
            if received is not None:
                return received > 0
            self._forget(resume_after=handed_to)  # lost its way: start after what we have
            if attempt:
                raise LogUnavailable(f"cannot read {self._log.name}: its consumer keeps failing")
        return False

    async def _prefetch(self, last_seq: int) -> None:
        """Ask for the next messages up to ``last_seq`` now, so that they arrive while
        this batch is handed out and folded (else a replay waits a round trip a pull)."""
        wanted = min(last_seq - self._received_to, PULL_BATCH)
        if wanted > 0 and not self._asked and self._consumer is not None:
            await self._ask(wanted)
            self._asked = wanted

    async def _ask(self, wanted: int) -> None:
        assert self._consumer is not None and self._inbox is not None
        assert self._inbox.subscription is not None
        client = await self._log.connection.client()
        request = b'{"batch":%d,"no_wait":true}' % wanted
        await client.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self._log.stream}.{self._consumer}",
                             request, reply=self._inbox.subscription.subject)

    async def _receive(self, wanted: int) -> int | None:
        """Take up to ``wanted`` messages off the inbox; how many, or ``None`` if the
        consumer must be made again."""
        inbox = self._inbox
        assert inbox is not None
        sequences, payloads = self._sequences, self._payloads
        received = 0
        expected = self._next_delivery
        try:
            while received < wanted:
                if not await inbox.wait(PULL_TIMEOUT_S):
                    if inbox.connection_closed:
                        raise LogUnavailable(f"cannot read {self._log.name}: connection closed")
                    return None
                for _subject, reply, headers, payload in inbox.take():
                    if not reply:  # a status: NATS/1.0 404 No Messages, 408, 409 ...
                        if headers is not None and headers[9:12] in _END_OF_BATCH:
                            return received
                        return None  # 409 (consumer deleted…), 503 (no consumer any more)
                    # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>,
                    # or the newer form with a domain and an account hash (two more).
                    tokens = reply.split(b".")
                    first = 5 if len(tokens) == 9 else 7
                    if int(tokens[first + 1]) != expected:
                        return None  # a message lost on the way, or another consumer's
                    expected += 1
                    sequences.append(int(tokens[first]))
                    payloads.append(payload)
                    received += 1
        finally:
            self._next_delivery = expected
            if sequences:
                self._received_to = sequences[-1]
        return received

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
        self._sequences, self._payloads, self._handed, self._asked = [], [], 0, 0
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
    for raw in raws:
        if not raw.strip() or b"\n" in raw:
            return None
    return b"\n".join(raws) + b"\n"


async def quietly(awaitable: object) -> None:
    """Tidy-up that may fail when the connection or the consumer is already gone."""
    with contextlib.suppress(OSError, TimeoutError, nats.errors.Error):
        await awaitable  # type: ignore[misc]
