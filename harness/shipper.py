"""The shipper: a local log forwarded to a JetStream stream, every line stored exactly
once however often the shipper dies (``python -m harness ship``, ``harness.ship``).

Workers on a machine keep appending to their ``runs.jsonl``; the shipper tails it like
the server does (whole lines only, blank lines skipped, a truncated or replaced file
followed into its new history) and publishes each line untouched, one message each, to
``harness.STREAM.ship.<source>``.

Exactly once, across restarts and ``kill -9``:
- every message carries ``Nats-Msg-Id``: the line's ``eventId``, else the line's own
  position in the file (``ship:<file generation>:<offset after it>``), so a publish
  retried within the stream's duplicate window is stored once;
- every message names the file position after its line: in that id, or, for a line with
  an ``eventId``, in a ``Harness-Ship-Position`` header (a header more costs every reader
  of the stream a parse). On start the shipper asks the stream for the last message on
  its own subject and resumes after the position that message names — so where it
  stopped is known from the stream itself, however long ago that was. Messages of one
  connection are stored in the order they were sent, so what the stream holds is always
  a prefix of what was sent;
- when a publish fails the shipper drops its connection (and with it anything nats-py
  buffered to resend), reconnects, and resumes from the stream's answer again.

``source`` names the file being shipped (default: a hash of the host name and the
file's absolute path); two shippers must not share one.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

import anyio
import msgspec
import nats

from events.filelog import FileLog
from events.jetstream import JetStreamLog
from events.log import LogUnavailable, RecordBatch, Rotation
from events.nats_publish import MSG_ID, headers_block
from events.position import CursorRefused, Position, parse_cursor

logger = logging.getLogger("harness.ship")

SHIP_POSITION = "Harness-Ship-Position"
SHIP_ID = "ship:"  # the message id of a line without an eventId: ship:<its position>
BATCH_RECORDS = 5_000
RETRY_WAIT_S = (0.25, 0.5, 1.0, 2.0, 5.0)


class _EventId(msgspec.Struct, rename="camel"):
    event_id: str | None = None


_id_decoder = msgspec.json.Decoder(_EventId)


def default_source(path: Path) -> str:
    """A name for shipping ``path`` from this machine, stable across restarts."""
    key = f"{socket.gethostname()}:{path.resolve()}".encode()
    return hashlib.blake2b(key, digest_size=6).hexdigest()


def dedup_id(raw: bytes, position: str) -> str:
    """The line's ``eventId``, else its position in the file (a cursor, unique to that
    line). Only a line that mentions the field is decoded: most have none."""
    if b'"eventId"' in raw:
        try:
            given = _id_decoder.decode(raw).event_id
        except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
            given = None
        if given:
            return given
    return f"{SHIP_ID}{position}"


@dataclass
class ShipStats:
    shipped: int = 0       # messages the stream stored
    duplicates: int = 0    # messages it already had (a retry, a repeated eventId)
    rotations: int = 0     # times the file became another history
    reconnects: int = 0


class Shipper:
    """Ships ``source`` (a ``FileLog``) to ``target`` under the name ``source_id``."""

    def __init__(self, source: FileLog, target: JetStreamLog, *, source_id: str,
                 batch_records: int = BATCH_RECORDS) -> None:
        self.source = source
        self.target = target
        self.subject = f"{target.address.subject_prefix}.ship.{source_id}"
        self.batch_records = batch_records
        self.stats = ShipStats()

    async def resume_point(self) -> Position | None:
        """After which file position the stream says this shipper stopped; ``None``
        when it holds nothing from it."""
        await self.target.history()  # creates the stream on first use
        js = await self.target.jetstream()
        try:
            last = await self.target.call(js.get_last_msg(self.target.stream, self.subject),
                                          "find where shipping stopped")
        except nats.js.errors.NotFoundError:
            return None
        headers = last.headers or {}
        # A line without an eventId has its position in its message id already.
        position = headers.get(SHIP_POSITION) or headers.get(MSG_ID, "").removeprefix(SHIP_ID)
        try:
            return parse_cursor(position)
        except CursorRefused:
            raise LogUnavailable(f"the last message on {self.subject} carries no "
                                 f"{SHIP_POSITION} header: is another program publishing "
                                 "there?") from None

    async def run(self, *, follow: bool) -> ShipStats:
        """Ship until the file's end (``follow=False``) or until cancelled."""
        failures = 0
        async with anyio.create_task_group() as tasks:
            if follow:
                await tasks.start(self.source.watch)
            while True:
                try:
                    await self._ship(follow=follow)
                    break
                except LogUnavailable as error:
                    if not follow and failures == len(RETRY_WAIT_S):
                        raise  # a one-off copy gives up; a follower keeps trying
                    wait = RETRY_WAIT_S[min(failures, len(RETRY_WAIT_S) - 1)]
                    failures += 1
                    self.stats.reconnects += 1
                    logger.warning("%s; retrying in %g s", error, wait)
                    # Whatever nats-py holds to resend could reach the stream after the
                    # resume point is looked up and be stored out of order: drop it.
                    await self.target.connection.close()
                    await anyio.sleep(wait)
            tasks.cancel_scope.cancel()
        return self.stats

    async def _ship(self, *, follow: bool) -> None:
        after = await self.resume_point()
        reader = self.source.reader(after=after)
        try:
            while True:
                batch = await reader.read(max_records=self.batch_records)
                if isinstance(batch, Rotation):
                    self.stats.rotations += 1
                    logger.warning("%s is another file now (%s): shipping it from its start",
                                   self.source.name, batch.reason)
                elif batch is not None:
                    await self._publish(batch)
                elif follow:
                    await self.source.changed()
                else:
                    return
        finally:
            await reader.aclose()

    async def _publish(self, batch: RecordBatch) -> None:
        messages = []
        for raw, end in zip(batch.raws, batch.ends, strict=True):
            position = str(Position(batch.generation, end))
            msg_id = dedup_id(raw, position)
            # Every header costs each reader of the stream a parse: the position goes in
            # a header of its own only when the message id is the line's eventId.
            extra = () if msg_id == f"{SHIP_ID}{position}" else ((SHIP_POSITION, position),)
            messages.append((headers_block(msg_id, extra), raw))
        results = await self.target.publish(self.subject, messages)
        duplicates = sum(1 for answer in results if answer.duplicate)
        self.stats.duplicates += duplicates
        self.stats.shipped += len(results) - duplicates
