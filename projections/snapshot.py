"""The read models as bytes, and back: what a snapshot file holds (no I/O here).

A snapshot is a header line of JSON — format, fold version, the position the models
reflect, the payload's length and checksum — then the payload: JSON of typed structs,
which msgspec decodes straight into the read-model structs (nothing in it can run
code; JSON rather than msgpack keeps each timestamp's own offset, as the API shows
it). A finished run that shed its details (``projections.shedding``) is written as its
event positions alone, since the log holds the rest; another run's items are one
packed blob (``RunRecord.pack``). Loading costs the runs, not their items. ``decode``
refuses anything doubtful with ``SnapshotRefused``
naming why: another format or fold version, a length or checksum that does not
match, a body that does not decode. The caller then replays the log instead.

``FOLD_VERSION`` must change whenever a fold's meaning changes (a new field, another
rule): a snapshot of the old folds is then ignored, never loaded into the new ones.
Snapshots hold only what the log does: they are a cache of a replay.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from events.position import Position
from projections.problems import ProblemReport
from projections.queue import QueuedRun
from projections.readmodels import ReadModels
from projections.state import Item, Lifecycle, LogEntry, RunInfo, RunRecord, UsageTotals

FORMAT = "harness-read-models"
FOLD_VERSION = 4
# 2: runs' usage totals; 3: a run's packed blob holds its event positions; 4: finished
# runs shed their details (their positions and board items only: the log holds the rest)


class SnapshotRefused(ValueError):
    """A snapshot that must not be loaded; the message says why."""


class Header(msgspec.Struct, kw_only=True):
    format: str
    fold_version: int
    generation: str
    offset: int
    events_applied: int
    length: int
    blake2b: str
    # The digest of the log's record that ends at ``offset`` ("" if none): a log
    # rewritten in place under the same generation is caught by it.
    last_record: str


class _Run(msgspec.Struct, array_like=True, gc=False):
    info: RunInfo
    lifecycle: Lifecycle
    total: int
    config: dict[str, Any]
    items: bytes  # a run holding its details: ``RunRecord.pack``; b"" for a shed run
    positions: bytes  # a shed run's event positions (``RunRecord.shed_positions``)
    board_items: list[Item] | None  # the items a shed run keeps for the board, if any
    counts: dict[str, int]
    current: int | None
    recent: tuple[int, ...]
    logs: list[LogEntry]  # [] for a shed run: the log holds them
    changed_at: int
    usage: UsageTotals


class _Models(msgspec.Struct, array_like=True):
    runs: list[_Run]
    queue_pending: list[QueuedRun]
    queue_dispatched: dict[str, str]
    queue_changed_at: int
    problem_counts: dict[str, int]
    recent_problems: list[ProblemReport]
    events_applied: int
    duplicates_ignored: int
    event_ids: list[str]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Models)
_header_decoder = msgspec.json.Decoder(Header)


def header_of(data: bytes) -> Header:
    """The header of a snapshot, without reading its body (to pick the one to load)."""
    newline = data.find(b"\n")  # not ``partition``: it would copy the whole body
    if newline < 0:
        raise SnapshotRefused("no header line")
    try:
        header = _header_decoder.decode(data[:newline])
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as error:
        raise SnapshotRefused(f"unreadable header: {error}") from None
    if header.format != FORMAT:
        raise SnapshotRefused(f"not a read-model snapshot ({header.format!r})")
    if header.fold_version != FOLD_VERSION:
        raise SnapshotRefused(f"made by fold version {header.fold_version}, "
                              f"these folds are version {FOLD_VERSION}")
    return header


def encode(models: ReadModels, *, last_record: bytes | None = None) -> bytes:
    """``models`` as a snapshot; ``last_record`` is the log's record ending at their
    position. Call it where nothing changes the models meanwhile."""
    return assemble(encode_body(models), models.position, models.events_applied,
                    last_record=last_record)


def encode_body(models: ReadModels) -> bytes:
    """The payload of a snapshot of ``models`` as they are now (one synchronous step).

    A shed run (``projections.shedding``) is written as it is held: its positions and
    board items, not its details, which the log holds; any other run is packed whole
    (``RunRecord.pack``), so shed the finished runs first to keep this step short.
    """
    return _encoder.encode(_Models(
        runs=[_run(record) for record in models.runs.order],
        queue_pending=models.queue.items(),
        queue_dispatched=models.queue.dispatched, queue_changed_at=models.queue.changed_at,
        problem_counts=dict(models.problems.counts),
        recent_problems=list(models.problems.recent),
        events_applied=models.events_applied, duplicates_ignored=models.duplicates_ignored,
        event_ids=sorted(models._event_ids)))


def _run(record: RunRecord) -> _Run:
    if record.shed:
        items, positions, board, logs = b"", record.shed_positions(), record.board_items(), []
    else:
        items, positions, board, logs = record.pack(), b"", None, record.logs
    return _Run(record.info, record.lifecycle, record.total, record.config, items, positions,
                board, record.counts, record.current, record.recent, logs, record.changed_at,
                record.usage)


def assemble(body: bytes, position: Position, events_applied: int, *,
             last_record: bytes | None) -> bytes:
    """A whole snapshot: the header line, then ``body`` (of models at ``position``)."""
    header = Header(format=FORMAT, fold_version=FOLD_VERSION, generation=position.generation,
                    offset=position.offset, events_applied=events_applied, length=len(body),
                    blake2b=_digest(body), last_record=record_digest(last_record))
    return msgspec.json.encode(header) + b"\n" + body


def record_digest(raw: bytes | None) -> str:
    return "" if raw is None else _digest(raw)


def decode(data: bytes) -> ReadModels:
    """The read models a snapshot holds, or ``SnapshotRefused``."""
    header = header_of(data)
    body = memoryview(data)[data.index(b"\n") + 1:]  # a view: a 10M-event body is ~100 MB
    if len(body) != header.length:
        raise SnapshotRefused(f"body of {len(body)} bytes, the header says {header.length}")
    if _digest(body) != header.blake2b:
        raise SnapshotRefused("checksum mismatch")
    try:
        state = _decoder.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as error:
        raise SnapshotRefused(f"undecodable body: {error}") from None
    return _models(state, Position(header.generation, header.offset))


def _models(state: _Models, position: Position) -> ReadModels:
    models = ReadModels()
    store = models.runs
    for ordinal, run in enumerate(state.runs):
        record = RunRecord(run.info, run.total, run.config, ordinal)
        record.lifecycle = run.lifecycle
        if run.items:
            record.hold_packed(run.items, run.logs)
        else:
            record.shed_details(run.positions, keep_board=False)
            if run.board_items is not None:
                record.hold_board_items(run.board_items)
        record.counts = run.counts
        record.current = run.current
        record.recent = run.recent
        record.changed_at = run.changed_at
        record.usage = run.usage
        store.runs[run.info.id] = record
        store.order.append(record)
        store.index.place(record)
    queue = models.queue
    queue.pending = {queued.queue_id: queued for queued in state.queue_pending}
    queue.dispatched = state.queue_dispatched
    queue.changed_at = state.queue_changed_at
    models.problems.counts.update(state.problem_counts)
    models.problems.recent.extend(state.recent_problems)
    models.events_applied = state.events_applied
    models.duplicates_ignored = state.duplicates_ignored
    models._event_ids = set(state.event_ids)
    models.position = position
    return models


def _digest(body: bytes | memoryview) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()
