"""All read models together, folded from chunks of the log in order.

``ReadModels`` is what the server, the CLI and the benchmarks hold. It applies a chunk
of whole lines, records the position the chunk ends at, and says what changed. It
never reads a file itself: it is handed bytes and their offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from events import schema as ev
from events.decoding import Problem, Record, decode_lines
from events.position import Position
from events.tailer import Chunk
from projections.problems import ProblemLog, ProblemReport
from projections.queue import RunQueue
from projections.runs import Changes, RunStore

_QUEUE_EVENTS = (ev.QueueEnqueued, ev.QueueRemoved, ev.QueueDispatched)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one chunk did: its records (every line that decoded to an event,
    whether or not the runs accepted it) and what changed."""

    position: Position
    records: list[Record]
    changes: Changes


class ReadModels:
    def __init__(self) -> None:
        self.runs = RunStore()
        self.queue = RunQueue()
        self.problems = ProblemLog()
        self.position = Position("0", 0)
        self.events_applied = 0
        self.duplicates_ignored = 0
        self._event_ids: set[str] = set()

    def apply_chunk(self, chunk: Chunk, *, keep_records: bool = True) -> Applied:
        changes = Changes()
        records: list[Record] = []
        runs, queue, event_ids = self.runs, self.queue, self._event_ids
        applied = 0
        for decoded in decode_lines(chunk.data, chunk.start):
            if type(decoded) is Problem:
                self._problem(chunk.generation, decoded.offset, decoded.kind, decoded.message,
                              decoded.excerpt)
                continue
            if keep_records:
                records.append(decoded)  # type: ignore[arg-type]
            event = decoded.event  # type: ignore[union-attr]
            event_id = event.event_id
            if event_id is not None and event_id in event_ids:
                self.duplicates_ignored += 1
                continue
            if isinstance(event, _QUEUE_EVENTS):
                problem = queue.apply(event)
                changes.queue = True
            else:
                problem = runs.apply(event, decoded.end, changes)  # type: ignore[union-attr]
            if problem is not None:
                self._problem(chunk.generation, decoded.start, *problem)  # type: ignore[union-attr]
                continue
            if event_id is not None:
                event_ids.add(event_id)
            applied += 1
        self.events_applied += applied
        self.position = chunk.position
        return Applied(self.position, records, changes)

    def _problem(self, generation: str, offset: int, kind: str, message: str,
                 excerpt: str = "") -> None:
        position = str(Position(generation, offset))
        self.problems.record(ProblemReport(position=position, kind=kind, message=message,
                                           excerpt=excerpt))
