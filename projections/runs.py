"""The run fold: every run's status, lifecycle, progress, items and logs.

``RunStore.apply`` takes one event and the log offset just after it, updates the runs
in place, notes in ``Changes`` what a live subscriber must be told (a replay, which
tells nobody, passes ``None`` and skips that bookkeeping), and returns a
``(kind, message)`` problem instead of applying an event that names an unknown run or
an item outside the run (or ``NEEDS_DETAILS`` for a run whose details are in the log
alone). It is the hot loop of every replay, hence the dispatch table
and the incremental counters.
"""

from __future__ import annotations

from collections.abc import Callable

from events import schema as ev
from projections.creation_order import CreationOrder
from projections.run_index import RunIndex
from projections.run_names import RunNames
from projections.state import (
    ACTIVE_STATUSES,
    PREVIEW_CHARS,
    Activity,
    Feedback,
    Item,
    LogEntry,
    RunInfo,
    RunRecord,
)

RECENT_ITEMS = 5
Problem = tuple[str, str]
NEEDS_DETAILS: Problem = ("needs_details", "the run's details must be read back first")
"""What ``RunStore.apply`` answers, applying nothing, for an event of a run that has
shed its details (``RunRecord.shed_details``): the caller reads them back from the log
(``RunRecord.restore_details``) and applies the event again."""


class Changes:
    """What one batch of events changed, in the order it first changed."""

    __slots__ = ("items", "progress", "queue", "status")

    def __init__(self) -> None:
        self.status: dict[str, None] = {}
        self.progress: dict[str, None] = {}
        self.items: dict[str, dict[int, None]] = {}
        self.queue = False

    def __bool__(self) -> bool:
        return bool(self.status or self.progress or self.items or self.queue)


class RunStore:
    """All runs, by id, in creation order, and indexed by status (``index``)."""

    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.order: list[RunRecord] = []
        self.names = RunNames()  # for filtered archive reads; kept up by its readers
        self.created = CreationOrder()  # for the archive's default page; the same
        self.index = RunIndex()
        # type -> (handler, whether it is about one item); a dict lookup is cheaper than
        # isinstance in the hot loop.
        self._handlers: dict[type, tuple[Callable[..., Problem | None], bool]] = {
            ev.RunStarted: (self._run_started, False),
            ev.ItemStarted: (self._item_started, True),
            ev.ItemDelta: (self._item_delta, True),
            ev.ItemAnswered: (self._item_answered, True),
            ev.ItemJudged: (self._item_judged, True),
            ev.ItemFaulted: (self._item_faulted, True),
            ev.RunLog: (self._run_log, False),
            ev.RunCancelRequested: (self._run_cancel_requested, False),
            ev.RunResumed: (self._run_resumed, False),
            ev.RunFinished: (self._run_finished, False),
            ev.FeedbackGiven: (self._feedback_given, False),
        }

    @property
    def handled_types(self) -> frozenset[type]:
        return frozenset(self._handlers) | {ev.RunCreated}

    def apply(self, event: ev.Event, at: int, changes: Changes | None) -> Problem | None:
        kind = type(event)
        if kind is ev.RunCreated:
            return self._run_created(event, at, changes)  # type: ignore[arg-type]
        entry = self._handlers.get(kind)
        if entry is None:  # a type added to the schema but not to this fold
            return ("unhandled_event", f"no fold for {event.__struct_config__.tag} events")
        record = self.runs.get(event.run_id)  # type: ignore[attr-defined]
        if record is None:
            return ("unknown_run", f"{event.__struct_config__.tag} for unknown run "
                                   f"{event.run_id!r}")  # type: ignore[attr-defined]
        handler, about_item = entry
        if record.shed:
            return NEEDS_DETAILS
        if about_item:
            sequence = event.sequence  # type: ignore[attr-defined]
            if sequence > record.total:
                return ("sequence_out_of_range",
                        f"sequence {sequence} outside 1..{record.total} of run {record.info.id}")
            record.item_changed_at[sequence] = at
            if changes is not None:
                items = changes.items.get(record.info.id)
                if items is None:
                    items = changes.items[record.info.id] = {}
                items[sequence] = None
        record.changed_at = at
        problem = handler(event, record, changes)
        if problem is None:
            record.positions.append(at)
        return problem

    # -- run lifecycle ---------------------------------------------------------------

    def _run_created(self, e: ev.RunCreated, at: int, changes: Changes | None) -> Problem | None:
        if e.run_id in self.runs:
            return ("duplicate_run", f"run {e.run_id!r} was already created")
        info = RunInfo(id=e.run_id, provider_name=e.provider_name, dataset_name=e.dataset_name,
                       model_name=e.model_name, created_at=e.ts, labels=dict(e.labels))
        record = RunRecord(info, e.total, dict(e.config), len(self.order))
        record.changed_at = at
        self.runs[e.run_id] = record
        self.order.append(record)
        record.positions.append(at)
        self.index.place(record)
        _log(record, e, "info", f"created: {e.model_name} on {e.dataset_name}, {e.total} items")
        if changes is not None:
            changes.status[e.run_id] = None
            changes.progress[e.run_id] = None
        return None

    def _run_started(self, e: ev.RunStarted, record: RunRecord, changes: Changes | None) -> None:
        record.info.status = "running"
        if e.ts is not None:
            record.info.started_at = e.ts
        self.index.place(record)
        _log(record, e, "info", "started")
        _status_changed(changes, record.info.id)

    def _run_cancel_requested(self, e: ev.RunCancelRequested, record: RunRecord,
                              changes: Changes | None) -> None:
        if e.ts is not None:
            record.lifecycle.cancel_requested_at = e.ts
        _log(record, e, "warning", "cancel requested")
        _status_changed(changes, record.info.id)

    def _run_resumed(self, e: ev.RunResumed, record: RunRecord, changes: Changes | None) -> None:
        info, lifecycle = record.info, record.lifecycle
        retry = info.status not in ACTIVE_STATUSES
        info.status = "running"
        info.finished_at = None
        info.error = None
        lifecycle.resumed_count += 1
        lifecycle.retried_count += retry
        lifecycle.cancel_requested_at = None
        if e.ts is not None:
            lifecycle.last_resumed_at = e.ts
        self.index.place(record)
        _log(record, e, "info", f"retried (#{lifecycle.retried_count})" if retry
             else f"resumed (#{lifecycle.resumed_count - lifecycle.retried_count})")
        _status_changed(changes, info.id)

    def _run_finished(self, e: ev.RunFinished, record: RunRecord, changes: Changes | None) -> None:
        record.info.status = e.status
        record.info.error = e.error
        if e.ts is not None:
            record.info.finished_at = e.ts
        self.index.place(record)
        level = {"completed": "info", "canceled": "warning"}.get(e.status, "error")
        _log(record, e, level, e.status + (f": {e.error}" if e.error else ""))
        _status_changed(changes, record.info.id)

    def _feedback_given(self, e: ev.FeedbackGiven, record: RunRecord,
                        changes: Changes | None) -> None:
        record.info.feedback = Feedback(rating=e.rating, comment=e.comment, at=e.ts)
        _log(record, e, "info", f"feedback: {e.rating}" + (f" — {e.comment}" if e.comment else ""))
        _status_changed(changes, record.info.id)

    def _run_log(self, e: ev.RunLog, record: RunRecord, changes: Changes | None) -> None:
        record.logs.append(LogEntry(index=len(record.logs) + 1, kind="log", ts=e.ts,
                                    level=e.level, message=e.message, sequence=e.sequence))

    # -- items ---------------------------------------------------------------------

    def _item_started(self, e: ev.ItemStarted, record: RunRecord, changes: Changes | None) -> None:
        previous = record.items.get(e.sequence)
        item = Item(sequence=e.sequence, state="pending", prompt_text=e.prompt_text,
                    choices=e.choices, started_at=e.ts, activity=Activity(),
                    attempts=(previous.attempts if previous else 0) + 1)
        if previous is not None:
            _count_out(record, previous.state)
            record.usage.count(previous, -1)
        record.items[e.sequence] = item
        _move(record, item, "running", changes)
        record.current = e.sequence

    def _item_delta(self, e: ev.ItemDelta, record: RunRecord, changes: Changes | None) -> None:
        item = record.items.get(e.sequence) or _touch(record, e.sequence, changes)
        activity = item.activity
        if activity is None:
            activity = item.activity = Activity()
        activity.preview = (activity.preview + e.text)[-PREVIEW_CHARS:]
        activity.chunks += 1
        activity.chars += len(e.text)
        if e.ts is not None:
            activity.last_chunk_at = e.ts

    def _item_answered(self, e: ev.ItemAnswered, record: RunRecord,
                       changes: Changes | None) -> None:
        item = record.items.get(e.sequence) or _touch(record, e.sequence, changes)
        record.usage.count(item, -1)  # answered again: the last answer's figures go
        item.response_text = e.response_text
        item.answer = e.answer
        item.latency_ms = e.latency_ms
        item.usage = e.usage
        record.usage.count(item, 1)
        _move(record, item, "awaiting", changes)

    def _item_judged(self, e: ev.ItemJudged, record: RunRecord, changes: Changes | None) -> None:
        item = record.items.get(e.sequence) or _touch(record, e.sequence, changes)
        item.correct = e.correct
        item.expected = e.expected
        item.score = e.score
        item.judge = e.judge
        item.rationale = e.rationale
        if e.ts is not None:
            item.finished_at = e.ts
        _move(record, item, "correct" if e.correct else "incorrect", changes)

    def _item_faulted(self, e: ev.ItemFaulted, record: RunRecord, changes: Changes | None) -> None:
        item = record.items.get(e.sequence) or _touch(record, e.sequence, changes)
        item.error = e.error
        item.canceled = e.canceled
        if e.ts is not None:
            item.finished_at = e.ts
        _move(record, item, "faulted", changes)


def _touch(record: RunRecord, sequence: int, changes: Changes | None) -> Item:
    """An item a writer never announced with ``item_started``: it starts running now."""
    item = record.items[sequence] = Item(sequence=sequence, attempts=1)
    _move(record, item, "running", changes)
    return item


def _count_out(record: RunRecord, state: str) -> None:
    if state != "pending":
        record.counts[state] -= 1


def _move(record: RunRecord, item: Item, state: str, changes: Changes | None) -> None:
    changed = item.state != state
    if changed:
        _count_out(record, item.state)
        record.counts[state] += 1
        item.state = state  # type: ignore[assignment]
    recent = record.recent
    sequence = item.sequence
    if not recent or recent[0] != sequence:
        # A new small tuple, not a list edited in place: tuples of ints leave the cycle
        # collector's tracking, so history does not lengthen its full passes.
        record.recent = (sequence, *(s for s in recent if s != sequence))[:RECENT_ITEMS]
        changed = True
    if changed and changes is not None:
        # The progress message names the recent items too, so a client can show the
        # run's latest items in the server's order.
        changes.progress[record.info.id] = None


def _status_changed(changes: Changes | None, run_id: str) -> None:
    if changes is not None:
        changes.status[run_id] = None


def _log(record: RunRecord, e: ev.RunEvent, level: str, message: str) -> None:
    record.logs.append(LogEntry(index=len(record.logs) + 1, kind=str(e.__struct_config__.tag),
                                ts=e.ts, level=level, message=message))
