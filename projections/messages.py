"""The live-stream messages (SPEC §5) that a change to the read models produces.

Every message carries the absolute state of what it names, so a client may apply one
twice, and a resuming client may be sent a superset of what it missed. (A client that
asks for them may be sent ``run_item_delta`` in the live stream instead of a running
item's ``run_item``: ``projections.text_deltas``.)
Payloads are encoded to JSON once, here, and shared by every subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator
from typing import NamedTuple

import msgspec

from projections.queue import QueuedRun
from projections.readmodels import ReadModels
from projections.runs import RECENT_ITEMS, Changes
from projections.state import ACTIVE_STATUSES, Item, Lifecycle, Progress, RunInfo, RunRecord
from projections.text_deltas import StreamedText

_encode = msgspec.json.Encoder().encode


class RunStatusMessage(msgspec.Struct, rename="camel"):
    run: RunInfo
    lifecycle: Lifecycle


class RunProgressMessage(msgspec.Struct, rename="camel"):
    run_id: str
    progress: Progress
    current_sequence: int | None
    recent_sequences: tuple[int, ...]  # the run snapshot's ``recentItems``, newest first


class ResetMessage(msgspec.Struct):
    """The log was replaced: drop what you hold; ``position`` is where the new one stands."""

    position: str


class RunItemMessage(msgspec.Struct, rename="camel"):
    run_id: str
    item: Item


class QueueMessage(msgspec.Struct, rename="camel"):
    queue: list[QueuedRun]


class StreamMessage(NamedTuple):
    """One message of the stream: its SSE event name, the run it is about, its JSON;
    for a ``run_item``, the item's sequence and whether it is ``streaming`` (running:
    more text may follow, so the fan-out may coalesce its updates), and then its
    streamed ``text``, from which the fan-out may make a ``run_item_delta``
    (``projections.text_deltas``)."""

    event: str
    run_id: str | None
    data: bytes
    sequence: int | None = None
    streaming: bool = False
    text: StreamedText | None = None


def run_status(record: RunRecord) -> StreamMessage:
    body = RunStatusMessage(record.info, record.lifecycle)
    return StreamMessage("run_status", record.info.id, _encode(body))


def run_progress(record: RunRecord) -> StreamMessage:
    body = RunProgressMessage(record.info.id, record.progress(), record.current,
                              record.recent[:RECENT_ITEMS])
    return StreamMessage("run_progress", record.info.id, _encode(body))


def run_item(record: RunRecord, sequence: int) -> StreamMessage:
    return item_message(record.info.id, record.item(sequence))


def item_message(run_id: str, item: Item) -> StreamMessage:
    running = item.state == "running"
    return StreamMessage("run_item", run_id, _encode(RunItemMessage(run_id, item)),
                         item.sequence, running, StreamedText.of(item) if running else None)


def queue(models: ReadModels) -> StreamMessage:
    return StreamMessage("queue", None, _encode(QueueMessage(models.queue.items())))


def messages_for(models: ReadModels, changes: Changes) -> list[StreamMessage]:
    """What to tell subscribers about one applied batch, run by run."""
    out: list[StreamMessage] = []
    runs = models.runs.runs
    for run_id in dict.fromkeys([*changes.status, *changes.progress, *changes.items]):
        record = runs[run_id]
        status = [run_status(record)] if run_id in changes.status else []
        progress = [run_progress(record)] if run_id in changes.progress else []
        items = [run_item(record, sequence) for sequence in changes.items.get(run_id, ())]
        out += _in_order(record, status, progress, items)
    if changes.queue:
        out.append(queue(models))
    return out


def _in_order(record: RunRecord, status: list[StreamMessage], progress: list[StreamMessage],
              items: list[StreamMessage]) -> list[StreamMessage]:
    """One run's messages of a batch. A run that has not ended is named first (its
    status introduces a new run); an ended run's status comes last, so that a client
    that stops at the final status has already folded the run's final progress and
    items."""
    if record.info.status in ACTIVE_STATUSES:
        return status + progress + items
    return items + progress + status


def resume_slices(models: ReadModels, offset: int, run_ids: Collection[str] | None, *,
                  items: bool, details: Callable[[RunRecord], Awaitable[RunRecord]],
                  slice_size: int = 64) -> AsyncIterator[list[StreamMessage]]:
    """Everything that changed after ``offset`` — what a client resuming there missed
    (without ``run_item`` messages if not ``items``) — in lists of at most
    ``slice_size`` messages, built one at a time as they are asked for, so that a resume
    from the start of a long log neither holds every message at once nor builds them in
    one go. A finished run may have shed its details: ``details`` gives them (read back
    from the log) when its items are due.

    Which runs changed is decided now, when this is called; each slice is built from the
    read models as they are when it is asked for. The models may have moved on by then,
    which sends a client newer absolute state than it missed, never less; the live
    stream that follows brings it the rest in order."""
    records, queue_changed = _resumed_runs(models, offset, run_ids, items)

    async def slices() -> AsyncIterator[list[StreamMessage]]:
        slicer = _Slicer(slice_size)
        for record in records:
            held = await details(record) if items and record.shed else record
            for part in slicer.add(_run_since(held, offset, items)):
                yield part
        for part in slicer.end(queue(models) if queue_changed else None):
            yield part

    return slices()


class _Slicer:
    """Messages into lists of ``size``, as they come."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.out: list[StreamMessage] = []

    def add(self, messages: Iterable[StreamMessage]) -> Iterator[list[StreamMessage]]:
        for message in messages:
            self.out.append(message)
            if len(self.out) >= self.size:
                yield self.out
                self.out = []

    def end(self, last: StreamMessage | None) -> Iterator[list[StreamMessage]]:
        if last is not None:
            self.out.append(last)
        if self.out:
            yield self.out


def _resumed_runs(models: ReadModels, offset: int, run_ids: Collection[str] | None,
                  items: bool) -> tuple[list[RunRecord], bool]:
    """The runs a client resuming at ``offset`` is told about, and whether the queue."""
    chosen = [record for record in models.runs.order if record.changed_at > offset]
    if items:
        # The live stream coalesces a running item's updates (``web.coalescing``): one
        # that changed before ``offset`` may not have reached the client yet. Running
        # items are few and resent whole: a superset of what it missed, never less.
        chosen += [record for record in models.runs.index.active_runs()
                   if record.changed_at <= offset and _running(record)]
    records = [record for record in chosen if not (run_ids and record.info.id not in run_ids)]
    return records, not run_ids and models.queue.changed_at > offset


def _run_since(record: RunRecord, offset: int, items: bool) -> Iterator[StreamMessage]:
    """One run's messages for a client resuming at ``offset``. Its items are taken when
    it begins (the fold may change the dict, or the run shed it, between slices)."""
    held = record.items if items else {}
    changed = record.item_changed_at.items() if items else ()
    sequences = [s for s, at in changed if at > offset]
    if items and record.active:
        sequences = list(dict.fromkeys([*sequences, *_running(record)]))
    finished = record.info.status not in ACTIVE_STATUSES
    if not finished:
        yield run_status(record)
        yield run_progress(record)
    run_id = record.info.id
    for sequence in sequences:
        yield item_message(run_id, held.get(sequence) or Item(sequence=sequence))
    if finished:
        yield run_progress(record)
        yield run_status(record)


def _running(record: RunRecord) -> list[int]:
    """The sequences of ``record``'s running items (an active run's items are unpacked)."""
    if not record.counts["running"]:
        return []
    return [sequence for sequence, item in record.items.items() if item.state == "running"]
