"""All read models together, folded from batches of the log's records in order.

``ReadModels`` is what the server, the CLI and the benchmarks hold. It applies a batch
of records, records the position the batch ends at, and says what changed. It never
reads the log itself: it is handed records and their positions.
"""

from __future__ import annotations

from dataclasses import dataclass

from events import schema as ev
from events.decoding import Problem, Record, decode_batch, decode_records
from events.log import LogGap, RecordBatch
from events.position import Position
from projections.problems import ProblemLog, ProblemReport
from projections.queue import RunQueue
from projections.runs import Changes, RunStore

_QUEUE_EVENTS = (ev.QueueEnqueued, ev.QueueRemoved, ev.QueueDispatched)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one batch did: its records (every line that decoded to an event,
    whether or not the runs accepted it), what changed (not tracked in a replay), and
    the problems it found (also counted in ``ReadModels.problems``)."""

    position: Position
    records: list[Record]
    changes: Changes | None
    problems: list[ProblemReport]


class ReadModels:
    def __init__(self) -> None:
        self.runs = RunStore()
        self.queue = RunQueue()
        self.problems = ProblemLog()
        self.position = Position("0", 0)
        self.events_applied = 0
        self.duplicates_ignored = 0
        self._event_ids: set[str] = set()
        # Queue events go to the queue; everything else to the runs.
        self._folds = dict.fromkeys(_QUEUE_EVENTS, self._apply_to_queue)
        self._apply_to_runs = self.runs.apply

    @property
    def handled_types(self) -> frozenset[type]:
        """Every event type some fold applies; any other is a counted problem."""
        return frozenset(self._folds) | self.runs.handled_types

    def apply_batch(self, batch: RecordBatch, *, keep_records: bool = True) -> Applied:
        """Fold ``batch`` in. ``keep_records`` (the live path) keeps every record and
        its exact position; without it (a replay) a batch that decodes cleanly is folded
        in one go (each event still dated at its own record's end).

        Records that end at or before the current position were applied already (a
        redelivery) and are skipped; a batch that begins after the current position
        would leave a gap, and raises ``LogGap``.
        """
        position = self.position
        if batch.generation != position.generation and position.offset:
            raise LogGap(f"a batch of history {batch.generation} after {position}")
        if batch.start > position.offset:
            raise LogGap(f"a batch beginning after {batch.start} folded at {position}")
        if batch.start < position.offset:
            batch = batch.after(position.offset)
        changes = Changes() if keep_records else None
        records: list[Record] = []
        problems: list[ProblemReport] = []
        events = None
        if not keep_records and batch.lines is not None:
            events = decode_batch(batch.lines)
        if events is not None:
            self._apply_all(events, batch, problems)
        else:
            for decoded in decode_records(batch):
                if type(decoded) is Problem:
                    problems.append(self._problem(batch.generation, decoded.offset,
                                                  decoded.kind, decoded.message, decoded.excerpt))
                    continue
                record: Record = decoded  # type: ignore[assignment]
                if keep_records:
                    records.append(record)
                problem = self._apply(record.event, record.end, changes)
                if problem is not None:
                    problems.append(self._problem(batch.generation, record.end, *problem))
        self.position = batch.position
        return Applied(self.position, records, changes, problems)

    def _apply_all(self, events: list[ev.Event], batch: RecordBatch,
                   problems: list[ProblemReport]) -> None:
        """``_apply`` for each of a replay's ``events``, inlined: this is the hot loop."""
        # Each event is dated at its own record's end (a run keeps these to be read back
        # by time travel); splitting the batch's lines for them costs ~10 % of a replay.
        ends, seen = list(batch.ends), self._event_ids
        fold_of, to_runs = self._folds.get, self.runs.apply
        applied = 0
        for index, event in enumerate(events):
            event_id = event.event_id
            if event_id is not None and event_id in seen:
                self.duplicates_ignored += 1
                continue
            problem = fold_of(type(event), to_runs)(event, ends[index], None)
            if problem is None:
                if event_id is not None:
                    seen.add(event_id)
                applied += 1
            else:  # rare: only then are the lines split
                problems.append(self._problem(batch.generation, batch.ends[index], *problem))
        self.events_applied += applied

    def _apply(self, event: ev.Event, at: int, changes: Changes | None
               ) -> tuple[str, str] | None:
        """Apply one event whose line ends at offset ``at``; a problem if it cannot be."""
        event_id = event.event_id
        if event_id is not None and event_id in self._event_ids:
            self.duplicates_ignored += 1
            return None
        problem = self._folds.get(type(event), self._apply_to_runs)(event, at, changes)
        if problem is None:
            if event_id is not None:
                self._event_ids.add(event_id)
            self.events_applied += 1
        return problem

    def _apply_to_queue(self, event: ev.Event, at: int, changes: Changes | None
                        ) -> tuple[str, str] | None:
        problem = self.queue.apply(event)
        if problem is None:
            self.queue.changed_at = at
            if changes is not None:
                changes.queue = True
        return problem

    def _problem(self, generation: str, offset: int, kind: str, message: str,
                 excerpt: str = "") -> ProblemReport:
        report = ProblemReport(position=str(Position(generation, offset)), kind=kind,
                               message=message, excerpt=excerpt)
        self.problems.record(report)
        return report
