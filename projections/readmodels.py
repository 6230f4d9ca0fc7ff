"""All read models together, folded from batches of the log's records in order.

``ReadModels`` is what the server, the CLI and the benchmarks hold. It applies a batch
of records, records the position the batch ends at, and says what changed. It never
reads the log itself: it is handed records and their positions.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from events import schema as ev
from events.decoding import Problem, Record, decode_batch, decode_records
from events.log import LogGap, RecordBatch
from events.position import Position
from projections.problems import ProblemLog, ProblemReport
from projections.queue import RunQueue
from projections.runs import NEEDS_DETAILS, Changes, RunStore
from projections.state import RunRecord

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
    # A run that shed its details, which the next record of the batch needs: the batch
    # was applied up to ``position`` only. Restore the run's details
    # (``RunRecord.restore_details``) and apply the same batch again for the rest.
    needs: RunRecord | None = None


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
        would leave a gap, and raises ``LogGap``. A record of a run that shed its
        details stops the batch just before it (``Applied.needs``).
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
        stopped: tuple[int, str] | None = None
        if not keep_records and batch.lines is not None:
            events = decode_batch(batch.lines)
        if events is not None:
            stopped = self._apply_all(events, batch, problems)
        else:
            for decoded in decode_records(batch):
                if type(decoded) is Problem:
                    problems.append(self._problem(batch.generation, decoded.offset,
                                                  decoded.kind, decoded.message, decoded.excerpt))
                    continue
                record: Record = decoded  # type: ignore[assignment]
                problem = self._apply(record.event, record.end, changes)
                if problem is NEEDS_DETAILS:
                    stopped = record.end, record.event.run_id  # type: ignore[attr-defined]
                    break
                if keep_records:
                    records.append(record)
                if problem is not None:
                    problems.append(self._problem(batch.generation, record.end, *problem))
        if stopped is None:
            self.position = batch.position
            return Applied(self.position, records, changes, problems)
        return self._stopped_at(stopped, batch, records, changes, problems)

    def _stopped_at(self, stopped: tuple[int, str], batch: RecordBatch, records: list[Record],
                    changes: Changes | None, problems: list[ProblemReport]) -> Applied:
        """The ``Applied`` of a batch stopped before its record ending at offset
        ``end``, of run ``run_id``, which shed its details."""
        end, run_id = stopped
        index = bisect_left(batch.ends, end)
        self.position = Position(batch.generation, batch.ends[index - 1] if index
                                 else batch.start)
        return Applied(self.position, records, changes, problems, self.runs.runs[run_id])

    def _apply_all(self, events: list[ev.Event], batch: RecordBatch,
                   problems: list[ProblemReport]) -> tuple[int, str] | None:
        """``_apply`` for each of a replay's ``events``, inlined: this is the hot loop.
        The end and run of the record it stopped before (``NEEDS_DETAILS``), if it did."""
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
            elif problem is NEEDS_DETAILS:
                self.events_applied += applied
                return ends[index], event.run_id  # type: ignore[attr-defined]
            else:  # rare: only then are the lines split
                problems.append(self._problem(batch.generation, batch.ends[index], *problem))
        self.events_applied += applied
        return None

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
