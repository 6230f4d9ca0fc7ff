"""Time travel: a run as it was at a cursor or a time, from its own events read back
out of the log by position (``EventLog.read_at``), in bounded slices."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from datetime import datetime

import msgspec

from events.decoding import decode_event
from events.log import EventLog
from events.position import Position
from events.schema import AnyEvent, Event
from harness.errors import Invalid
from projections.state import RunRecord
from projections.time_travel import fold_run, positions_until

_decoder = msgspec.json.Decoder(AnyEvent)
READ_SLICE = 4096
"""Positions read back per ``read_at`` call: bounds one call's memory and latency."""


class RecordGone(LookupError):
    """The log holds no event ending at ``offset`` of the history asked for any more:
    it was truncated, replaced or rewritten since the read models noted that position."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"no event ends at offset {offset} of that history any more")
        self.offset = offset


async def events_at(log: EventLog, generation: str, ends: Sequence[int]
                    ) -> AsyncGenerator[tuple[Event, int], None]:
    """The events whose records end at ``ends`` of history ``generation``, in order,
    each with its end; ``RecordGone`` where the log no longer holds one."""
    for start in range(0, len(ends), READ_SLICE):
        chunk = ends[start:start + READ_SLICE]
        raws = await log.read_at([Position(generation, end) for end in chunk])
        for end, raw in zip(chunk, raws, strict=True):
            if raw is None:
                raise RecordGone(end)
            try:
                event = decode_event(raw, _decoder)
            except Exception:  # what was an event there is not one now: rewritten
                raise RecordGone(end) from None
            yield event, end


async def run_as_of(log: EventLog, record: RunRecord, *, generation: str,
                    until: int | None = None, at: datetime | None = None) -> RunRecord | None:
    """``record``'s run after its events up to log offset ``until`` (all if ``None``)
    and no later than time ``at``; ``None`` when it had not been created yet."""
    ends = positions_until(record, until) if until is not None else list(record.positions)
    events: list[tuple[Event, int]] = []
    try:
        # Closed at once when left early, not whenever the collector gets to it.
        async with aclosing(events_at(log, generation, ends)) as read:
            async for event, end in read:
                if at is not None and event.ts is not None and event.ts > at:
                    break
                events.append((event, end))
    except RecordGone:  # the log changed under us since the fold noted this position
        raise Invalid("the log no longer holds this run's history at that point",
                      details={"in": "query", "field": "at"}) from None
    return fold_run(record.info.id, events)
