"""The log as a NATS JetStream stream (``HARNESS_LOG=nats://host:4222/STREAM``).

One stream holds the log, one event per message, each the same JSON envelope as a line
of ``runs.jsonl``. A position's offset is the stream sequence of the record it follows;
its generation names one *history* of the stream: the stream's name, its creation time
and the first sequence its history starts at. A re-created stream has another creation
time and a purged one starts at a later sequence (a purge keeps the creation time and
the sequence numbers), so both are another history: readers get a ``Rotation`` and old
cursors a ``reset``. The stream is meant to keep everything; one given age or size
limits would start a new history each time its oldest message went.

Subjects: the stream takes ``harness.STREAM.>``; the server and writers publish to
``harness.STREAM.events``, each shipper to ``harness.STREAM.ship.<source>`` (so that it
can find its own last message again). Readers read every subject, in stream order.

Every message carries ``Nats-Msg-Id``: the event's ``eventId``, or a fresh id where it
has none, so that a retried append is stored once (within the stream's duplicate window).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import msgspec
import nats
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.kv import KeyValue

from events.jetstream_reader import JetStreamReader, quietly
from events.log import LogUnavailable
from events.nats_address import NatsAddress
from events.nats_connection import ConnectionReport, NatsConnection
from events.nats_publish import NoStream, PublishWindow, Stored, headers_block
from events.position import Position
from events.schema import Event

T = TypeVar("T")
_encoder = msgspec.json.Encoder()

DUPLICATE_WINDOW_S = 24 * 3600.0  # a writer may retry an append for a day
READ_AT_IN_FLIGHT = 128  # record reads on their way at once (read_at)
SETTLE_MAX_S = 1.0  # how long a timed-out request waits for a refusal still on its way
# The doorbell hears a publish as the stream receives it, possibly before the stream has
# stored it: a reader woken by it may find nothing new yet, so it looks again this soon.
# Without it, such a record waited for the next re-check (a second; bench: p99 302 ms).
FOLLOW_UP_S = (0.002, 0.01, 0.05)


@dataclass(frozen=True, slots=True)
class StreamHistory:
    """Where one history of the stream stands: its generation and its last sequence."""

    generation: str
    created: str
    last_seq: int


def history_of(info: StreamInfo) -> StreamHistory:
    state = info.state
    # The first sequence this history can hold: an empty stream's next one.
    base = state.first_seq if state.messages else state.last_seq + 1
    created = info.created.isoformat() if info.created else ""
    key = f"{info.config.name}\n{created}\n{base}".encode()
    return StreamHistory(hashlib.blake2b(key, digest_size=6).hexdigest(), created,
                         state.last_seq)


def message_id(event: Event | dict[str, Any]) -> str:
    """The de-duplication id of ``event``: its ``eventId``, else a fresh one."""
    given = event.get("eventId") if isinstance(event, dict) else event.event_id
    return given if isinstance(given, str) and given else uuid.uuid4().hex


class JetStreamLog:
    """``events.log.EventLog`` over the stream named by ``address``.

    ``recheck_s`` bounds how long ``changed`` waits without a wake-up;
    ``connect_timeout_s`` how long opening may take before ``LogUnavailable`` (default:
    the address's ``?timeout=``, which also bounds each JetStream API request).
    """

    def __init__(self, address: NatsAddress | str, *, recheck_s: float = 1.0,
                 connect_timeout_s: float | None = None) -> None:
        self.address = NatsAddress.parse(address) if isinstance(address, str) else address
        self.name = str(self.address)
        self.stream = self.address.stream
        self.subject = f"{self.address.subject_prefix}.events"
        self.recheck_s = recheck_s
        self.connection = NatsConnection(self.address, connect_timeout_s=(
            self.address.timeout_s if connect_timeout_s is None else connect_timeout_s))
        self._history: StreamHistory | None = None
        self._append_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._wake: anyio.Event | None = None
        self._window: PublishWindow | None = None
        self._rang = False  # the doorbell rang since ``changed`` last returned
        self._follow_ups: list[float] = []  # the next waits of ``changed`` after a ring

    @classmethod
    def from_url(cls, url: str) -> JetStreamLog:
        """The log ``url`` (``HARNESS_LOG``) names; ``BadAddress`` if it names none."""
        return cls(NatsAddress.parse(url))

    @property
    def known_history(self) -> StreamHistory | None:
        """The history the last look at the stream found (no request)."""
        return self._history

    def report(self) -> ConnectionReport:
        return self.connection.report()

    # -- the stream -----------------------------------------------------------------

    async def jetstream(self) -> JetStreamContext:
        return (await self.connection.client()).jetstream(timeout=self.address.timeout_s)

    async def history(self) -> StreamHistory:
        """The stream's history now; creates the stream when it is absent."""
        js = await self.jetstream()
        try:
            info = await self.call(js.stream_info(self.stream), "read the stream's state")
        except nats.js.errors.NotFoundError:
            info = await self._create(js)
        self._history = history_of(info)
        return self._history

    async def _create(self, js: JetStreamContext) -> StreamInfo:
        config = StreamConfig(
            name=self.stream, subjects=[f"{self.address.subject_prefix}.>"],
            storage=StorageType.FILE, retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD, duplicate_window=DUPLICATE_WINDOW_S,
            num_replicas=self.address.replicas)
        try:
            return await self.call(js.add_stream(config), "create the stream")
        except nats.js.errors.BadRequestError:
            # Another process created it first, with a config of its own: use that one.
            return await self.call(js.stream_info(self.stream), "read the stream's state")

    async def call(self, request: Awaitable[T], doing: str) -> T:
        """Await a JetStream API ``request``, turning failures into one-line
        ``LogUnavailable`` errors that say what was being done and why it failed."""
        try:
            return await request
        except (nats.js.errors.NotFoundError, nats.js.errors.KeyValueError):
            raise  # answers, not failures: the caller decides
        except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
            raise LogUnavailable(f"cannot {doing} at {self.name}: JetStream is not enabled "
                                 "there (start nats-server with -js)") from None
        except nats.js.errors.APIError as error:
            if isinstance(error, nats.js.errors.BadRequestError) and error.err_code == 10058:
                raise  # stream name already in use
            raise LogUnavailable(f"cannot {doing} at {self.name}: "
                                 f"{error.description or type(error).__name__}") from None
        except (TimeoutError, nats.errors.TimeoutError):
            if self.connection.permission_error is None:  # it may be on its way still
                # The server answers in order: a refusal comes before the flush's PONG.
                # Bounded, so that a timed-out request does not wait a second timeout.
                await self.connection.settled(min(self.address.timeout_s, SETTLE_MAX_S))
            why = self.connection.permission_error
            reason = (f"no permission ({why})" if why else
                      f"no answer in {self.address.timeout_s:g} s (connection: "
                      f"{'up' if self.report().connected else 'down'})")
            raise LogUnavailable(f"cannot {doing} at {self.name}: {reason}") from None
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError,
                nats.errors.ConnectionReconnectingError) as error:
            raise LogUnavailable(f"cannot {doing} at {self.name}: {type(error).__name__}"
                                 ) from None

    async def key_value(self, purpose: str, *, ttl_s: float | None = None) -> KeyValue:
        """The key-value bucket ``STREAM-purpose`` beside the stream, created when absent
        (``ttl_s``: how long a key lives without an update; an existing bucket is used
        as it is)."""
        js = await self.jetstream()
        bucket = f"{self.stream}-{purpose}"
        try:
            return await self.call(js.key_value(bucket), f"open the {bucket} bucket")
        except nats.js.errors.NotFoundError:
            pass
        try:
            return await self.call(js.create_key_value(
                bucket=bucket, ttl=ttl_s, replicas=self.address.replicas,
                storage=StorageType.FILE), f"create the {bucket} bucket")
        except nats.js.errors.BadRequestError:  # another process made it first
            return await self.call(js.key_value(bucket), f"open the {bucket} bucket")

    # -- EventLog -------------------------------------------------------------------

    def reader(self, *, after: Position | None = None) -> JetStreamReader:
        return JetStreamReader(self, after=after)

    async def current(self) -> Position:
        history = await self.history()
        return Position(history.generation, history.last_seq)

    async def append(self, events: Sequence[Event | dict[str, Any]]) -> Position:
        """Publish ``events`` in order and wait for every ack (stored durably).

        Appends of this process are serialised, so one append's events are consecutive
        in the stream; another process's messages may come between them. Unacknowledged
        publishes are sent once more (``PublishWindow``): their ``Nats-Msg-Id`` makes
        the repeat of an event the stream already holds a no-op. If that fails too,
        ``LogUnavailable`` is raised and some of the events may be stored; appending
        them again (same ``eventId``s) completes the append without storing any twice.
        """
        if not events:
            raise ValueError("nothing to append")
        loop = asyncio.get_running_loop()
        if self._append_lock is None or self._append_lock[0] is not loop:
            self._append_lock = (loop, asyncio.Lock())
        messages = [(headers_block(message_id(event)), _encoder.encode(event))
                    for event in events]
        async with self._append_lock[1]:
            if self._history is None:
                await self.history()  # creates the stream on first use
            try:
                stored = await self.publish(self.subject, messages)
            except NoStream:
                await self.history()  # deleted since: create it again
                stored = await self.publish(self.subject, messages)
        history = await self.history()
        return Position(history.generation, max(answer.seq for answer in stored))

    async def publish(self, subject: str, messages: Sequence[tuple[bytes, bytes]]
                      ) -> list[Stored]:
        """Publish ``messages`` (``headers_block``, payload) to ``subject`` through
        this connection's ``PublishWindow``; the stream's answer to each, in order."""
        client = await self.connection.client()
        if self._window is None or self._window.client is not client:
            self._window = PublishWindow(client, ack_timeout_s=self.address.ack_timeout_s)
        try:
            return await self._window.publish(subject, messages)
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError,
                nats.errors.ConnectionReconnectingError) as error:
            raise LogUnavailable(f"cannot publish to {self.name}: {type(error).__name__}"
                                 ) from None

    async def read_at(self, positions: Sequence[Position]) -> list[bytes | None]:
        history = await self.history()
        js = await self.jetstream()

        async def record(position: Position) -> bytes | None:
            if position.generation != history.generation or position.offset < 1:
                return None
            try:
                message = await self.call(js.get_msg(self.stream, position.offset),
                                          "read a record back")
            except nats.js.errors.NotFoundError:
                return None
            return message.data

        # Many requests on their way at once: one by one, a run of 100,000 events read
        # back (a retry or late feedback on an old run) waited 100,000 round trips.
        found: list[bytes | None] = []
        for start in range(0, len(positions), READ_AT_IN_FLIGHT):
            answers = await asyncio.gather(
                *(record(p) for p in positions[start:start + READ_AT_IN_FLIGHT]),
                return_exceptions=True)  # every request ends before any error is raised
            for answer in answers:
                if isinstance(answer, BaseException):
                    raise answer
                found.append(answer)
        if (await self.history()).generation != history.generation:
            # Purged or made again while it was read: these may be the new history's.
            return [None] * len(positions)
        return found

    # -- waking readers ----------------------------------------------------------------

    def notify(self) -> None:
        self._event().set()

    def retire(self, generation: str) -> None:
        """Nothing to do: stored messages never change, and a stream purged or made
        again is another generation already, which its readers find out by themselves."""

    async def changed(self) -> None:
        """Return when the stream may hold more: a wake-up, a look again shortly after a
        doorbell rang (``FOLLOW_UP_S``), or ``recheck_s`` without either."""
        wait_s = self._follow_ups.pop(0) if self._follow_ups else self.recheck_s
        with anyio.move_on_after(wait_s):
            await self._event().wait()
        if self._rang:
            self._rang = False
            self._follow_ups = list(FOLLOW_UP_S)
        self._wake = anyio.Event()

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        """Wake readers whenever anyone publishes to the stream, until cancelled.

        A plain subscription to the stream's subjects sees every publish as it happens;
        it is only a doorbell (readers read the stream itself), so a message it misses
        while reconnecting costs at most ``recheck_s``. nats-py renews the subscription
        across reconnects; a client closed and made again gets a new one.
        """
        started = False
        while True:
            client: Client | None = None
            subscription: Subscription | None = None
            try:
                client = await self.connection.client()
                subscription = await client.subscribe(
                    f"{self.address.subject_prefix}.>", cb=self._ring,
                    pending_msgs_limit=1 << 20)
            except (LogUnavailable, nats.errors.Error):
                client = None
            if not started:
                task_status.started()
                started = True
            try:
                while client is not None and not client.is_closed:
                    await anyio.sleep(self.recheck_s)
                if client is None:
                    await anyio.sleep(self.recheck_s)
            finally:
                if subscription is not None and client is not None and not client.is_closed:
                    with anyio.CancelScope(shield=True):
                        await quietly(subscription.unsubscribe())

    async def _ring(self, _message: object) -> None:
        self._rang = True
        self._event().set()

    def _event(self) -> anyio.Event:
        if self._wake is None:
            self._wake = anyio.Event()
        return self._wake

    async def aclose(self) -> None:
        await self.connection.close()

