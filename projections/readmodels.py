"""All read models together, folded from chunks of the log in order.

``ReadModels`` is what the server, the CLI and the benchmarks hold. It applies a chunk
of whole lines, records the position the chunk ends at, and says what changed. It
never reads a file itself: it is handed bytes and their offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from events import schema as ev
from events.decoding import Problem, Record, decode_batch, decode_lines, line_starts
from events.position import Position
from events.tailer import Chunk
from projections.problems import ProblemLog, ProblemReport
from projections.queue import RunQueue
from projections.runs import Changes, RunStore

_QUEUE_EVENTS = (ev.QueueEnqueued, ev.QueueRemoved, ev.QueueDispatched)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one chunk did: its records (every line that decoded to an event,
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

    def apply_chunk(self, chunk: Chunk, *, keep_records: bool = True) -> Applied:
        """Fold ``chunk`` in. ``keep_records`` (the live path) keeps every record and
        its exact offsets; without it (a replay) a chunk that decodes cleanly is folded
        in one batch, its changes dated at the chunk's end — later than the truth, so a
        resuming client is sent a little more than it missed, never less."""
        changes = Changes() if keep_records else None
        records: list[Record] = []
        problems: list[ProblemReport] = []
        events = None if keep_records else decode_batch(chunk.data)
        if events is not None:
            for index, event in enumerate(events):
                problem = self._apply(event, chunk.end, changes)
                if problem is not None:
                    offset = line_starts(chunk.data, chunk.start)[index]
                    problems.append(self._problem(chunk.generation, offset, *problem))
        else:
            for decoded in decode_lines(chunk.data, chunk.start):
                if type(decoded) is Problem:
                    problems.append(self._problem(chunk.generation, decoded.offset,
                                                  decoded.kind, decoded.message, decoded.excerpt))
                    continue
                if keep_records:
                    records.append(decoded)  # type: ignore[arg-type]
                problem = self._apply(decoded.event, decoded.end, changes)  # type: ignore[union-attr]
                if problem is not None:
                    problems.append(self._problem(chunk.generation, decoded.start, *problem))  # type: ignore[union-attr]
        self.position = chunk.position
        return Applied(self.position, records, changes, problems)

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
