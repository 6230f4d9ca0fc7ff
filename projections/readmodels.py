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
        """Fold ``chunk`` in. ``keep_records`` (the live path) keeps every record and
        its exact offsets; without it (a replay) a chunk that decodes cleanly is folded
        in one batch, its changes dated at the chunk's end — later than the truth, so a
        resuming client is sent a little more than it missed, never less."""
        if not keep_records:
            events = decode_batch(chunk.data)
            if events is not None:
                return self._apply_events(chunk, events)
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
                if problem is None:
                    queue.changed_at = decoded.end  # type: ignore[union-attr]
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

    def _apply_events(self, chunk: Chunk, events: list[ev.Event]) -> Applied:
        changes = Changes()
        apply, event_ids, at = self.runs.apply, self._event_ids, chunk.end
        applied = 0
        for index, event in enumerate(events):
            event_id = event.event_id
            if event_id is not None:
                if event_id in event_ids:
                    self.duplicates_ignored += 1
                    continue
            if isinstance(event, _QUEUE_EVENTS):
                problem = self.queue.apply(event)
                if problem is None:
                    self.queue.changed_at = at
                    changes.queue = True
            else:
                problem = apply(event, at, changes)
            if problem is not None:
                offset = line_starts(chunk.data, chunk.start)[index]
                self._problem(chunk.generation, offset, *problem)
                continue
            if event_id is not None:
                event_ids.add(event_id)
            applied += 1
        self.events_applied += applied
        self.position = chunk.position
        return Applied(self.position, [], changes)

    def _problem(self, generation: str, offset: int, kind: str, message: str,
                 excerpt: str = "") -> None:
        position = str(Position(generation, offset))
        self.problems.record(ProblemReport(position=position, kind=kind, message=message,
                                           excerpt=excerpt))
